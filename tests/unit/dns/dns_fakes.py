"""Test doubles for the cluster DNS tests: a fake upstream DNS server on
127.0.0.1 written with dnspython (not with pinnace.dns.wire), raw UDP/TCP
exchanges, a stand-in for an Informer (a real Store plus a sync flag), and
builders of Services and EndpointSlices."""

from __future__ import annotations

import asyncio
import struct
from typing import cast

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from pinnace.api.core.v1 import service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.client.informer import Informer, Store
from pinnace.machinery.wellknown import LABEL_SERVICE_NAME

UPSTREAM_ADDRESS = "192.0.2.1"  # TEST-NET-1: only ever data in an answer, never a destination


def service(
    ns: str,
    name: str,
    cluster_ip: str = "",
    *,
    ports: tuple[tuple[str, str, int], ...] = (),
    type_: str = "ClusterIP",
    external_name: str = "",
    publish_not_ready: bool = False,
    cluster_ips: tuple[str, ...] = (),
) -> service_pb2.Service:
    svc = service_pb2.Service()
    svc.metadata.namespace, svc.metadata.name = ns, name
    svc.spec.type = type_
    svc.spec.cluster_ip = cluster_ip
    svc.spec.cluster_ips.extend(cluster_ips or ((cluster_ip,) if cluster_ip else ()))
    svc.spec.external_name = external_name
    svc.spec.publish_not_ready_addresses = publish_not_ready
    for pname, proto, port in ports:
        svc.spec.ports.add(name=pname, protocol=proto, port=port)
    return svc


Ep = tuple[str, str | None, bool | None]  # address, hostname, ready


def endpoint_slice(
    ns: str,
    name: str,
    svc: str,
    endpoints: tuple[Ep, ...],
    *,
    ports: tuple[tuple[str, str, int], ...] = (),
    address_type: str = "IPv4",
) -> endpointslice_pb2.EndpointSlice:
    sl = endpointslice_pb2.EndpointSlice(address_type=address_type)
    sl.metadata.namespace, sl.metadata.name = ns, name
    sl.metadata.labels[LABEL_SERVICE_NAME] = svc
    for address, hostname, ready in endpoints:
        ep = sl.endpoints.add(addresses=[address])
        if hostname is not None:
            ep.hostname = hostname
        if ready is not None:
            ep.conditions.ready = ready
    for pname, proto, port in ports:
        p = sl.ports.add(port=port)
        if pname:
            p.name = pname
        if proto:
            p.protocol = proto
    return sl


class FakeUpstream:
    """A DNS server on 127.0.0.1, UDP and TCP on one port. Every A question
    gets ``answers.get(name, UPSTREAM_ADDRESS)``; ``big.example`` gets 100 A
    records whatever the client's size limit (a careless upstream); names in
    ``nxdomain`` get NXDOMAIN. ``asked`` records (name, "udp"|"tcp")."""

    def __init__(self, answers: dict[str, str] | None = None) -> None:
        self.answers = answers or {}
        self.nxdomain: set[str] = set()
        self.asked: list[tuple[str, str]] = []
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        for _ in range(8):
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _UpstreamUdp(self), local_addr=("127.0.0.1", 0)
            )
            port = udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._on_tcp, "127.0.0.1", port)
            except OSError:
                udp.close()
                continue
            self._udp = udp
            return ("127.0.0.1", port)
        raise OSError("no free port for the fake upstream")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    def reply(self, data: bytes, transport: str) -> bytes:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        q = query.question[0]
        name = q.name.to_text(omit_final_dot=True).lower()
        self.asked.append((name, transport))
        if name in self.nxdomain:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif q.rdtype == dns.rdatatype.A:
            ips = [f"192.0.2.{i}" for i in range(1, 101)] if name == "big.example" else None
            ips = ips or [self.answers.get(name, UPSTREAM_ADDRESS)]
            response.answer.append(dns.rrset.from_text_list(q.name, 60, "IN", "A", ips))
        return response.to_wire()

    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            reply = self.reply(await reader.readexactly(length), "tcp")
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
        finally:
            writer.close()


class _UpstreamUdp(asyncio.DatagramProtocol):
    def __init__(self, upstream: FakeUpstream) -> None:
        self.upstream = upstream
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(self.upstream.reply(data, "udp"), addr)


class _Collect(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.put_nowait(data)


async def udp_exchange(data: bytes, addr: tuple[str, int], timeout: float) -> bytes | None:
    """Send raw bytes over UDP; the first datagram back, or None after ``timeout``."""
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Collect, remote_addr=addr)
    try:
        transport.sendto(data)
        try:
            return await asyncio.wait_for(proto.got.get(), timeout)
        except TimeoutError:
            return None
    finally:
        transport.close()


async def tcp_exchange(messages: list[bytes], addr: tuple[str, int]) -> list[bytes]:
    """Send raw messages on one TCP connection (length-prefixed); the replies."""
    reader, writer = await asyncio.open_connection(*addr)
    try:
        for m in messages:
            writer.write(struct.pack("!H", len(m)) + m)
        await writer.drain()
        out = []
        for _ in messages:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            out.append(await reader.readexactly(length))
        return out
    finally:
        writer.close()


class FakeInformer:
    """What ClusterDns reads of an Informer: its store and whether it synced."""

    def __init__(self, *, synced: bool = True) -> None:
        self.store = Store()
        self.synced = synced

    def has_synced(self) -> bool:
        return self.synced

    def as_informer(self) -> Informer:
        return cast(Informer, self)
