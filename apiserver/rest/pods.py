"""The pod subresources that are not stored objects: ``pods/log``,
``pods/exec`` and ``pods/eviction``, served by the HTTP front door.

``log`` and ``exec`` find the pod, its node and the node's kubelet (the
Node's ``status.addresses[InternalIP]`` and
``status.daemonEndpoints.kubeletEndpoint.Port``, read through the
registry) and relay the kubelet's HTTP endpoint (kubelet/server.py):

* ``GET …/pods/<name>/log``: ``text/plain``, streamed while ``follow=true``
  until the kubelet ends (the container exited) or the client goes
  (checked every CLIENT_CHECK seconds while the log is quiet). Parameters
  as Kubernetes' PodLogOptions: container (needed when the pod has several),
  follow, previous, tailLines, limitBytes, sinceSeconds, sinceTime (as
  sinceSeconds), timestamps. A line's time is the kubelet's (within a
  second of the write, kubelet/logtimes.py).
* ``GET …/pods/<name>/exec`` with a WebSocket upgrade: Kubernetes' remote
  command protocol, ``v5.channel.k8s.io`` (kubectl 1.32) or
  ``v4.channel.k8s.io`` (the Python client), see remotecommand.py. stdin
  is streamed to the kubelet as a chunked request body while stdout and
  stderr come back, so ``kubectl exec -i`` works; the exit code comes back
  as the Status on the error channel. **SPDY is not served**: a request
  that is not a WebSocket upgrade (kubectl's SPDY fallback, a POST) gets a
  400 saying so. No pseudo-terminal: ``tty=true`` runs without one, its
  resize messages are ignored and stderr goes to stdout when the client
  asked for no stderr. Errors found before the upgrade (no such pod or
  container, not running) are plain HTTP Status answers, as kube-apiserver
  gives them.
* ``POST …/pods/<name>/eviction`` (policy/v1 or policy/v1beta1 Eviction):
  Pinnace has no PodDisruptionBudget kind yet, so an eviction is the
  delete of the pod with the Eviction's ``deleteOptions``; it answers 201
  with a Success Status, as Kubernetes does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from apiserver.registry.resource import Resource
from apiserver.registry.verbs import Verbs
from apiserver.rest import remotecommand as rc
from apiserver.rest.handlers import decode_body
from apiserver.rest.kubeletclient import KubeletConnection, open_request
from apiserver.rest.paths import RequestInfo
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec, errors
from pinnace.machinery.codec import CodecError
from pinnace.machinery.execstream import STATUS, STDERR, STDOUT, FrameReader
from pinnace.machinery.kubeletaddr import kubelet_endpoint

__all__ = ["SubresourceHost", "container_for", "register"]

CLIENT_CHECK = 1.0  # seconds between checks that a quiet log's client is still there
EVICTION_VERSIONS = ("policy/v1", "policy/v1beta1")
_LOG_INTS = ("tailLines", "limitBytes", "sinceSeconds")
_LOG_FLAGS = ("follow", "previous", "timestamps")

Handler = Callable[
    [web.Request, Resource, RequestInfo, dict[str, str]], Awaitable[web.StreamResponse]
]


class SubresourceHost(Protocol):
    """What ``register`` needs of the server (RestServer)."""

    resources: dict[str, Resource]
    verbs: Verbs
    subresources: dict[tuple[str, str], Handler]
    kubelet_tls: ssl.SSLContext | None


def register(server: SubresourceHost) -> None:
    """Serve pods/log, pods/exec and pods/eviction on ``server``."""
    streams = PodSubresources(server.resources, server.verbs, server.kubelet_tls)
    server.subresources[("pods", "log")] = streams.log
    server.subresources[("pods", "exec")] = streams.exec
    server.subresources[("pods", "eviction")] = streams.evict


# ---- pure helpers ----------------------------------------------------------------------


def container_for(pod: pod_pb2.Pod, wanted: str) -> str:
    """The container a log or exec request means, as kube-apiserver picks it:
    ``wanted`` if the pod has it, else the only container; BadRequest otherwise."""
    names = [c.name for c in pod.spec.containers]
    init_names = [c.name for c in pod.spec.init_containers]
    if wanted:
        if wanted not in names and wanted not in init_names:
            raise errors.BadRequest(f"container {wanted} is not valid for pod {pod.metadata.name}")
        return wanted
    if len(names) == 1:
        return names[0]
    message = (
        f"a container name must be specified for pod {pod.metadata.name}, "
        f"choose one of: [{' '.join(names)}]"
    )
    if init_names:
        message += f" or one of the init containers: [{' '.join(init_names)}]"
    raise errors.BadRequest(message)


def waiting_message(pod: pod_pb2.Pod, container: str) -> str:
    """kube's words for a container with nothing to show yet."""
    reason = "ContainerCreating"
    for cs in [*pod.status.init_container_statuses, *pod.status.container_statuses]:
        if cs.name == container and cs.state.waiting.reason:
            reason = cs.state.waiting.reason
    return f'container "{container}" in pod "{pod.metadata.name}" is waiting to start: {reason}'


