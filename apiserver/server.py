"""The gRPC API service: decodes requests, calls the generic verbs, encodes answers.

Every handler turns an ``ApiError`` into its gRPC status code with the
Kubernetes Status in the trailing metadata, and any other exception into
INTERNAL (logged with its traceback); a bad request never stops the server.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError, Message

from apiserver.auth import Authenticator, Credentials, current_user
from apiserver.auth.attributes import Attributes
from apiserver.auth.authz import INTERNAL_USER, Authorizer, authorize
from apiserver.auth.impersonation import impersonate
from apiserver.failures import api_error
from apiserver.metrics import REQUESTS, WATCHERS, request_latency, requests_counter
from apiserver.registry.resource import Resource
from apiserver.registry.verbs import Verbs
from apiserver.registry.watching import open_watch
from apiserver.storage.watchcache import BOOKMARK, CacheEvent
from apiserver.wire import list_response
from pinnace.api.autoscaling.v1 import scale_pb2
from pinnace.api.core.v1 import binding_pb2
from pinnace.api.service.v1 import api_pb2
from pinnace.machinery import errors, kinds
from pinnace.machinery.objects import M, object_meta

log = logging.getLogger(__name__)

SERVICE = "pinnace.api.service.v1.Api"
VERSION = "pinnace-0.1.0 (Kubernetes API v1.32 semantics)"


# What a unary handler answers: a message, or bytes already encoded (List).
R = TypeVar("R", bound=Message | bytes)


def _handler(
    verb: str,
) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """Map ApiError to gRPC status; count and time every call."""

    def wrap(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(fn)
        async def run(self: ApiService, request: Message, context: grpc.aio.ServicerContext) -> R:
            resource = getattr(request, "resource", "")
            start = time.perf_counter()
            code = "OK"
            try:
                return await fn(self, request, context)
            except errors.ApiError as e:
                code = e.grpc_code.name
                await context.abort(e.grpc_code, e.message, trailing_metadata=e.trailing_metadata())
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except Exception as e:
                err = api_error(e, f"{verb} {resource}")
                code = err.grpc_code.name
                await context.abort(
                    err.grpc_code, err.message, trailing_metadata=err.trailing_metadata()
                )
            finally:
                requests_counter(verb, resource, code).inc()
                request_latency(verb, resource).observe(time.perf_counter() - start)
            raise AssertionError("unreachable")

        return run

    return wrap


def pack(obj: Message) -> any_pb2.Any:
    return any_pb2.Any(
        type_url=f"type.googleapis.com/{obj.DESCRIPTOR.full_name}", value=obj.SerializeToString()
    )


class ApiService:
    """Implements pinnace.api.service.v1.Api over the resources."""

    def __init__(
        self, resources: dict[str, Resource], verbs: Verbs, authorizer: Authorizer
    ) -> None:
        self._resources = resources
        self._verbs = verbs
        self.authorizer = authorizer

    # ---- decoding ----------------------------------------------------------

    def resource(self, name: str) -> Resource:
        if not name:
            raise errors.BadRequest('resource is required (e.g. "pods" or "deployments.apps")')
        try:
            return self._resources[kinds.by_resource(name).resource]
        except kinds.UnknownKindError as e:
            raise errors.NotFound(str(e)) from None

    def authorized(
        self,
        verb: str,
        name: str,
        namespace: str = "",
        obj_name: str = "",
        subresource: str = "",
        field_selector: str = "",
    ) -> Resource:
        """The resource ``name`` names, once the caller may ``verb`` it
        (Forbidden, in Kubernetes' words, if not)."""
        res = self.resource(name)
        authorize(
            self.authorizer,
            Attributes(
                user=current_user.get() or INTERNAL_USER,
                verb=verb,
                api_group=res.info.group,
                resource=res.info.plural,
                subresource=subresource,
                namespace=namespace if res.info.namespaced else "",
                name=obj_name,
                field_selector=field_selector,
            ),
        )
        return res

    @staticmethod
    def unpack(res: Resource, packed: any_pb2.Any, cls: type[M]) -> M:
        """The object in ``packed``, which must be a ``cls`` (else BadRequest)."""
        want = cls.DESCRIPTOR.full_name
        if not packed.type_url:
            raise errors.BadRequest("object is required")
        got = packed.type_url.rpartition("/")[2]
        if got != want:
            raise errors.BadRequest(
                f"the object is a {got or 'nothing'}, but {res.qualified} takes {want}"
            )
        try:
            return cls.FromString(packed.value)
        except DecodeError as e:
            # Every kind's message is named as the kind (the kinds table).
            raise errors.BadRequest(f"malformed {cls.DESCRIPTOR.name} object: {e}") from None

    # ---- verbs ---------------------------------------------------------------

    @_handler("create")
    async def Create(
        self, req: api_pb2.CreateRequest, context: grpc.aio.ServicerContext
    ) -> api_pb2.ObjectResponse:
        res = self.authorized(
            "create", req.resource, req.namespace, req.name if req.subresource else "",
            req.subresource,
        )  # fmt: skip
        if req.subresource == "binding":
            if res.info.kind != "Pod":
                raise errors.NotFound(f"{res.qualified} has no binding subresource")
            binding = self.unpack(res, req.object, binding_pb2.Binding)
            name = req.name or binding.metadata.name
            pod = await self._verbs.bind(res, req.namespace, name, binding)
            return api_pb2.ObjectResponse(object=pack(pod))
        if req.subresource:
            raise errors.NotFound(
                f'{res.qualified} has no "{req.subresource}" subresource for create'
            )
        obj = self.unpack(res, req.object, res.info.message_class)
        created = await self._verbs.create(res, req.namespace, obj, dry_run=req.dry_run)
        return api_pb2.ObjectResponse(object=pack(created))

    @_handler("get")
    async def Get(
        self, req: api_pb2.GetRequest, context: grpc.aio.ServicerContext
    ) -> api_pb2.ObjectResponse:
        res = self.authorized("get", req.resource, req.namespace, req.name, req.subresource)
        if req.subresource == "scale":
            return api_pb2.ObjectResponse(
                object=pack(await self._verbs.get_scale(res, req.namespace, req.name))
            )
        if req.subresource not in ("", "status"):
            raise errors.NotFound(f'{res.qualified} has no "{req.subresource}" subresource')
        stored = await self._verbs.get(res, req.namespace, req.name)
        return api_pb2.ObjectResponse(object=pack(stored.obj))

    @_handler("list")
    async def List(self, req: api_pb2.ListRequest, context: grpc.aio.ServicerContext) -> bytes:
        """The list, encoded straight from the cached wire bytes (wire.py)."""
        res = self.authorized(
            "list", req.resource, req.namespace, field_selector=req.field_selector
        )
        flt = self._verbs.make_filter(res, req.namespace, req.label_selector, req.field_selector)
        raws, lm = await self._verbs.list(
            res,
            flt,
            limit=req.limit,
            continue_token=req.continue_token,
            resource_version=req.resource_version,
        )
        return list_response(lm, res.info.type_url, raws)

    @_handler("update")
    async def Update(
        self, req: api_pb2.UpdateRequest, context: grpc.aio.ServicerContext
    ) -> api_pb2.ObjectResponse:
        res = self.resource(req.resource)
        if req.subresource == "scale":
            scale = self.unpack(res, req.object, scale_pb2.Scale)
            name = scale.metadata.name
            self.authorized("update", req.resource, req.namespace, name, req.subresource)
            out = await self._verbs.update_scale(res, req.namespace, scale, dry_run=req.dry_run)
            return api_pb2.ObjectResponse(object=pack(out))
        obj = self.unpack(res, req.object, res.info.message_class)
        name = object_meta(obj).name
        self.authorized("update", req.resource, req.namespace, name, req.subresource)
        updated = await self._verbs.update(
            res, req.namespace, obj, subresource=req.subresource, dry_run=req.dry_run
        )
        return api_pb2.ObjectResponse(object=pack(updated))

    @_handler("patch")
    async def Patch(
        self, req: api_pb2.PatchRequest, context: grpc.aio.ServicerContext
    ) -> api_pb2.ObjectResponse:
        res = self.authorized("patch", req.resource, req.namespace, req.name, req.subresource)
        if req.subresource == "scale":
            raise errors.MethodNotAllowed(
                "patch of the scale subresource is not supported; update it"
            )
        obj = await self._verbs.patch(
            res,
            req.namespace,
            req.name,
            req.patch_type or "merge",
            req.patch,
            subresource=req.subresource,
            dry_run=req.dry_run,
        )
        return api_pb2.ObjectResponse(object=pack(obj))

    @_handler("delete")
    async def Delete(
        self, req: api_pb2.DeleteRequest, context: grpc.aio.ServicerContext
    ) -> api_pb2.DeleteResponse:
        res = self.authorized("delete", req.resource, req.namespace, req.name)
        result = await self._verbs.delete(res, req.namespace, req.name, req.options)
        return api_pb2.DeleteResponse(object=pack(result.obj), finished=result.finished)

    @_handler("deletecollection")
    async def DeleteCollection(
        self, req: api_pb2.DeleteCollectionRequest, context: grpc.aio.ServicerContext
    ) -> api_pb2.ListResponse:
        res = self.authorized(
            "deletecollection", req.resource, req.namespace, field_selector=req.field_selector
        )
        flt = self._verbs.make_filter(res, req.namespace, req.label_selector, req.field_selector)
        deleted = await self._verbs.delete_collection(res, flt, req.options)
        return api_pb2.ListResponse(items=[pack(o) for o in deleted])

    @_handler("discovery")
    async def Discovery(
        self, req: api_pb2.DiscoveryRequest, context: grpc.aio.ServicerContext
    ) -> api_pb2.DiscoveryResponse:
        user = current_user.get() or INTERNAL_USER
        authorize(self.authorizer, Attributes(user=user, verb="get", path="/apis"))
        out = api_pb2.DiscoveryResponse(server_version=VERSION)
        for info in kinds.KINDS:
            verbs = [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
            out.resources.add(
                name=info.plural,
                singular_name=info.singular,
                namespaced=info.namespaced,
                group=info.group,
                version=info.version,
                kind=info.kind,
                verbs=verbs,
                short_names=info.short_names,
                subresources=info.subresources,
            )
        return out

    async def Watch(
        self, req: api_pb2.WatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        """Stream events; yields pre-serialized WatchEvent bytes (the method is
        registered without a response serializer), so an event is encoded once
        however many watchers receive it."""
        try:
            res = self.authorized(
                "watch", req.resource, req.namespace, field_selector=req.field_selector
            )
            flt = self._verbs.make_filter(
                res, req.namespace, req.label_selector, req.field_selector
            )
            watcher = await open_watch(
                res, flt, req.resource_version, bookmarks=req.allow_bookmarks
            )
        except errors.ApiError as e:
            REQUESTS.labels("watch", req.resource, e.grpc_code.name).inc()
            await context.abort(e.grpc_code, e.message, trailing_metadata=e.trailing_metadata())
            return
        REQUESTS.labels("watch", req.resource, "OK").inc()
        gauge = WATCHERS.labels(res.info.resource)
        gauge.inc()
        url = res.info.type_url
        try:
            while True:
                ev = await watcher.queue.get()
                if ev is None:
                    return  # closed: the client resumes from its last resourceVersion
                yield _wire(ev, url)
        finally:
            gauge.dec()
            res.cache.unwatch(watcher)


def _wire(ev: CacheEvent, type_url: str) -> bytes:
    if ev.type == BOOKMARK:
        return api_pb2.WatchEvent(type=BOOKMARK, resource_version=str(ev.rv)).SerializeToString()
    return api_pb2.WatchEvent(
        type=ev.type,
        object=any_pb2.Any(type_url=type_url, value=ev.obj.raw),
        resource_version=str(ev.rv),
    ).SerializeToString()


def _serialize(response: Message | bytes) -> bytes:
    """Responses are messages, or bytes already encoded (List)."""
    return response if isinstance(response, bytes) else response.SerializeToString()


def generic_handler(service: ApiService, authn: Authenticator) -> grpc.GenericRpcHandler:
    """The method table of the Api service; Watch streams raw bytes. Every
    call is authenticated first (``authn``), its user set as current_user."""
    unary = {
        "Create": api_pb2.CreateRequest,
        "Get": api_pb2.GetRequest,
        "List": api_pb2.ListRequest,
        "Update": api_pb2.UpdateRequest,
        "Patch": api_pb2.PatchRequest,
        "Delete": api_pb2.DeleteRequest,
        "DeleteCollection": api_pb2.DeleteCollectionRequest,
        "Discovery": api_pb2.DiscoveryRequest,
    }
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            _parsed(getattr(service, name), req, authn, service.authorizer),
            response_serializer=_serialize,
        )
        for name, req in unary.items()
    }
    handlers["Watch"] = grpc.unary_stream_rpc_method_handler(
        _parsed_stream(service.Watch, api_pb2.WatchRequest, authn, service.authorizer),
        response_serializer=None,
    )
    return grpc.method_handlers_generic_handler(SERVICE, handlers)


# Requests are parsed inside the handlers rather than by gRPC's deserializer,
# which would answer a malformed request with UNKNOWN: it is a bad request.


async def _parse(
    raw: bytes, request_class: type[Message], context: grpc.aio.ServicerContext
) -> Message:
    try:
        return request_class.FromString(raw)
    except DecodeError as e:
        err = errors.BadRequest(f"malformed {request_class.DESCRIPTOR.name}: {e}")
        await context.abort(err.grpc_code, err.message, trailing_metadata=err.trailing_metadata())
        raise AssertionError("unreachable") from None


async def _authenticate(
    authn: Authenticator, authorizer: Authorizer, context: grpc.aio.ServicerContext
) -> None:
    """Set current_user to who makes this call (or whom it impersonates, if
    allowed), or end it UNAUTHENTICATED (or PERMISSION_DENIED)."""
    try:
        user = authn.authenticate(grpc_credentials(context))
        metadata = context.invocation_metadata() or ()
        as_user = [_text(v) for k, v in metadata if k == IMPERSONATE_USER]
        as_groups = [_text(v) for k, v in metadata if k == IMPERSONATE_GROUP]
        current_user.set(impersonate(authorizer, user, as_user[-1] if as_user else "", as_groups))
    except errors.ApiError as e:
        REQUESTS.labels("authenticate", "", e.grpc_code.name).inc()
        await context.abort(e.grpc_code, e.message, trailing_metadata=e.trailing_metadata())
        raise AssertionError("unreachable") from None


# gRPC metadata keys of impersonation (HTTP: Impersonate-User / Impersonate-Group).
IMPERSONATE_USER = "impersonate-user"
IMPERSONATE_GROUP = "impersonate-group"


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode()


def grpc_credentials(context: grpc.aio.ServicerContext) -> Credentials:
    """The verified client certificate and the authorization metadata of a call."""
    pem = context.auth_context().get("x509_pem_cert")
    authorization = None
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            authorization = _text(value)
    return Credentials(cert=pem[0] if pem else None, authorization=authorization)


def _parsed(
    method: Callable[..., Awaitable[Message]],
    request_class: type[Message],
    authn: Authenticator,
    authorizer: Authorizer,
) -> Callable[[bytes, grpc.aio.ServicerContext], Awaitable[Message]]:
    async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> Message:
        await _authenticate(authn, authorizer, context)
        return await method(await _parse(raw, request_class, context), context)

    return handle


def _parsed_stream(
    method: Callable[..., AsyncIterator[bytes]],
    request_class: type[Message],
    authn: Authenticator,
    authorizer: Authorizer,
) -> Callable[[bytes, grpc.aio.ServicerContext], AsyncIterator[bytes]]:
    async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        await _authenticate(authn, authorizer, context)
        async for item in method(await _parse(raw, request_class, context), context):
            yield item

    return handle
