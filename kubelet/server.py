"""The kubelet's HTTP endpoint (``--listen``): logs, exec, port-forward and health.

One request per connection (the response ends when the connection
closes), HTTP/1.1, no TLS. The node publishes the address as
``status.addresses[InternalIP]`` and ``status.daemonEndpoints.kubeletEndpoint.Port``.

``GET /healthz``
    200 ``ok``.

``GET /containerLogs/<namespace>/<pod>/<container>?previous=&tailLines=&limitBytes=&follow=&sinceSeconds=&timestamps=``
    200 ``text/plain; charset=utf-8``: the container's stdout and stderr
    as written (interleaved). ``previous=true``: the instance before the
    current one. ``tailLines=N``: only the last N lines. ``limitBytes=N``:
    at most N bytes. ``follow=true``: keep streaming new output until the
    instance exits (or the client goes). ``sinceSeconds=N``: only the
    lines written in the last N seconds, then what follows.
    ``timestamps=true``: each line prefixed with the time it was written
    (RFC 3339 with nanoseconds) and a space. A line's time comes from the
    log's times index (logtimes.py: within a --container-log-times-period
    of the write); while following, the time the line was read.
    404 when the pod or container is not on this node, 400 when there is
    no such instance (never started, or no previous one) or a parameter is
    bad; the body is then one line saying why.

``POST /exec/<namespace>/<pod>/<container>?command=<arg>&command=<arg>...[&timeout=S]``
    Runs the command (argv from the repeated ``command`` parameters, not
    through a shell) with the container's environment and working
    directory, in its own session; the request body is its stdin: with a
    Content-Length, all of it at once; with ``Transfer-Encoding: chunked``
    streamed, each chunk written to the command's stdin as it arrives
    while output flows back, the last (empty) chunk closing stdin (so an
    interactive ``exec -i`` works). A client that goes away in the middle
    of the chunks has the command killed. 200 ``application/vnd.pinnace.exec-stream``: a sequence of
    frames ``<channel: 1 byte><length: 4 bytes big-endian><payload>``,
    channel 1 stdout, 2 stderr, 3 the final status as JSON
    ``{"exitCode": N}`` (or ``{"exitCode": -1, "error": "..."}`` when the
    command could not run), always the last frame (the channel numbers
    are Kubernetes' remotecommand channels). 400 when the container is not
    running, 404 when the pod or container is not here.

``POST /portForward/<namespace>/<pod>?port=P``
    One TCP connection to port P of a running pod of this node (kubectl
    port-forward opens one request per accepted local connection): the
    kubelet connects to 127.0.0.1:P inside the pod's network namespace, as
    Kubernetes does (so a server bound only to the pod's loopback is
    reached); for a pod in the host network (no namespace of its own) to
    the pod's IP, which is the node's, or the node's IP while the pod has
    no IP yet. Then it answers
    ``200`` with ``Content-Type: application/vnd.pinnace.port-forward``,
    ``Connection: Upgrade`` and ``Upgrade: pinnace-port-forward``. After
    the blank line that ends those headers the HTTP connection is a raw
    byte stream both ways: bytes the client sends go to the pod's socket,
    bytes the pod sends come back. A half-close travels on: the client's
    end of stream (shutdown for writing) becomes a shutdown for writing
    towards the pod, the pod's end of stream does the same towards the
    client; the connection closes when both directions have ended (or
    either side resets). Bytes the client sends right after its request
    head (before the answer) are kept and relayed. Errors, before the
    stream starts, are one text line: 404 when the pod is not on this
    node, 400 when it is not running or ``port`` is not 1..65535, 502 when
    the connection to the pod fails (refused, unreachable, timed out).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import ssl
import struct
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from kubelet import logs as logmod
from kubelet.logtimes import LineStamper
from kubelet.podworker import PodWorker
from kubelet.podworker.state import ContainerState
from kubelet.runtime import Instance
from pinnace.machinery import hostnet, portforward

__all__ = ["KubeletServer", "read_exec_frames"]

log = logging.getLogger(__name__)

MAX_HEADER = 16 * 1024
MAX_BODY = 16 * 1024 * 1024
# Seconds a finished request waits for its client to close the connection.
CLOSE_WAIT = 1.0
FOLLOW_POLL = 0.2
CHUNK = 64 * 1024
STDOUT, STDERR, STATUS = 1, 2, 3
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def frame(channel: int, payload: bytes) -> bytes:
    return struct.pack(">BI", channel, len(payload)) + payload


def read_exec_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Split an exec response body into (channel, payload) frames (for clients and tests)."""
    out = []
    i = 0
    while i + 5 <= len(data):
        channel, length = struct.unpack(">BI", data[i : i + 5])
        out.append((channel, data[i + 5 : i + 5 + length]))
        i += 5 + length
    return out