def _flag(query: dict[str, str], name: str) -> bool:
    value = query.get(name, "false").lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0", ""):
        return False
    raise errors.BadRequest(f'invalid value for {name}: "{query[name]}" is not a boolean')


def _non_negative(query: dict[str, str], name: str) -> int | None:
    if name not in query:
        return None
    try:
        value = int(query[name])
    except ValueError:
        raise errors.BadRequest(f'invalid value for {name}: "{query[name]}"') from None
    if value < 0:
        raise errors.BadRequest(f"{name}: Invalid value: {value}: must be >= 0")
    return value


def log_query(query: dict[str, str], *, now: float) -> dict[str, str]:
    """The kubelet's containerLogs query for a pods/log request's query."""
    out = {flag: "true" for flag in _LOG_FLAGS if _flag(query, flag)}
    for name in _LOG_INTS:
        value = _non_negative(query, name)
        if value is not None:
            out[name] = str(value)
    if "sinceTime" in query:
        if "sinceSeconds" in out:
            raise errors.BadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified")
        try:
            since = datetime.fromisoformat(query["sinceTime"].replace("Z", "+00:00"))
        except ValueError:
            raise errors.BadRequest(f'invalid sinceTime "{query["sinceTime"]}"') from None
        out["sinceSeconds"] = str(max(0, math.ceil(now - since.timestamp())))
    return out


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


# ---- handlers ------------------------------------------------------------------------


