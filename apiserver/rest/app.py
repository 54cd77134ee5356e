"""The Kubernetes HTTP/JSON API (``--rest-listen``), the apiserver's second
front door beside gRPC: the same resources, registry verbs, validation,
storage and watch cache, so kubectl and Kubernetes' client libraries work.

Every request goes through ``_serve``: parse the URL (paths.py), find the
resource, run the verb (handlers.py), answer JSON. An ``ApiError`` becomes
its HTTP code with a ``Status`` body, as kube-apiserver answers; anything
else is a 500 InternalError, logged. Authentication and authorization will
run at one place before the verb for both front doors (issue 13).

Watches (``?watch=1``) stream newline-delimited JSON events (``{"type":
"ADDED", "object": {...}}``) until ``timeoutSeconds`` or the client goes;
BOOKMARK events carry only the resourceVersion; a resourceVersion older
than the cache's window is an ERROR event with a 410 Expired Status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from google.protobuf.message import Message

from apiserver.auth import Authenticator, Credentials, UserInfo, current_user
from apiserver.auth.attributes import Attributes
from apiserver.auth.authz import INTERNAL_USER, Authorizer, authorize
from apiserver.auth.impersonation import impersonate
from apiserver.auth.tls import rest_ssl_context
from apiserver.etcdhealth import EtcdHealth
from apiserver.failures import api_error
from apiserver.metrics import REQUEST_LATENCY, REQUESTS
from apiserver.registry.resource import Resource
from apiserver.registry.verbs import Verbs
from apiserver.registry.watching import open_watch
from apiserver.rest import discovery, openapi, pods
from apiserver.rest.handlers import Handlers, decode_body, object_dict
from apiserver.rest.negotiation import media_type, representation
from apiserver.rest.paths import RequestInfo, request_info
from apiserver.storage.watchcache import BOOKMARK
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec, errors, printers
from pinnace.machinery.codec import CodecError
from pinnace.machinery.objects import object_meta
from pinnace.machinery.printers import partial_object_metadata, partial_object_metadata_list

__all__ = ["RestServer", "SubresourceHandler"]

log = logging.getLogger(__name__)

JSON = "application/json"
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
MAX_BODY = 3 * 1024 * 1024
VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-pinnace.0.1.0",
    "gitCommit": "",
    "gitTreeState": "clean",
    "buildDate": "2026-12-01T00:00:00Z",
    "goVersion": "python",
    "compiler": "cpython",
    "platform": "linux/amd64",
}


# Serves one request to a subresource: (request, resource, what the URL names, query).
SubresourceHandler = Callable[
    [web.Request, Resource, RequestInfo, dict[str, str]], Awaitable[web.StreamResponse]
]


def _json(body: Any, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        status=status,
        headers={"Content-Type": content_type},
    )


def _status_body(err: errors.ApiError) -> dict[str, Any]:
    body = codec.to_dict(err.status)
    body["apiVersion"], body["kind"] = "v1", "Status"
    body.setdefault("metadata", {})
    return body


def _error(err: errors.ApiError) -> web.Response:
    return _json(_status_body(err), status=err.http_code)


def _dry_run(query: dict[str, str]) -> bool:
    value = query.get("dryRun", "")
    if value and value != "All":
        raise errors.BadRequest(f'unsupported dryRun value "{value}": only "All" is supported')
    return value == "All"


def _delete_options(
    query: dict[str, str], body: bytes, content_type: str
) -> meta_pb2.DeleteOptions:
    data: dict[str, Any] = {}
    if body.strip():
        data = decode_body(body, content_type)
        data.pop("apiVersion", None)
        data.pop("kind", None)
    if "gracePeriodSeconds" in query:
        try:
            data["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
        except ValueError:
            raise errors.BadRequest(
                f'invalid gracePeriodSeconds "{query["gracePeriodSeconds"]}"'
            ) from None
    if "propagationPolicy" in query:
        data["propagationPolicy"] = query["propagationPolicy"]
    if "dryRun" in query:
        data["dryRun"] = [query["dryRun"]]
    try:
        return codec.from_dict(meta_pb2.DeleteOptions, data)
    except CodecError as e:
        raise errors.BadRequest(f"invalid DeleteOptions: {e}") from None


# The reviews a caller asks about itself: path -> (group, resource).
# SelfSubjectReview: who the server takes the caller for (kubectl auth whoami);
# SelfSubjectAccessReview: may the caller do this (kubectl auth can-i).
REVIEWS = {
    "/apis/authentication.k8s.io/v1/selfsubjectreviews": (
        "authentication.k8s.io",
        "selfsubjectreviews",
    ),
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews": (
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
    ),
}
# Subresources that run something in a pod or connect to it.
CONNECT_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})
# Verbs over a collection: their field selector is part of what is authorized.
COLLECTION_VERBS = frozenset({"list", "watch", "deletecollection"})


def self_subject_review(user: UserInfo | None) -> dict[str, Any]:
    """The SelfSubjectReview answer (``kubectl auth whoami``) for ``user``."""
    info: dict[str, Any] = {"username": user.name if user else ""}
    if user is not None and user.uid:
        info["uid"] = user.uid
    if user is not None and user.groups:
        info["groups"] = list(user.groups)
    return {
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "status": {"userInfo": info},
    }


def self_subject_access_review(
    authorizer: Authorizer, user: UserInfo, body: dict[str, Any]
) -> dict[str, Any]:
    """The SelfSubjectAccessReview answer (``kubectl auth can-i``): whether
    ``user`` may do what the body's spec names."""
    spec = body.get("spec")
    if not isinstance(spec, dict):
        raise errors.BadRequest("spec: Required value: a SelfSubjectAccessReview needs a spec")
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    if bool(resource) == bool(non_resource) or not isinstance(resource or non_resource, dict):
        raise errors.BadRequest(
            "spec: Invalid value: exactly one of resourceAttributes and "
            "nonResourceAttributes must be given, as an object"
        )
    if resource:
        attrs = Attributes(
            user,
            str(resource.get("verb", "")),
            api_group=str(resource.get("group", "")),
            resource=str(resource.get("resource", "")),
            subresource=str(resource.get("subresource", "")),
            namespace=str(resource.get("namespace", "")),
            name=str(resource.get("name", "")),
        )
    else:
        assert isinstance(non_resource, dict)
        attrs = Attributes(
            user, str(non_resource.get("verb", "")), path=str(non_resource.get("path", ""))
        )
    allowed, reason = authorizer.authorize(attrs)
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


