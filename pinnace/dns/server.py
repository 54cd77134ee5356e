"""The cluster DNS server: UDP and TCP on one address, names under the
cluster domain answered from the informer stores (``records``), every other
name forwarded to the upstream servers (``upstream``).

    dns = ClusterDns(services_informer, slices_informer, domain="cluster.local")
    host, port = await dns.serve("10.244.1.1", 53)
    ...
    await dns.close()

Per query, in this order (the first that applies decides):

1. Bytes that do not parse → FORMERR with the query's id when there are at
   least two bytes of it (nothing at all otherwise); a message with QR set is
   a response, never answered (no reply loops).
2. An opcode other than QUERY → NOTIMP; a count of questions other than one
   → FORMERR; an EDNS version above 0 → BADVERS (RFC 6891 6.1.3).
3. A name under the cluster domain: SERVFAIL until both informers have
   synced (as CoreDNS, an empty store must not say NXDOMAIN for a Service that
   exists), REFUSED for zone transfers and classes other than IN/ANY, else
   the zone's answer, authoritative, with RA set. An ExternalName whose
   target is outside the zone gets the target's records from upstream
   appended to its CNAME (as a recursive server gives the whole chain; a stub
   resolver does not follow a bare CNAME itself).
4. A reverse name (``in-addr.arpa``, ``ip6.arpa``) of a Service's or a
   ready endpoint's address: its PTR records (``records.reverse``).
5. Any other name: the query bytes go to the upstreams (``upstream.forward``)
   over the transport the client used; SERVFAIL when none answers.

A UDP reply longer than the client's limit (512 bytes, or the EDNS0 size it
advertised) goes out with TC set and no records, and the client retries over
TCP. TCP connections may carry several queries, answered in order, and are
closed after ``TCP_IDLE`` seconds without one. At most ``MAX_IN_FLIGHT``
UDP queries are handled at once; more are dropped (a client retries), so a
flood cannot grow tasks without bound.

The upstream list is fixed at construction: the ``nameserver`` lines of the
host's /etc/resolv.conf unless one is given (read once, synchronously: a
small local file). The server's own address is taken out of it once bound,
so a host that points at this server does not make it ask itself forever.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
from collections.abc import Sequence
from typing import cast

from pinnace.client.informer import Informer

from .records import ClusterRecords
from .upstream import FORWARD_TIMEOUT, forward, host_upstreams
from .wire import (
    MAX_UDP_PLAIN,
    Edns,
    Message,
    Opcode,
    Question,
    Rcode,
    Record,
    Type,
    WireError,
    build,
    parse,
    reply_to,
)

__all__ = ["MAX_IN_FLIGHT", "TCP_IDLE", "ClusterDns"]

log = logging.getLogger(__name__)

TCP_IDLE = 10.0
MAX_IN_FLIGHT = 512
MAX_TCP_MESSAGE = 65535
BIND_ATTEMPTS = 8  # port 0: a free UDP port may be taken for TCP; try another
CLASS_IN, CLASS_ANY = 1, 255
_LEN = struct.Struct("!H")


class ClusterDns:
    """A DNS server for the cluster domain, answering from two informers
    (``Informer(client, "services")``, ``Informer(client, "endpointslices")``)
    that the caller runs; see the module docstring for what it answers."""

    def __init__(
        self,
        services: Informer,
        slices: Informer,
        *,
        domain: str = "cluster.local",
        upstream: Sequence[tuple[str, int]] | None = None,
    ) -> None:
        self._services = services
        self._slices = slices
        self.records = ClusterRecords(services.store, slices.store, domain=domain)
        self.upstreams: list[tuple[str, int]] = (
            list(upstream) if upstream is not None else host_upstreams()
        )
        self.forward_timeout = FORWARD_TIMEOUT  # seconds per upstream attempt
        self.address: tuple[str, int] | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0

    # ---- lifecycle ---------------------------------------------------------------------

    async def serve(self, host: str, port: int) -> tuple[str, int]:
        """Bind UDP and TCP on ``host:port`` (port 0: a free port, the same
        for both) and start answering; returns the bound address. OSError
        when the address cannot be bound."""
        if self._udp is not None:
            raise RuntimeError(f"ClusterDns is already serving on {self.address}")
        loop = asyncio.get_running_loop()
        attempts = BIND_ATTEMPTS if port == 0 else 1
        for attempt in range(attempts):
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(host, port)
            )
            bound_host, bound_port = udp.get_extra_info("sockname")[:2]
            try:
                self._tcp = await asyncio.start_server(self._on_tcp, bound_host, bound_port)
            except OSError:
                udp.close()
                if attempt == attempts - 1:
                    raise
                continue
            self._udp = udp
            break
        self.address = (bound_host, bound_port)
        self.upstreams = [u for u in self.upstreams if u != self.address]
        log.info(
            "cluster DNS for %s on %s:%d (udp, tcp); upstreams %s",
            self.records.domain,
            bound_host,
            bound_port,
            ", ".join(f"{h}:{p}" for h, p in self.upstreams) or "none",
        )
        return self.address

    async def close(self) -> None:
        """Stop answering: close both sockets and the open TCP connections."""
        if self._udp is not None:
            udp, self._udp = self._udp, None
            udp.close()
            # The socket is closed on a later loop turn; wait, so the port is
            # free when close() returns (a restart binds it again).
            await cast(_UdpProtocol, udp.get_protocol()).closed
        if self._tcp is not None:
            self._tcp.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._tcp is not None:
            await self._tcp.wait_closed()
            self._tcp = None

    # ---- one query -------------------------------------------------------------------

    async def handle(self, data: bytes, *, tcp: bool) -> bytes | None:
        """The reply to the query ``data`` received over TCP or UDP (None:
        send nothing)."""
        try:
            query = parse(data)
        except WireError as e:
            log.debug("malformed query: %s", e)
            return _formerr(data)
        if query.qr:
            return None
        reply = reply_to(query)
        reply.ra = True
        if query.opcode != Opcode.QUERY:
            reply.rcode = Rcode.NOTIMP
            return build(reply)
        if len(query.questions) != 1:
            reply.rcode = Rcode.FORMERR
            return build(reply)
        if query.edns is not None and query.edns.version > 0:
            reply.rcode = Rcode.BADVERS
            return build(reply)
        limit = MAX_TCP_MESSAGE if tcp else _udp_limit(query.edns)
        if self.records.in_zone(query.question.name):
            await self._answer_zone(query.question, reply, tcp=tcp)
            return _built(reply, limit)
        if self._reverse(query.question, reply):
            return _built(reply, limit)
        forwarded = await forward(data, self.upstreams, tcp=tcp, timeout=self.forward_timeout)
        if forwarded is None:
            reply.rcode = Rcode.SERVFAIL
            return build(reply)
        return forwarded if len(forwarded) <= limit else _truncated(forwarded, reply, limit)

    async def _answer_zone(self, q: Question, reply: Message, *, tcp: bool) -> None:
        if not (self._services.has_synced() and self._slices.has_synced()):
            reply.rcode = Rcode.SERVFAIL
            return
        if q.qclass not in (CLASS_IN, CLASS_ANY) or q.qtype in (Type.AXFR, Type.IXFR):
            reply.rcode = Rcode.REFUSED
            return
        answer = self.records.answer(q)
        reply.aa = True
        reply.rcode = answer.rcode
        reply.answers.extend(answer.answers)
        reply.authority.extend(answer.authority)
        reply.additional.extend(answer.additional)
        if answer.chase is not None:
            reply.answers.extend(await self._chase(answer.chase, q.qtype, tcp=tcp))

    def _reverse(self, q: Question, reply: Message) -> bool:
        """Answer a PTR question for a cluster address; False to forward it."""
        if not (self._services.has_synced() and self._slices.has_synced()):
            return False
        if q.qclass not in (CLASS_IN, CLASS_ANY):
            return False
        answer = self.records.reverse(q)
        if answer is None:
            return False
        reply.aa = True
        reply.rcode = answer.rcode
        reply.answers.extend(answer.answers)
        reply.authority.extend(answer.authority)
        return True

    async def _chase(self, target: str, qtype: int, *, tcp: bool) -> list[Record]:
        """The upstream's answer records for ``target`` ([] if none)."""
        query = Message(
            id=secrets.randbits(16),  # with a fresh source port: hard to spoof
            rd=True,
            questions=[Question(target, qtype)],
            edns=Edns(),
        )
        try:
            data = build(query)
        except ValueError:
            return []
        raw = await forward(data, self.upstreams, tcp=tcp, timeout=self.forward_timeout)
        try:
            answer = parse(raw) if raw is not None else None
            if answer is not None and answer.tc and not tcp:
                raw = await forward(data, self.upstreams, tcp=True, timeout=self.forward_timeout)
                answer = parse(raw) if raw is not None else None
        except WireError as e:
            log.debug("upstream answer for %s is malformed: %s", target, e)
            return []
        if answer is None or answer.rcode != Rcode.NOERROR:
            return []
        return answer.answers

    # ---- transports ------------------------------------------------------------------

    def _on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._in_flight >= MAX_IN_FLIGHT:
            log.debug("dropping a query from %s: %d in flight", addr, self._in_flight)
            return
        self._in_flight += 1
        task = asyncio.create_task(self._answer_datagram(data, addr))
        self._tasks.add(task)
        task.add_done_callback(self._datagram_done)

    def _datagram_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight -= 1
        self._tasks.discard(task)

    async def _answer_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            reply = await self.handle(data, tcp=False)
        except Exception:
            log.exception("query from %s failed", addr)
            return
        if reply is not None and self._udp is not None:
            self._udp.sendto(reply, addr)

    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a client callback always runs in a task
        self._tasks.add(task)
        try:
            while True:
                async with asyncio.timeout(TCP_IDLE):
                    (length,) = _LEN.unpack(await reader.readexactly(2))
                    data = await reader.readexactly(length)
                reply = await self.handle(data, tcp=True)
                if reply is None:
                    continue
                writer.write(_LEN.pack(len(reply)) + reply)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            # close() cancels the connection's own task, which ends here:
            # asyncio's stream callback logs a cancelled client task as an error.
            pass
        except Exception:
            log.exception("TCP connection from %s failed", writer.get_extra_info("peername"))
        finally:
            self._tasks.discard(task)
            writer.close()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: ClusterDns) -> None:
        self.server = server
        self.closed = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP socket error: %s", exc)