class PodSubresources:
    """The handlers, over the registry's verbs (the same as gRPC's)."""

    def __init__(
        self, resources: dict[str, Resource], verbs: Verbs, kubelet_tls: ssl.SSLContext | None
    ) -> None:
        self.resources = resources
        self.verbs = verbs
        self.kubelet_tls = kubelet_tls

    async def _pod(self, res: Resource, ri: RequestInfo) -> pod_pb2.Pod:
        pod = (await self.verbs.get(res, ri.namespace, ri.name)).obj
        assert isinstance(pod, pod_pb2.Pod)
        return pod

    async def _kubelet(
        self,
        pod: pod_pb2.Pod,
        container: str,
        endpoint: str,
        query: list[tuple[str, str]],
        *,
        method: str = "GET",
        chunked: bool = False,
    ) -> KubeletConnection:
        """The request to the kubelet of the pod's node, its response head read;
        the kubelet's refusal as kube-apiserver words it."""
        if not pod.spec.node_name:
            raise errors.BadRequest(waiting_message(pod, container))
        node = (await self.verbs.get(self.resources["nodes"], "", pod.spec.node_name)).obj
        assert isinstance(node, node_pb2.Node)
        address = kubelet_endpoint(node)
        if address is None:
            raise errors.Unavailable(
                f'node "{node.metadata.name}" does not publish its kubelet endpoint'
            )
        names = (pod.metadata.namespace, pod.metadata.name, container)
        target = f"/{endpoint}/{'/'.join(quote(n, safe='') for n in names)}?{urlencode(query)}"
        conn = await open_request(*address, method, target, chunked=chunked, tls=self.kubelet_tls)
        if conn.status == 200:
            return conn
        try:
            text = await conn.text() or f"the kubelet answered {conn.status}"
        finally:
            await conn.close()
        if conn.status == 400:
            raise errors.BadRequest(text)
        if conn.status == 404:  # the kubelet has not taken the pod (or container) up yet
            raise errors.BadRequest(waiting_message(pod, container))
        raise errors.InternalError(f"the kubelet failed the request: {text}")

    # ---- log ---------------------------------------------------------------------

    async def log(
        self, request: web.Request, res: Resource, ri: RequestInfo, query: dict[str, str]
    ) -> web.StreamResponse:
        if ri.verb != "get":
            raise errors.MethodNotAllowed("pods/log takes GET only")
        kubelet_query = log_query(query, now=time.time())
        pod = await self._pod(res, ri)
        container = container_for(pod, query.get("container", ""))
        conn = await self._kubelet(pod, container, "containerLogs", list(kubelet_query.items()))
        try:
            response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
            await response.prepare(request)
            await _relay(request, conn, response)
            return response
        finally:
            await conn.close()

    # ---- exec --------------------------------------------------------------------

    async def exec(
        self, request: web.Request, res: Resource, ri: RequestInfo, query: dict[str, str]
    ) -> web.StreamResponse:
        command = request.query.getall("command", [])
        pod = await self._pod(res, ri)
        container = container_for(pod, query.get("container", ""))
        want = {name: _flag(query, name) for name in ("stdin", "stdout", "stderr", "tty")}
        if not command:
            raise errors.BadRequest("you must specify at least 1 command")
        if not (want["stdin"] or want["stdout"] or want["stderr"]):
            raise errors.BadRequest("you must specify at least one of stdin, stdout, stderr")
        if pod.status.phase in ("Succeeded", "Failed"):
            raise errors.BadRequest(
                "cannot exec into a container in a completed pod; "
                f"current phase is {pod.status.phase}"
            )
        ws = web.WebSocketResponse(protocols=rc.PROTOCOLS, autoping=True)
        ready = ws.can_prepare(request)
        if request.method != "GET" or not ready.ok:
            raise errors.BadRequest(
                f"SPDY is not served: exec needs a WebSocket upgrade ({' or '.join(rc.PROTOCOLS)})"
            )
        protocol = ready.protocol
        if protocol is None:
            raise errors.BadRequest(
                f"no supported remote command subprotocol offered: use {' or '.join(rc.PROTOCOLS)}"
            )
        conn = await self._kubelet(
            pod,
            container,
            "exec",
            [("command", c) for c in command],
            method="POST",
            chunked=want["stdin"],
        )
        try:
            await ws.prepare(request)
            await _ExecBridge(ws, protocol, want, command).run(conn)
        finally:
            await conn.close()
        return ws

    # ---- eviction ----------------------------------------------------------------

    async def evict(
        self, request: web.Request, res: Resource, ri: RequestInfo, query: dict[str, str]
    ) -> web.StreamResponse:
        if ri.verb != "create":
            raise errors.MethodNotAllowed("pods/eviction takes POST only")
        data = decode_body(await request.read(), request.headers.get("Content-Type", ""))
        options = eviction_delete_options(data, ri.name)
        await self.verbs.delete(res, ri.namespace, ri.name, options)
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "code": 201,
        }
        return web.json_response(body, status=201)


