"""Forwarding to upstream DNS servers, and finding them in resolv.conf.

``forward(query, upstreams, tcp=...)`` sends the client's query bytes
unchanged to each upstream in turn (so its id, RD and EDNS size travel with
it) and returns the first reply that is a response to it (same id, QR set):
over UDP from a fresh socket connected to the upstream, so a reply from any
other address is never read and the source port is new for each query; over
TCP as a two-byte length and the message (RFC 1035 4.2.2). Each attempt has
``timeout`` seconds (2 s: a resolver that asks us waits 5 s per try by
default, glibc's ``options timeout``, so two upstreams fit in one of its
tries). ``None`` when no upstream answered; the server then says SERVFAIL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import struct
from collections.abc import Sequence
from pathlib import Path

__all__ = ["FORWARD_TIMEOUT", "forward", "host_upstreams", "parse_resolv_conf"]

log = logging.getLogger(__name__)

FORWARD_TIMEOUT = 2.0
DNS_PORT = 53
_LEN = struct.Struct("!H")


def parse_resolv_conf(text: str) -> list[tuple[str, int]]:
    """The ``nameserver`` addresses of a resolv.conf text, port 53, in order;
    lines that are not a valid IP address are skipped (glibc does the same)."""
    out: list[tuple[str, int]] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2 or words[0] != "nameserver":
            continue
        try:
            ipaddress.ip_address(words[1].split("%", 1)[0])
        except ValueError:
            log.warning("resolv.conf: nameserver %r is not an IP address; skipped", words[1])
            continue
        out.append((words[1], DNS_PORT))
    return out


def host_upstreams(path: Path = Path("/etc/resolv.conf")) -> list[tuple[str, int]]:
    """The host's upstream DNS servers: ``nameserver`` lines of ``path``
    ([] when it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        log.warning("cannot read %s (%s): no upstream DNS servers", path, e)
        return []
    return parse_resolv_conf(text)


async def forward(
    query: bytes,
    upstreams: Sequence[tuple[str, int]],
    *,
    tcp: bool,
    timeout: float = FORWARD_TIMEOUT,
) -> bytes | None:
    """The first upstream reply to ``query`` (see the module docstring)."""
    ident = query[:2]
    for host, port in upstreams:
        try:
            async with asyncio.timeout(timeout):
                if tcp:
                    reply = await _ask_tcp(query, host, port)
                else:
                    reply = await _ask_udp(query, ident, host, port)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
            log.debug("upstream %s:%d did not answer: %r", host, port, e)
            continue
        if _is_reply(reply, ident):
            return reply
        log.debug("upstream %s:%d sent something that is not a reply", host, port)
    return None


def _is_reply(data: bytes, ident: bytes) -> bool:
    return len(data) >= 12 and data[:2] == ident and bool(data[2] & 0x80)


class _OneReply(asyncio.DatagramProtocol):
    def __init__(self, ident: bytes) -> None:
        self.ident = ident
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.reply.done() and _is_reply(data, self.ident):
            self.reply.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        # Only after _ask_udp stopped waiting (it closes the socket): cancel
        # quietly rather than leave an exception nobody retrieves.
        self.reply.cancel()


async def _ask_udp(query: bytes, ident: bytes, host: str, port: int) -> bytes:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: _OneReply(ident), remote_addr=(host, port)
    )
    try:
        transport.sendto(query)
        return await proto.reply
    finally:
        transport.close()


async def _ask_tcp(query: bytes, host: str, port: int) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(_LEN.pack(len(query)) + query)
        await writer.drain()
        (length,) = _LEN.unpack(await reader.readexactly(2))
        return await reader.readexactly(length)
    finally:
        writer.close()
