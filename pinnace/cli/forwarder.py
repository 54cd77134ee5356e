"""The local side of ``pinnace port-forward`` (kubectl's PortForwarder).

For each ``ForwardedPort`` it listens on every ``ListenAddress``; local
port 0 takes a free port at the first address that binds and the same port
at the others, and each listener prints kubectl's line
``Forwarding from 127.0.0.1:LOCAL -> REMOTE``. Every accepted connection
prints ``Handling connection for LOCAL`` and becomes one request to the
kubelet of the pod's node, ``POST /portForward/<ns>/<pod>?port=REMOTE``
(kubelet/server.py): after the kubelet's 200 the kubelet connection is a
raw byte stream to the pod's port, relayed both ways with half-closes
passed on, so ten local connections are ten independent streams.

A connection the kubelet cannot open to the pod (502: nothing listens)
prints ``an error occurred forwarding LOCAL -> REMOTE: <why>`` and closes
that local connection only. When the kubelet says the pod is not there or
not running any more (404/400), forwarding ends with ``lost connection to
pod``, as kubectl ends when its stream to the pod breaks. ``run`` returns
when ``stop`` is set (SIGINT in the command): listeners close, open
connections are cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TextIO
from urllib.parse import quote

from pinnace.cli.portspec import FAIL_ALL, FAIL_ANY, ForwardedPort, ListenAddress
from pinnace.machinery.portforward import CONNECT_TIMEOUT, UPGRADE, relay

__all__ = ["KubeletTarget", "LostConnection", "PortForwarder"]

MAX_HEAD = 16 * 1024
MAX_ERROR_BODY = 64 * 1024


class LostConnection(Exception):
    """The pod went away from its kubelet (or stopped running)."""


@dataclass(frozen=True)
class KubeletTarget:
    """The kubelet serving the pod, and the pod."""

    host: str
    port: int
    namespace: str
    pod: str
    tls: ssl.SSLContext | None = None  # HTTPS to the kubelet, with our certificate

    def request(self, remote: int) -> bytes:
        path = f"/portForward/{quote(self.namespace)}/{quote(self.pod)}?port={remote}"
        return (
            f"POST {path} HTTP/1.1\r\nHost: {_join_host_port(self.host, self.port)}\r\n"
            f"Connection: Upgrade\r\nUpgrade: {UPGRADE}\r\nContent-Length: 0\r\n\r\n"
        ).encode()


def _join_host_port(host: str, port: int) -> str:
    """Go's net.JoinHostPort: brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class PortForwarder:
    """Listens for ``ports`` on ``addresses`` and forwards to ``target``."""

    def __init__(
        self,
        target: KubeletTarget,
        ports: Sequence[ForwardedPort],
        addresses: Sequence[ListenAddress],
        *,
        out: TextIO,
        err: TextIO,
    ) -> None:
        self.target = target
        self.ports = list(ports)
        self.addresses = list(addresses)
        self.out = out
        self.err = err
        self._servers: list[asyncio.Server] = []
        self._conns: set[asyncio.Task[None]] = set()
        self._lost = asyncio.Event()
        # Set once listening (kubectl's Ready); ``ports`` then hold the bound local ports.
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Listen, then forward until ``stop`` is set (LostConnection if the
        pod goes away first; ValueError if no port could be listened on)."""
        try:
            listening = False
            for i, port in enumerate(self.ports):
                try:
                    self.ports[i] = await self._listen_on_port(port)
                    listening = True
                except OSError as e:
                    print(f"Unable to listen on port {port.local}: {e}", file=self.err, flush=True)
            if not listening:
                ports = " ".join(f"{{{p.local} {p.remote}}}" for p in self.ports)
                raise ValueError(f"unable to listen on any of the requested ports: [{ports}]")
            self.ready.set()
            stopped = asyncio.create_task(stop.wait())
            lost = asyncio.create_task(self._lost.wait())
            await asyncio.wait([stopped, lost], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            lost.cancel()
            if self._lost.is_set() and not stop.is_set():
                raise LostConnection("lost connection to pod")
        finally:
            await self._close()

    async def _listen_on_port(self, port: ForwardedPort) -> ForwardedPort:
        """kubectl's listenOnPort: every address; fails when all localhost
        listeners failed or any explicitly named address failed."""
        errors: list[str] = []
        failed = {FAIL_ALL: 0, FAIL_ANY: 0}
        succeeded = {FAIL_ALL: 0, FAIL_ANY: 0}
        for addr in self.addresses:
            try:
                server = await asyncio.start_server(
                    functools.partial(self._accept, port=port),
                    host=addr.address,
                    port=port.local,
                    family=addr.family,
                )
            except OSError as e:
                errors.append(
                    f"unable to create listener: Error listen "
                    f"{_join_host_port(addr.address, port.local)}: {e.strerror or e}"
                )
                failed[addr.failure_mode] += 1
                continue
            bound = int(server.sockets[0].getsockname()[1])
            port = replace(port, local=bound)
            self._servers.append(server)
            succeeded[addr.failure_mode] += 1
            print(
                f"Forwarding from {_join_host_port(addr.address, bound)} -> {port.remote}",
                file=self.out,
                flush=True,
            )
        if (succeeded[FAIL_ALL] == 0 and failed[FAIL_ALL] > 0) or failed[FAIL_ANY] > 0:
            raise OSError(
                f"Listeners failed to create with the following errors: [{', '.join(errors)}]"
            )
        return port

    async def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, port: ForwardedPort
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            await self._handle(reader, writer, port)
        except asyncio.CancelledError:
            # Cancelled by _close on stop. The task belongs to asyncio's
            # server, whose done-callback (3.11) calls task.exception(),
            # which would log a cancelled task as an error: end normally.
            pass
        finally:
            self._conns.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: ForwardedPort
    ) -> None:
        # The port the listener was made with may be 0; print the bound one.
        local = int(writer.get_extra_info("sockname")[1])
        print(f"Handling connection for {local}", file=self.out, flush=True)
        t = self.target
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                k_reader, k_writer = await asyncio.open_connection(t.host, t.port, ssl=t.tls)
        except (OSError, TimeoutError) as e:
            self._error(local, port.remote, f"cannot reach the kubelet at {t.host}:{t.port}: {e}")
            return
        try:
            k_writer.write(t.request(port.remote))
            await k_writer.drain()
            status = await _read_status(k_reader)
            if status != 200:
                body = await k_reader.read(MAX_ERROR_BODY)
                why = body.decode(errors="replace").strip() or f"the kubelet answered {status}"
                self._error(local, port.remote, why)
                if status in (400, 404):
                    self._lost.set()
                return
            await relay(reader, writer, k_reader, k_writer)
        except (OSError, ValueError, asyncio.IncompleteReadError) as e:
            self._error(local, port.remote, str(e) or type(e).__name__)
        finally:
            k_writer.close()
            with contextlib.suppress(Exception):
                await k_writer.wait_closed()

    def _error(self, local: int, remote: int, why: str) -> None:
        print(f"an error occurred forwarding {local} -> {remote}: {why}", file=self.err, flush=True)

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._conns):
            task.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)


async def _read_status(reader: asyncio.StreamReader) -> int:
    """Read the response head (up to the blank line); its status code."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise ValueError("the kubelet's response head is too large") from None
    if len(head) > MAX_HEAD:
        raise ValueError("the kubelet's response head is too large")
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"bad response from the kubelet: {line!r}")
    return int(parts[1])