def eviction_delete_options(data: dict[str, Any], name: str) -> meta_pb2.DeleteOptions:
    """The DeleteOptions of an Eviction body (checked: kind, version, name)."""
    api_version, kind = data.get("apiVersion", ""), data.get("kind", "")
    if (api_version and api_version not in EVICTION_VERSIONS) or (kind and kind != "Eviction"):
        raise errors.BadRequest(
            f"the body must be an Eviction of {' or '.join(EVICTION_VERSIONS)}, "
            f"not {kind or '?'} of {api_version or '?'}"
        )
    meta = data.get("metadata") or {}
    if isinstance(meta, dict) and meta.get("name") and meta["name"] != name:
        raise errors.BadRequest("name in URL does not match name in Eviction object")
    raw = dict(data.get("deleteOptions") or {})
    raw.pop("apiVersion", None)
    raw.pop("kind", None)
    try:
        return codec.from_dict(meta_pb2.DeleteOptions, raw)
    except CodecError as e:
        raise errors.BadRequest(f"invalid deleteOptions: {e}") from None


# ---- streaming -----------------------------------------------------------------------


async def _relay(request: web.Request, source: KubeletConnection, sink: web.StreamResponse) -> None:
    """Copy ``source``'s body to ``sink`` until it ends or the client goes."""
    while True:
        try:
            async with asyncio.timeout(CLIENT_CHECK):
                chunk = await source.read()
        except TimeoutError:
            if _client_gone(request):
                return
            continue
        if not chunk:
            with contextlib.suppress(ConnectionError):
                await sink.write_eof()
            return
        try:
            await sink.write(chunk)
        except ConnectionError:
            return


class _ExecBridge:
    """One exec: the client's WebSocket ⇄ the kubelet's exec stream."""

    def __init__(
        self, ws: web.WebSocketResponse, protocol: str, want: dict[str, bool], command: list[str]
    ) -> None:
        self.ws = ws
        self.protocol = protocol
        self.want = want
        self.command = command

    async def run(self, kubelet: KubeletConnection) -> None:
        first = rc.STDOUT if self.want["stdout"] else rc.STDERR if self.want["stderr"] else rc.ERROR
        await self.ws.send_bytes(rc.message(first))  # the streams are up
        from_client = asyncio.create_task(self._from_client(kubelet))
        to_client = asyncio.create_task(self._to_client(kubelet))
        try:
            await asyncio.wait({from_client, to_client}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (from_client, to_client):
                task.cancel()
            await asyncio.gather(from_client, to_client, return_exceptions=True)
            await self.ws.close()

    async def _from_client(self, kubelet: KubeletConnection) -> None:
        """Client messages until it closes: stdin data and its end go to the
        kubelet as they come; resizes are ignored."""
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.BINARY:
                continue
            incoming = rc.parse(msg.data, self.protocol)
            if incoming.channel != rc.STDIN or not self.want["stdin"]:
                continue
            if incoming.close:
                await kubelet.end()
            else:
                await kubelet.send(incoming.data)

    async def _to_client(self, kubelet: KubeletConnection) -> None:
        """The kubelet's frames to the client's channels, then the exit Status."""
        frames = FrameReader()
        status: bytes | None = None
        stderr_to = rc.STDERR if self.want["stderr"] else rc.STDOUT if self.want["tty"] else None
        routes = {STDOUT: rc.STDOUT if self.want["stdout"] else None, STDERR: stderr_to}
        with contextlib.suppress(ConnectionError):
            while chunk := await kubelet.read():
                for channel, payload in frames.feed(chunk):
                    if channel == STATUS:
                        status = self._status(payload)
                    elif (to := routes.get(channel)) is not None and payload:
                        await self.ws.send_bytes(rc.message(to, payload))
        if status is None:
            status = rc.failure_status("the kubelet's exec stream ended without an exit status")
        await self.ws.send_bytes(rc.message(rc.ERROR, status))

    def _status(self, payload: bytes) -> bytes:
        try:
            result = json.loads(payload)
        except ValueError:
            return rc.failure_status("the kubelet sent an unreadable exit status")
        if result.get("error") or int(result.get("exitCode", -1)) < 0:
            return rc.failure_status(str(result.get("error") or "the command could not run"))
        return rc.exit_status(int(result["exitCode"]), self.command)