class PodFinder(Protocol):
    """Where the server finds a pod's worker (the kubelet's PodManager)."""

    def find(self, namespace: str, name: str) -> PodWorker | None: ...


class KubeletServer:
    """Serves the endpoints above for the pods of ``manager``."""

    def __init__(
        self,
        manager: PodFinder,
        *,
        listen: str,
        node_name: str,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.manager = manager
        self.listen = listen
        self.node_name = node_name
        # HTTPS requiring a client certificate of the cluster CA; only
        # system:masters (the apiserver's kubelet client, admins) are served.
        self.tls = tls
        self.port = 0
        self._server: asyncio.Server | None = None
        # Requests being answered: stop() lets them finish (a task still
        # running when the loop ends is cancelled and, on Python 3.11,
        # logged with a traceback by asyncio's stream callback).
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        host, _, port = self.listen.rpartition(":")
        self._server = await asyncio.start_server(
            self._handle, host or "127.0.0.1", int(port), ssl=self.tls
        )
        self.port = self._server.sockets[0].getsockname()[1]
        scheme = "https" if self.tls is not None else "http"
        log.info("kubelet server on %s://%s:%d", scheme, host or "127.0.0.1", self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            if self._handlers:
                await asyncio.wait(self._handlers, timeout=CLOSE_WAIT + 1)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    # ---- HTTP -------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        try:
            try:
                if self.tls is not None:
                    _authorize(writer.get_extra_info("peercert"))
                method, target, headers = await self._read_head(reader)
                body: bytes | None = None  # None: a chunked body, left on `reader`
                encoding = headers.get("transfer-encoding", "").lower()
                if encoding and encoding != "chunked":
                    raise HttpError(411, "send the body with a Content-Length or chunked")
                if not encoding:
                    length = int(headers.get("content-length", "0") or 0)
                    if length > MAX_BODY:
                        raise HttpError(413, f"body larger than {MAX_BODY} bytes")
                    body = await reader.readexactly(length) if length else b""
                await self._route(method, target, body, reader, writer)
            except HttpError as e:
                await self._simple(writer, e.status, str(e) + "\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            except Exception as e:
                log.exception("kubelet server: request failed")
                with contextlib.suppress(Exception):
                    await self._simple(writer, 500, f"internal error: {e}\n")
        finally:
            writer.close()
            # Over TLS the close waits for the peer's close_notify, which a
            # client keeping its connection open never sends: bounded.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), CLOSE_WAIT)

    async def _read_head(self, reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise HttpError(400, "request head too large") from None
        if len(raw) > MAX_HEADER:
            raise HttpError(400, "request head too large")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise HttpError(400, f"bad request line {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return parts[0], parts[1], headers

    async def _start_response(
        self, writer: asyncio.StreamWriter, status: int, content_type: str
    ) -> None:
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nContent-Type: {content_type}\r\n"
            "Connection: close\r\nCache-Control: no-cache\r\n\r\n".encode()
        )
        await writer.drain()

    async def _simple(self, writer: asyncio.StreamWriter, status: int, text: str) -> None:
        body = text.encode()
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()

    async def _route(
        self,
        method: str,
        target: str,
        body: bytes | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        url = urlsplit(target)
        segments = [unquote(s) for s in url.path.split("/") if s]
        query = parse_qs(url.query, keep_blank_values=True)
        if segments == ["healthz"]:
            await self._simple(writer, 200, "ok")
            return
        if len(segments) == 4 and segments[0] == "containerLogs":
            if method != "GET":
                raise HttpError(405, "use GET for containerLogs")
            await self._logs(segments[1], segments[2], segments[3], query, reader, writer)
            return
        if len(segments) == 4 and segments[0] == "exec":
            if method != "POST":
                raise HttpError(405, "use POST for exec")
            stdin = _ChunkedBody(reader) if body is None else body
            await self._exec(segments[1], segments[2], segments[3], query, stdin, reader, writer)
            return
        if body is None:
            raise HttpError(411, "only exec takes a chunked body")
        if len(segments) == 3 and segments[0] == "portForward":
            if method != "POST":
                raise HttpError(405, "use POST for portForward")
            await self._port_forward(segments[1], segments[2], query, reader, writer)
            return
        raise HttpError(404, f"no such endpoint: {url.path}")

    # ---- lookups -------------------------------------------------------------------

    def _container(
        self, namespace: str, pod: str, container: str
    ) -> tuple[PodWorker, ContainerState]:
        worker = self.manager.find(namespace, pod)
        if worker is None:
            raise HttpError(404, f'pod "{namespace}/{pod}" not found on node "{self.node_name}"')
        cs = worker.containers.get(container)
        if cs is None:
            names = ", ".join(worker.containers)
            raise HttpError(
                404, f'container "{container}" is not in pod "{pod}" (containers: {names})'
            )
        return worker, cs

    # ---- logs ------------------------------------------------------------------------

    async def _logs(
        self,
        ns: str,
        pod: str,
        container: str,
        query: dict[str, list[str]],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        _, cs = self._container(ns, pod, container)
        previous = _flag(query, "previous")
        follow = _flag(query, "follow")
        tail = _int(query, "tailLines")
        limit = _int(query, "limitBytes")
        since_seconds = _int(query, "sinceSeconds")
        since = None if since_seconds is None else time.time() - since_seconds
        timestamps = _flag(query, "timestamps")
        if previous:
            inst = cs.previous  # the instance before the newest one, exited or not
            if inst is None:
                raise HttpError(
                    400, f'previous terminated container "{container}" in pod "{pod}" not found'
                )
            follow = False
        else:
            inst = cs.instance
            if inst is None:
                reason = cs.waiting.reason if cs.waiting else "ContainerCreating"
                raise HttpError(
                    400, f'container "{container}" in pod "{pod}" is waiting to start: {reason}'
                )
        path: Path | None = inst.log_path
        data = b""
        if path is not None:
            data = await asyncio.to_thread(
                logmod.read_log,
                path,
                tail_lines=tail,
                limit_bytes=limit,
                since=since,
                timestamps=timestamps,
            )
        await self._start_response(writer, 200, "text/plain; charset=utf-8")
        writer.write(data)
        await writer.drain()
        if follow and path is not None and (limit is None or len(data) < limit):
            sent = len(data)
            await self._follow(
                path,
                inst,
                reader,
                writer,
                lambda n: None if limit is None else limit - sent - n,
                LineStamper() if timestamps else None,
            )

    async def _follow(
        self,
        path: Path,
        inst: Instance,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        budget: Callable[[int], int | None],
        stamper: LineStamper | None = None,
    ) -> None:
        """Send what the instance appends until it exits, the budget is spent
        or the client goes (closes its side: nothing more comes after a GET).
        With a stamper, each line goes out prefixed with the time it was read."""
        pos = await asyncio.to_thread(_size, path)
        sent = 0
        while True:
            exited = inst.exit is not None
            size = await asyncio.to_thread(_size, path)
            if size < pos:
                pos = 0  # rotated (copy-and-truncate): the new output starts at 0
            if size > pos:
                left = budget(sent)
                want = size - pos if left is None else min(size - pos, left)
                chunk = await asyncio.to_thread(_read_at, path, pos, min(want, CHUNK))
                pos += len(chunk)
                if stamper is not None:
                    chunk = stamper.feed(chunk, time.time_ns())
                    if left is not None:
                        chunk = chunk[:left]
                sent += len(chunk)
                writer.write(chunk)
                await writer.drain()
                left = budget(sent)
                if left is not None and left <= 0:
                    return
                continue
            if exited:
                if stamper is not None:
                    rest = stamper.flush(time.time_ns())
                    left = budget(sent)
                    writer.write(rest if left is None else rest[:left])
                    await writer.drain()
                return
            if writer.is_closing() or reader.at_eof():
                return
            await asyncio.sleep(FOLLOW_POLL)

    # ---- exec ------------------------------------------------------------------------

    async def _exec(
        self,
        ns: str,
        pod: str,
        container: str,
        query: dict[str, list[str]],
        body: bytes | _ChunkedBody,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        worker, cs = self._container(ns, pod, container)
        argv = query.get("command") or []
        if not argv or not argv[0]:
            raise HttpError(400, "give the command as command=<arg> query parameters")
        if not cs.running:
            raise HttpError(400, f'container "{container}" in pod "{pod}" is not running')
        timeout = _float(query, "timeout")
        environment = worker.environment(cs)
        await self._start_response(writer, 200, "application/vnd.pinnace.exec-stream")
        try:
            proc = await asyncio.create_subprocess_exec(
                # inside the pod's network namespace, as its user, in its cgroups
                *environment.argv(argv, cs.instance.cgroups if cs.instance else ()),
                env=environment.env,
                cwd=str(environment.workdir),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as e:
            writer.write(
                frame(
                    STATUS,
                    json.dumps(
                        {"exitCode": -1, "error": f"exec {argv[0]!r}: {e.strerror or e}"}
                    ).encode(),
                )
            )
            await writer.drain()
            return
        assert proc.stdin and proc.stdout and proc.stderr
        stdin = proc.stdin  # narrowed here; a closure does not keep the narrowing
        client_gone = False

        async def feed() -> None:
            nonlocal client_gone
            try:
                chunks = [body] if isinstance(body, bytes) else body.chunks()
                async for chunk in _iterate(chunks):
                    if chunk:
                        stdin.write(chunk)
                        await stdin.drain()
                with contextlib.suppress(ConnectionError):
                    stdin.close()
                # The request is complete; the client keeps the connection open
                # to read the output. When it closes, nobody is there any
                # more: stop the command.
                if not await reader.read(1):
                    raise asyncio.IncompleteReadError(b"", 1)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                client_gone = True  # the chunked body broke off: nobody to answer
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            except ConnectionError:
                pass  # the command closed its stdin (or exited)
            finally:
                with contextlib.suppress(ConnectionError):
                    stdin.close()

        async def pump(stream: asyncio.StreamReader, channel: int) -> None:
            while chunk := await stream.read(CHUNK):
                writer.write(frame(channel, chunk))
                await writer.drain()

        feeder = asyncio.create_task(feed())
        tasks = [
            feeder,
            asyncio.create_task(pump(proc.stdout, STDOUT)),
            asyncio.create_task(pump(proc.stderr, STDERR)),
        ]
        error = ""
        try:
            async with asyncio.timeout(timeout):
                # Not waiting for stdin: a command may exit before its input ends.
                await asyncio.gather(*tasks[1:])
                await proc.wait()
            if client_gone:
                error = "client went away"
        except TimeoutError:
            error = f"command timed out after {timeout:g}s"
        except ConnectionError:
            error = "client went away"
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
            for t in tasks:
                t.cancel()
        status: dict[str, Any] = {"exitCode": proc.returncode if not error else -1}
        if error:
            status["error"] = error
        with contextlib.suppress(ConnectionError):
            writer.write(frame(STATUS, json.dumps(status).encode()))
            await writer.drain()

    # ---- port-forward -------------------------------------------------------------------

    async def _port_forward(
        self,
        ns: str,
        pod: str,
        query: dict[str, list[str]],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        worker = self.manager.find(ns, pod)
        if worker is None:
            raise HttpError(404, f'pod "{ns}/{pod}" not found on node "{self.node_name}"')
        port = _port(query)
        if not _pod_running(worker):
            raise HttpError(400, f'pod "{ns}/{pod}" is not running')
        netns = worker.state.netns
        ip = "127.0.0.1" if netns else (worker.state.pod_ip or worker.state.ctx.host_ip)
        try:
            pod_reader, pod_writer = await _dial(netns, ip, port)
        except hostnet.HostNetError as e:
            raise HttpError(502, f'error forwarding port {port} to pod "{ns}/{pod}": {e}') from None
        except (OSError, TimeoutError) as e:
            why = _dial_error(e)
            raise HttpError(
                502,
                f'error forwarding port {port} to pod "{ns}/{pod}": dial tcp {ip}:{port}: '
                f"connect: {why}",
            ) from None
        try:
            writer.write(
                f"HTTP/1.1 200 OK\r\nContent-Type: {portforward.CONTENT_TYPE}\r\n"
                f"Connection: Upgrade\r\nUpgrade: {portforward.UPGRADE}\r\n\r\n".encode()
            )
            await writer.drain()
            await portforward.relay(
                reader, writer, pod_reader, pod_writer, close_a_on_b_end=self.tls is not None
            )
        finally:
            pod_writer.close()
            with contextlib.suppress(Exception):
                await pod_writer.wait_closed()


class _ChunkedBody:
    """A request body in HTTP/1.1 chunks, read from the connection as it comes."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    async def chunks(self) -> AsyncIterator[bytes]:
        """Each chunk's data until the last (empty) chunk. IncompleteReadError
        when the connection ends first, ValueError on a malformed chunk."""
        while True:
            line = await self.reader.readuntil(b"\r\n")
            size = int(line.split(b";")[0].strip(), 16)
            if size < 0 or size > MAX_BODY:
                raise ValueError(f"chunk size {size}")
            if size == 0:
                while await self.reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return
            data = await self.reader.readexactly(size)
            if await self.reader.readexactly(2) != b"\r\n":
                raise ValueError("chunk not followed by CRLF")
            yield data


async def _iterate(chunks: list[bytes] | AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A list or an async iterator of chunks, as an async iterator."""
    if isinstance(chunks, list):
        for chunk in chunks:
            yield chunk
    else:
        async for chunk in chunks:
            yield chunk


async def _dial(
    netns: str, ip: str, port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to ``ip:port``: made inside the network namespace
    ``netns`` (hostnet.connect_in_netns, in a thread) when there is one,
    from the kubelet's own otherwise. Both give up after CONNECT_TIMEOUT."""
    if not netns:
        async with asyncio.timeout(portforward.CONNECT_TIMEOUT):
            return await asyncio.open_connection(ip, port)
    connecting = asyncio.ensure_future(
        asyncio.to_thread(hostnet.connect_in_netns, netns, ip, port, portforward.CONNECT_TIMEOUT)
    )
    try:
        sock = await asyncio.shield(connecting)
    except asyncio.CancelledError:
        # The thread finishes anyway; a socket it still makes is closed.
        connecting.add_done_callback(_close_socket)
        raise
    try:
        return await asyncio.open_connection(sock=sock)
    except BaseException:
        sock.close()
        raise


def _close_socket(done: asyncio.Future[socket.socket]) -> None:
    if not done.cancelled() and done.exception() is None:
        done.result().close()


def _dial_error(e: OSError) -> str:
    """Go's wording of a failed connect: "connection refused", "i/o timeout"."""
    if isinstance(e, TimeoutError):
        return "i/o timeout"
    return os.strerror(e.errno).lower() if e.errno else str(e)


def _pod_running(worker: PodWorker) -> bool:
    """Admitted, not finished, and running (phase Running or a container up)."""
    if not worker.active:
        return False
    if worker.last_pod.status.phase == "Running":
        return True
    return any(cs.running for cs in worker.containers.values() if not cs.init)


def _port(query: dict[str, list[str]]) -> int:
    value = (query.get("port") or [""])[-1]
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise HttpError(400, f'port: expected a number from 1 to 65535, got "{value}"')
    return int(value)


def _authorize(peercert: dict[str, Any] | None) -> None:
    """Only a client certificate in group system:masters may use the endpoint
    (the apiserver's kubelet client, an admin); TLS checked its chain."""
    if not peercert:
        raise HttpError(401, "Unauthorized: a client certificate is required")
    names = [(k, v) for rdn in peercert.get("subject", ()) for k, v in rdn]
    user = next((v for k, v in names if k == "commonName"), "")
    if "system:masters" not in [v for k, v in names if k == "organizationName"]:
        raise HttpError(403, f'Forbidden: user "{user}" may not use the kubelet endpoint')


def _size(path: Path) -> int:
    """The file's size (0 if missing). Blocking: call it in a thread."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def _read_at(path: Path, pos: int, n: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(pos)
        return f.read(n)


def _flag(query: dict[str, list[str]], name: str) -> bool:
    value = (query.get(name) or ["false"])[-1].lower()
    if value in ("", "true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise HttpError(400, f'{name}: expected true or false, got "{value}"')


def _int(query: dict[str, list[str]], name: str) -> int | None:
    if name not in query:
        return None
    value = query[name][-1]
    try:
        n = int(value)
    except ValueError:
        raise HttpError(400, f'{name}: expected a number, got "{value}"') from None
    if n < 0:
        raise HttpError(400, f"{name}: must not be negative")
    return n


def _float(query: dict[str, list[str]], name: str) -> float | None:
    if name not in query:
        return None
    try:
        return float(query[name][-1])
    except ValueError:
        raise HttpError(400, f"{name}: expected seconds") from None