def http_credentials(request: web.Request) -> Credentials:
    """The verified client certificate and the Authorization header of a request."""
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    cert = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return Credentials(cert=cert or None, authorization=request.headers.get("Authorization"))


class RestServer:
    """The HTTP(S) front door over the apiserver's resources and verbs."""

    def __init__(
        self,
        resources: dict[str, Resource],
        verbs: Verbs,
        authn: Authenticator,
        authorizer: Authorizer,
        kubelet_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.resources = resources
        self.authn = authn
        self.authorizer = authorizer
        self.kubelet_tls = kubelet_tls
        # Set by the apiserver once it watches etcd (readiness).
        self.etcd_health: EtcdHealth | None = None
        self.handlers = Handlers(verbs)
        self.verbs = verbs
        self._by_path = {
            (r.info.group, r.info.version, r.info.plural): r for r in resources.values()
        }
        # (resource plural, subresource) → handler of the request, for the
        # subresources served apart from the generic verbs (pods/log, ...).
        self.subresources: dict[tuple[str, str], SubresourceHandler] = {}
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_route("*", "/{tail:.*}", self._serve)
        pods.register(self)

    async def start(
        self,
        listen: str,
        *,
        cert_file: str = "",
        key_file: str = "",
        client_ca_file: str = "",
        plain_http: bool = False,
    ) -> int:
        host, _, port = listen.rpartition(":")
        context = None
        if not plain_http:
            if not cert_file or not key_file:
                raise ValueError(
                    "--rest-listen needs --tls-cert-file and --tls-private-key-file "
                    "(or --rest-plain-http to serve plain HTTP)"
                )
            context = rest_ssl_context(cert_file, key_file, client_ca_file)
        self.runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(
            self.runner, host.strip("[]") or "127.0.0.1", int(port), ssl_context=context
        )
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else int(port)
        log.info("serving the Kubernetes HTTP API on %s:%d (%s)", host, self.port,
                 "plain HTTP" if plain_http else "HTTPS")  # fmt: skip
        return self.port

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    # ---- dispatch --------------------------------------------------------------------

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        start = time.perf_counter()
        verb, resource, code = request.method.lower(), "", "200"
        try:
            user = self.authn.authenticate(http_credentials(request))
            as_user = request.headers.get("Impersonate-User", "")
            as_groups = request.headers.getall("Impersonate-Group", [])
            current_user.set(impersonate(self.authorizer, user, as_user, as_groups))
            response = await self._route(request)
            code = str(response.status)
            return response
        except errors.ApiError as e:
            code = str(e.http_code)
            return _error(e)
        except web.HTTPRequestEntityTooLarge:
            code = "413"
            return _error(errors.TooLarge(f"the request body is larger than {MAX_BODY} bytes"))
        except asyncio.CancelledError:
            code = "cancelled"
            raise
        except Exception as e:
            err = api_error(e, f"{request.method} {request.path}")
            code = str(err.http_code)
            return _error(err)
        finally:
            REQUESTS.labels(f"rest-{verb}", resource, code).inc()
            REQUEST_LATENCY.labels(f"rest-{verb}", resource).observe(time.perf_counter() - start)

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        user = current_user.get() or INTERNAL_USER
        review = REVIEWS.get(path) if request.method == "POST" else None
        if review is not None:
            group, resource = review
            self._authorize(Attributes(user, "create", api_group=group, resource=resource))
            if resource == "selfsubjectreviews":
                return _json(self_subject_review(user), status=201)
            body = decode_body(await request.read(), request.headers.get("Content-Type", JSON))
            return _json(self_subject_access_review(self.authorizer, user, body), status=201)
        if request.method == "GET":
            static = self._static(path, request)
            if static is not None:
                self._authorize(Attributes(user, "get", path=path))
                return static
        query = {k: v for k, v in request.query.items()}
        watch = query.get("watch", "") in ("1", "true")
        ri = request_info(request.method, path, watch=watch)
        if ri is None:
            raise errors.NotFound(f'the server could not find the requested resource ("{path}")')
        res = self._by_path.get((ri.group, ri.version, ri.resource))
        if res is None:
            raise errors.NotFound("the server could not find the requested resource")
        if not res.info.namespaced:
            ri = RequestInfo(
                ri.verb, ri.group, ri.version, ri.resource, "", ri.name, ri.subresource
            )
        # A command or a connection into a pod is a create, whatever the method
        # (kube-apiserver checks create on pods/exec for WebSocket GETs too).
        verb = "create" if ri.subresource in CONNECT_SUBRESOURCES else ri.verb
        selector = query.get("fieldSelector", "") if verb in COLLECTION_VERBS else ""
        self._authorize(
            Attributes(
                user,
                verb,
                res.info.group,
                res.info.plural,
                ri.subresource,
                ri.namespace,
                ri.name,
                field_selector=selector,
            )
        )
        return await self._verb(request, res, ri, query)

    def _authorize(self, attrs: Attributes) -> None:
        authorize(self.authorizer, attrs)

    def _health(self, path: str) -> web.Response:
        """``/livez`` is ok while the process serves; ``/readyz`` and
        ``/healthz`` (and their ``/etcd`` check) fail while etcd does not
        answer, worded as kube-apiserver words it."""
        check = path.strip("/").partition("/")
        etcd_down = self.etcd_health is not None and not self.etcd_health.healthy
        if check[0] == "livez" or not etcd_down or check[2] not in ("", "etcd"):
            return web.Response(text="ok", content_type="text/plain")
        text = f"[+]ping ok\n[-]etcd failed: reason withheld\n{check[0]} check failed\n"
        return web.Response(status=503, text=text, content_type="text/plain")

    def _static(self, path: str, request: web.Request) -> web.Response | None:
        accept = request.headers.get("Accept", "")
        if path in ("/healthz", "/livez", "/readyz") or path.startswith(
            ("/healthz/", "/livez/", "/readyz/")
        ):
            return self._health(path)
        if path == "/version":
            return _json(VERSION_INFO)
        if path == "/openapi/v2" or path.startswith("/openapi/v3"):
            return _openapi(path, accept)
        if path == "/api":
            if discovery.wants_aggregated(accept):
                return _json(
                    discovery.aggregated(legacy=True), content_type=discovery.AGGREGATED_TYPE
                )
            return _json(discovery.api_versions(request.host))
        if path == "/apis":
            if discovery.wants_aggregated(accept):
                return _json(
                    discovery.aggregated(legacy=False), content_type=discovery.AGGREGATED_TYPE
                )
            return _json(discovery.api_group_list())
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            found = discovery.resource_list("", parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            found = discovery.resource_list(parts[1], parts[2])
        elif parts[0] == "apis" and len(parts) == 2:
            groups = [g for g in discovery.api_group_list()["groups"] if g["name"] == parts[1]]
            found = {"kind": "APIGroup", "apiVersion": "v1", **groups[0]} if groups else None
        else:
            return None
        if found is None:
            raise errors.NotFound("the server could not find the requested resource")
        return _json(found)

    async def _verb(
        self, request: web.Request, res: Resource, ri: RequestInfo, query: dict[str, str]
    ) -> web.StreamResponse:
        special = self.subresources.get((ri.resource, ri.subresource)) if ri.subresource else None
        if special is not None:
            return await special(request, res, ri, query)
        h = self.handlers
        rep = representation(request.headers.get("Accept", ""))
        if ri.verb == "get":
            if rep == "object" or ri.subresource not in ("", "status"):
                return _json(await h.get(res, ri))
            obj = (await self.verbs.get(res, ri.namespace, ri.name)).obj
            if rep == "partial":
                return _json(
                    partial_object_metadata(obj), content_type=media_type(rep, is_list=False)
                )
            rv = meta_pb2.ListMeta(resource_version=object_meta(obj).resource_version)
            return _json(
                self._table(res, [obj], query, rv), content_type=media_type(rep, is_list=False)
            )
        if ri.verb == "list":
            if rep == "object":  # each item's JSON from the encoder, joined
                raws, list_meta = await h.list_raw(res, ri, query)
                body = h.encoder.list_body(res.info, raws, list_meta)
                return web.Response(body=body, headers={"Content-Type": JSON})
            items, lm = await h.list_items(res, ri, query)
            if rep == "partial":
                partial = partial_object_metadata_list(items, lm)
                return _json(partial, content_type=media_type(rep, is_list=True))
            # A Table of many objects takes seconds: off the event loop.
            table = await asyncio.to_thread(self._table, res, items, query, lm)
            return _json(table, content_type=media_type(rep, is_list=True))
        if ri.verb == "watch":
            return await self._watch(request, res, ri, query)
        body = await request.read()
        content_type = request.headers.get("Content-Type", JSON)
        # fieldManager / User-Agent: whom server-side apply records a write under.
        agent = request.headers.get("User-Agent", "")
        dry_run = _dry_run(query)
        if ri.verb == "create":
            code, out = await h.create(
                res,
                ri,
                decode_body(body, content_type),
                dry_run=dry_run,
                query=query,
                user_agent=agent,
            )
            return _json(out, status=code)
        if ri.verb == "update":
            data = decode_body(body, content_type)
            return _json(
                await h.update(res, ri, data, dry_run=dry_run, query=query, user_agent=agent)
            )
        if ri.verb == "patch":
            code, patched = await h.patch(
                res, ri, body, content_type, dry_run=dry_run, query=query, user_agent=agent
            )
            return _json(patched, status=code)
        if ri.verb == "delete":
            return _json(await h.delete(res, ri, _delete_options(query, body, content_type)))
        if ri.verb == "deletecollection":
            return _json(
                await h.delete_collection(
                    res, ri, query, _delete_options(query, body, content_type)
                )
            )
        raise errors.MethodNotAllowed(
            "the server does not allow this method on the requested resource"
        )

    def _table(
        self,
        res: Resource,
        objects: list[Message],
        query: dict[str, str],
        list_meta: meta_pb2.ListMeta | None,
        *,
        no_headers: bool = False,
    ) -> dict[str, Any]:
        """A meta.k8s.io/v1 Table of ``objects`` (includeObject: Metadata by default)."""
        try:
            return printers.table(
                res.info.kind,
                objects,
                now=datetime.now(UTC),
                include_object=query.get("includeObject", "Metadata"),
                list_meta=list_meta,
                no_headers=no_headers,
                encode_object=lambda o: object_dict(res, o),
            )
        except printers.IncludeObjectError as e:
            raise errors.BadRequest(str(e)) from None

    # ---- watch -----------------------------------------------------------------------

    async def _watch(
        self, request: web.Request, res: Resource, ri: RequestInfo, query: dict[str, str]
    ) -> web.StreamResponse:
        flt = self.verbs.make_filter(
            res, ri.namespace, query.get("labelSelector", ""), query.get("fieldSelector", "")
        )
        if ri.name:  # a watch of one object (GET .../name?watch=1, deprecated but served)
            flt = self.verbs.make_filter(
                res, ri.namespace, query.get("labelSelector", ""),
                ",".join(f for f in (query.get("fieldSelector", ""), f"metadata.name={ri.name}") if f),
            )  # fmt: skip
        timeout = _timeout_seconds(query)
        bookmarks = query.get("allowWatchBookmarks", "") in ("1", "true")
        # sendInitialEvents (WatchList): the current state as ADDED events,
        # then a bookmark annotated "k8s.io/initial-events-end".
        initial = query.get("sendInitialEvents", "") == "true"
        if initial and not bookmarks:
            raise errors.Invalid(
                "sendInitialEvents requires allowWatchBookmarks=true",
                kind=res.info.kind,
            )
        since = "" if initial else query.get("resourceVersion", "")
        response = web.StreamResponse(
            status=200, headers={"Content-Type": JSON, "Transfer-Encoding": "chunked"}
        )
        try:
            watcher = await open_watch(res, flt, since, bookmarks=bookmarks)
        except errors.Expired as e:
            await response.prepare(request)
            await response.write(_line({"type": "ERROR", "object": _status_body(e)}))
            await response.write_eof()
            return response
        await response.prepare(request)
        cls = res.info.message_class
        table = representation(request.headers.get("Accept", "")) == "table"
        first = True
        try:
            async with asyncio.timeout(timeout):
                while True:
                    ev = await watcher.queue.get()
                    if ev is None:
                        break
                    if ev.type == BOOKMARK:
                        bookmark_meta: dict[str, Any] = {"resourceVersion": str(ev.rv)}
                        if initial:  # the first bookmark ends the initial events
                            bookmark_meta["annotations"] = {INITIAL_EVENTS_END: "true"}
                            initial = False
                        obj = {
                            "kind": res.info.kind,
                            "apiVersion": res.info.api_version,
                            "metadata": bookmark_meta,
                        }
                    elif table:  # kubectl get -w: each event a one-row Table
                        msg = cls.FromString(ev.obj.raw)
                        obj = self._table(res, [msg], query, None, no_headers=not first)
                        first = False
                    else:  # the object's JSON, encoded once for every watcher
                        line = self.handlers.encoder.watch_line(res.info, ev.type, ev.obj.raw)
                        await response.write(line)
                        continue
                    await response.write(_line({"type": ev.type, "object": obj}))
        except (TimeoutError, ConnectionResetError):
            pass
        finally:
            res.cache.unwatch(watcher)
        return response


def _openapi(path: str, accept: str) -> web.Response:
    """The OpenAPI documents (openapi.py): v2 as JSON (a protobuf-only Accept
    is 406; kubectl then reads v3), the v3 index and one document per group
    version, cacheable for good under its hash as kube-apiserver serves them."""
    if path == "/openapi/v2":
        if "json" not in accept and accept not in ("", "*/*"):
            raise errors.NotAcceptable(
                "only application/json is served for /openapi/v2; read /openapi/v3"
            )
        return web.Response(body=openapi.v2_json(), headers={"Content-Type": JSON})
    if path == "/openapi/v3":
        return web.Response(body=openapi.v3_index_json(), headers={"Content-Type": JSON})
    group_version = path.removeprefix("/openapi/v3/")
    try:
        body = openapi.v3_json(group_version)
    except KeyError:
        raise errors.NotFound(f'no OpenAPI document for "{group_version}"') from None
    etag = openapi.v3_hash(group_version)
    return web.Response(
        body=body,
        headers={
            "Content-Type": JSON,
            "ETag": f'"{etag}"',
            "Cache-Control": "public, immutable",
        },
    )


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _timeout_seconds(query: dict[str, str]) -> float | None:
    raw = query.get("timeoutSeconds", "")
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequest(f'invalid timeoutSeconds "{raw}"') from None
    return float(value) if value > 0 else None