def _udp_limit(edns: Edns | None) -> int:
    if edns is None:
        return MAX_UDP_PLAIN
    return min(max(edns.udp_size, MAX_UDP_PLAIN), MAX_TCP_MESSAGE)


def _formerr(data: bytes) -> bytes | None:
    """FORMERR for bytes that do not parse, with their id and opcode; None
    for fewer than two bytes or a message marked as a response."""
    if len(data) < 2 or (len(data) > 2 and data[2] & 0x80):
        return None
    opcode = (data[2] >> 3) & 0xF if len(data) > 2 else Opcode.QUERY
    return build(
        Message(id=int.from_bytes(data[:2], "big"), qr=True, opcode=opcode, rcode=Rcode.FORMERR)
    )


def _built(reply: Message, limit: int) -> bytes:
    """The bytes of a zone reply; SERVFAIL if a record cannot be encoded (a
    name from an object that no validation stopped, e.g. a 64-byte label)."""
    try:
        return build(reply, limit)
    except ValueError as e:
        log.warning("cannot encode the answer to %s: %s", reply.questions, e)
        failed = Message(
            id=reply.id,
            qr=True,
            opcode=reply.opcode,
            rd=reply.rd,
            ra=True,
            rcode=Rcode.SERVFAIL,
            questions=reply.questions,
            edns=reply.edns,
        )
        return build(failed)


def _truncated(forwarded: bytes, reply: Message, limit: int) -> bytes:
    """An upstream reply too long for the client's UDP limit, cut to a TC
    reply (SERVFAIL if it does not even parse)."""
    try:
        return build(parse(forwarded), limit)
    except (WireError, ValueError):
        reply.rcode = Rcode.SERVFAIL
        return build(reply)
