"""The apiserver's side of a kubelet's HTTP endpoint (kubelet/server.py):
one request per connection, over plain asyncio streams.

Plain streams rather than an HTTP client library because exec is
full-duplex: the request body (the command's stdin, ``Transfer-Encoding:
chunked``) keeps flowing while the response (its output frames) comes
back, and the kubelet must get the request head at once, before any stdin
(aiohttp's client holds the head back until the first body chunk). The
kubelet answers with ``Connection: close`` and no length: a body ends when
the connection does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from pinnace.machinery import errors

__all__ = ["KubeletConnection", "open_request"]

CONNECT_TIMEOUT = 5.0
HEAD_TIMEOUT = 30.0
MAX_HEAD = 16 * 1024
CHUNK = 64 * 1024


class KubeletConnection:
    """One request to a kubelet, after its response head: ``status``, then
    the body with ``read``; with a chunked request body, ``send`` and ``end``."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.status = status
        self._ended = False

    async def read(self) -> bytes:
        """The next piece of the response body; b"" at its end."""
        return await self.reader.read(CHUNK)

    async def text(self) -> str:
        """The rest of the response body as text (an error's one line)."""
        return (await self.reader.read(MAX_HEAD)).decode(errors="replace").strip()

    async def send(self, data: bytes) -> None:
        """One chunk of the request body (nothing for b"": that would end it)."""
        if data and not self._ended:
            self.writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await self.writer.drain()

    async def end(self) -> None:
        """The end of the chunked request body (once)."""
        if not self._ended:
            self._ended = True
            self.writer.write(b"0\r\n\r\n")
            await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


async def open_request(
    host: str,
    port: int,
    method: str,
    target: str,
    *,
    chunked: bool = False,
    tls: ssl.SSLContext | None = None,
) -> KubeletConnection:
    """Send ``method target`` to the kubelet at host:port and read the
    response head. ``chunked``: the body follows through ``send``/``end``;
    otherwise there is none. ``tls``: HTTPS with the apiserver's kubelet
    client pair (kubelets serving --tls-cert-file). A kubelet that cannot be reached is a 500
    InternalError, as kube-apiserver reports a failed dial."""
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            reader, writer = await asyncio.open_connection(host, port, ssl=tls)
    except (OSError, TimeoutError) as e:
        raise errors.InternalError(
            f"cannot reach the kubelet at {host}:{port}: {e.strerror or e}"
            if isinstance(e, OSError) and e.strerror
            else f"cannot reach the kubelet at {host}:{port}: connection timed out"
        ) from None
    body = "Transfer-Encoding: chunked\r\n" if chunked else "Content-Length: 0\r\n"
    try:
        writer.write(
            f"{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\n{body}"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        async with asyncio.timeout(HEAD_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
        writer.close()
        raise errors.InternalError(
            f"the kubelet at {host}:{port} did not answer: {type(e).__name__}"
        ) from None
    except asyncio.LimitOverrunError:
        writer.close()
        raise errors.InternalError(f"the kubelet at {host}:{port} sent a head too large") from None
    return KubeletConnection(reader, writer, status)
