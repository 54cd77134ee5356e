"""ClusterDns on real loopback sockets, asked with dnspython: the protocol
rules (FORMERR, NOTIMP, BADVERS, TC, SERVFAIL before sync), forwarding to a
fake upstream on 127.0.0.1, and resolv.conf parsing. The stores are real
Stores behind a stand-in informer; the integration test uses real ones."""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import dns.asyncquery
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import pytest

from pinnace.dns import ClusterDns, host_upstreams
from pinnace.dns.upstream import parse_resolv_conf
from tests.unit.dns.dns_fakes import (
    UPSTREAM_ADDRESS,
    FakeInformer,
    FakeUpstream,
    endpoint_slice,
    service,
    tcp_exchange,
    udp_exchange,
)

T = 5.0  # seconds a dnspython query may take: a deadline, not a speed claim


@dataclass
class Setup:
    dns: ClusterDns
    addr: tuple[str, int]
    services: FakeInformer
    slices: FakeInformer
    upstream: FakeUpstream


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    upstream = FakeUpstream({"www.example.com": "192.0.2.80", "db.example.com": "192.0.2.5"})
    up_addr = await upstream.start()
    services, slices = FakeInformer(), FakeInformer()
    services.store.upsert(service("default", "web", "10.96.0.7", ports=(("http", "TCP", 80),)))
    services.store.upsert(service("default", "big", "None"))
    services.store.upsert(
        service("default", "ext", type_="ExternalName", external_name="db.example.com")
    )
    eps = tuple((f"10.244.{i // 200}.{i % 200 + 1}", None, True) for i in range(100))
    slices.store.upsert(endpoint_slice("default", "big-a", "big", eps))
    server = ClusterDns(services.as_informer(), slices.as_informer(), upstream=[up_addr])
    addr = await server.serve("127.0.0.1", 0)
    try:
        yield Setup(server, addr, services, slices, upstream)
    finally:
        await server.close()
        await upstream.stop()


def q(name: str, rdtype: str = "A", **kw: object) -> dns.message.Message:
    return dns.message.make_query(name, rdtype, **kw)  # type: ignore[arg-type]  # dnspython's kwargs are typed one by one


def addresses(msg: dns.message.Message) -> list[str]:
    return sorted(rd.to_text() for rrset in msg.answer for rd in rrset)


async def test_serves_udp_and_tcp_on_one_port(setup: Setup) -> None:
    host, port = setup.addr
    assert host == "127.0.0.1" and port > 0
    for ask in (dns.asyncquery.udp, dns.asyncquery.tcp):
        got = await ask(q("web.default.svc.cluster.local"), host, port=port, timeout=T)
        assert got.rcode() == dns.rcode.NOERROR and got.flags & dns.flags.AA
        assert got.flags & dns.flags.RA and got.flags & dns.flags.RD
        assert addresses(got) == ["10.96.0.7"]
        assert got.answer[0].ttl == 5


async def test_nxdomain_carries_the_soa(setup: Setup) -> None:
    host, port = setup.addr
    got = await dns.asyncquery.udp(q("nope.default.svc.cluster.local"), host, port=port, timeout=T)
    assert got.rcode() == dns.rcode.NXDOMAIN and not got.answer
    assert [r.rdtype for r in got.authority] == [dns.rdatatype.SOA]


async def test_udp_answer_past_the_limit_is_truncated_and_tcp_has_it_all(setup: Setup) -> None:
    """100 endpoints: 1,660 bytes of A records, over 512 and 1,232."""
    host, port = setup.addr
    name = "big.default.svc.cluster.local"
    got = await dns.asyncquery.udp(q(name), host, port=port, timeout=T)
    assert got.flags & dns.flags.TC and not got.answer
    got = await dns.asyncquery.udp(q(name, use_edns=0, payload=4096), host, port=port, timeout=T)
    assert not got.flags & dns.flags.TC and len(addresses(got)) == 100
    got = await dns.asyncquery.tcp(q(name), host, port=port, timeout=T)
    assert not got.flags & dns.flags.TC and len(addresses(got)) == 100
    assert got.flags & dns.flags.AA


async def test_servfail_until_the_informers_synced(setup: Setup) -> None:
    host, port = setup.addr
    setup.slices.synced = False
    got = await dns.asyncquery.udp(q("web.default.svc.cluster.local"), host, port=port, timeout=T)
    assert got.rcode() == dns.rcode.SERVFAIL
    setup.slices.synced = True
    got = await dns.asyncquery.udp(q("web.default.svc.cluster.local"), host, port=port, timeout=T)
    assert got.rcode() == dns.rcode.NOERROR


@pytest.mark.parametrize(
    ("name", "rdtype", "rdclass", "rcode"),
    [
        pytest.param("cluster.local", "AXFR", "IN", dns.rcode.REFUSED, id="axfr"),
        pytest.param("web.default.svc.cluster.local", "A", "CH", dns.rcode.REFUSED, id="chaos"),
        pytest.param(
            "web.default.svc.cluster.local", "A", "ANY", dns.rcode.NOERROR, id="class-any"
        ),
        pytest.param("web.default.svc.cluster.local", "AAAA", "IN", dns.rcode.NOERROR, id="aaaa"),
    ],
)
async def test_zone_refusals(
    setup: Setup, name: str, rdtype: str, rdclass: str, rcode: int
) -> None:
    host, port = setup.addr
    got = await dns.asyncquery.tcp(
        dns.message.make_query(name, rdtype, rdclass), host, port=port, timeout=T
    )
    assert got.rcode() == rcode


async def test_forwarding_over_udp_and_tcp(setup: Setup) -> None:
    host, port = setup.addr
    got = await dns.asyncquery.udp(q("www.example.com"), host, port=port, timeout=T)
    assert got.rcode() == dns.rcode.NOERROR and addresses(got) == ["192.0.2.80"]
    assert not got.flags & dns.flags.AA
    got = await dns.asyncquery.tcp(q("other.example.org"), host, port=port, timeout=T)
    assert addresses(got) == [UPSTREAM_ADDRESS]
    setup.upstream.nxdomain.add("gone.example.org")
    got = await dns.asyncquery.udp(q("gone.example.org"), host, port=port, timeout=T)
    assert got.rcode() == dns.rcode.NXDOMAIN
    assert setup.upstream.asked == [
        ("www.example.com", "udp"),
        ("other.example.org", "tcp"),
        ("gone.example.org", "udp"),
    ]


async def test_reverse_lookup_of_a_service_ip_and_forwarding_of_others(setup: Setup) -> None:
    host, port = setup.addr
    got = await dns.asyncquery.udp(q("7.0.96.10.in-addr.arpa", "PTR"), host, port=port, timeout=T)
    assert got.flags & dns.flags.AA
    assert [rd.to_text() for rrset in got.answer for rd in rrset] == [
        "web.default.svc.cluster.local."
    ]
    got = await dns.asyncquery.udp(q("9.9.9.10.in-addr.arpa", "PTR"), host, port=port, timeout=T)
    assert not got.flags & dns.flags.AA
    assert setup.upstream.asked == [("9.9.9.10.in-addr.arpa", "udp")]


async def test_forwarded_answer_past_the_client_limit_is_truncated(setup: Setup) -> None:
    """The fake upstream ignores the 512-byte limit; the server does not."""
    host, port = setup.addr
    got = await dns.asyncquery.udp(q("big.example"), host, port=port, timeout=T)
    assert got.flags & dns.flags.TC and not got.answer
    got = await dns.asyncquery.tcp(q("big.example"), host, port=port, timeout=T)
    assert len(addresses(got)) == 100


async def test_external_name_gets_the_target_from_upstream(setup: Setup) -> None:
    host, port = setup.addr
    got = await dns.asyncquery.udp(q("ext.default.svc.cluster.local"), host, port=port, timeout=T)
    assert got.rcode() == dns.rcode.NOERROR
    texts = sorted(f"{r.name} {dns.rdatatype.to_text(r.rdtype)} {r[0]}" for r in got.answer)
    assert texts == [
        "db.example.com. A 192.0.2.5",
        "ext.default.svc.cluster.local. CNAME db.example.com.",
    ]


@pytest.mark.parametrize(
    "upstream",
    [
        pytest.param("closed", id="port-closed"),
        pytest.param("silent", id="no-answer"),
        pytest.param("none", id="no-upstream"),
    ],
)
async def test_servfail_when_no_upstream_answers(upstream: str) -> None:
    services, slices = FakeInformer(), FakeInformer()
    silent = await udp_silent_socket()
    upstreams = {
        "closed": [("127.0.0.1", await closed_port())],
        "silent": [silent.get_extra_info("sockname")[:2]],
        "none": [],
    }[upstream]
    server = ClusterDns(services.as_informer(), slices.as_informer(), upstream=upstreams)
    server.forward_timeout = 0.2
    host, port = await server.serve("127.0.0.1", 0)
    try:
        for ask in (dns.asyncquery.udp, dns.asyncquery.tcp):
            got = await ask(q("www.example.com"), host, port=port, timeout=T)
            assert got.rcode() == dns.rcode.SERVFAIL
    finally:
        await server.close()
        silent.close()


async def udp_silent_socket() -> asyncio.DatagramTransport:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    return transport


async def closed_port() -> int:
    transport = await udp_silent_socket()
    port: int = transport.get_extra_info("sockname")[1]
    transport.close()
    return port


# ---- malformed and unsupported -------------------------------------------------------

HEADER = struct.Struct("!HHHHHH")
QUESTION = b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"


@pytest.mark.parametrize(
    ("data", "rcode", "opcode"),
    [
        pytest.param(b"\x12\x34", dns.rcode.FORMERR, 0, id="two-bytes"),
        pytest.param(
            HEADER.pack(0x1234, 0x0100, 1, 0, 0, 0), dns.rcode.FORMERR, 0, id="question-missing"
        ),
        pytest.param(
            HEADER.pack(0x1234, 0x0100, 1, 0, 0, 0) + QUESTION[:-2],
            dns.rcode.FORMERR,
            0,
            id="question-cut",
        ),
        pytest.param(
            HEADER.pack(0x1234, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01",
            dns.rcode.FORMERR,
            0,
            id="pointer-loop",
        ),
        pytest.param(
            HEADER.pack(0x1234, 0x0100, 0, 0, 0, 0), dns.rcode.FORMERR, 0, id="no-question"
        ),
        pytest.param(
            HEADER.pack(0x1234, 0x0100, 2, 0, 0, 0) + QUESTION * 2,
            dns.rcode.FORMERR,
            0,
            id="two-questions",
        ),
        pytest.param(
            HEADER.pack(0x1234, 0x0100, 1, 0, 0, 0) + QUESTION + b"junk",
            dns.rcode.FORMERR,
            0,
            id="trailing",
        ),
        pytest.param(
            HEADER.pack(0x1234, 0x2800, 1, 0, 0, 0) + QUESTION, dns.rcode.NOTIMP, 5, id="update"
        ),
        pytest.param(
            HEADER.pack(0x1234, 0x1000, 1, 0, 0, 0) + QUESTION, dns.rcode.NOTIMP, 2, id="status"
        ),
        pytest.param(
            HEADER.pack(0x1234, 0x1000, 0, 0, 0, 0), dns.rcode.NOTIMP, 2, id="status-empty"
        ),
    ],
)
async def test_bad_queries_get_an_error_and_the_server_goes_on(
    setup: Setup, data: bytes, rcode: int, opcode: int
) -> None:
    for raw in [await udp_exchange(data, setup.addr, T), *await tcp_exchange([data], setup.addr)]:
        assert raw is not None
        assert raw[:2] == b"\x12\x34"
        flags = struct.unpack("!H", raw[2:4])[0]
        assert flags & 0x8000 and flags & 0xF == rcode and (flags >> 11) & 0xF == opcode
        if opcode != dns.opcode.UPDATE:  # dnspython reads an UPDATE's question as a zone (SOA)
            dns.message.from_wire(raw)  # well-formed
    got = await dns.asyncquery.udp(
        q("web.default.svc.cluster.local"), *setup.addr[:1], port=setup.addr[1], timeout=T
    )
    assert addresses(got) == ["10.96.0.7"]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x12", id="one-byte"),
        pytest.param(HEADER.pack(0x1234, 0x8100, 1, 0, 0, 0) + QUESTION, id="a-response"),
        pytest.param(HEADER.pack(0x1234, 0x8100, 1, 0, 0, 0), id="a-malformed-response"),
    ],
)
async def test_no_reply_to_what_cannot_be_answered(setup: Setup, data: bytes) -> None:
    assert await setup.dns.handle(data, tcp=False) is None


async def test_mutated_queries_never_crash_the_handler() -> None:
    """2,000 queries with random bytes flipped, cut or appended (seeded):
    every reply is nothing or a well-formed response with the query's id."""
    services, slices = FakeInformer(), FakeInformer()
    services.store.upsert(service("default", "web", "10.96.0.7", ports=(("http", "TCP", 80),)))
    server = ClusterDns(services.as_informer(), slices.as_informer(), upstream=[])
    seeds = [
        q("web.default.svc.cluster.local", use_edns=0).to_wire(),
        q("_http._tcp.web.default.svc.cluster.local", "SRV").to_wire(),
        q("7.0.96.10.in-addr.arpa", "PTR").to_wire(),
    ]
    rng = random.Random(11)
    replies = 0
    for i in range(2000):
        data = bytearray(seeds[i % len(seeds)])
        for _ in range(rng.randint(1, 4)):
            action = rng.random()
            if action < 0.6:
                data[rng.randrange(len(data))] = rng.randrange(256)
            elif action < 0.8:
                del data[rng.randrange(len(data)) :]
            else:
                data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            if not data:
                break
        reply = await server.handle(bytes(data), tcp=bool(i % 2))
        if reply is None:
            continue
        replies += 1
        assert reply[:2] == bytes(data[:2]) and reply[2] & 0x80
        if (reply[2] >> 3) & 0xF != dns.opcode.UPDATE:  # dnspython wants a zone (SOA) there
            dns.message.from_wire(reply)
    assert replies > 1000


async def test_edns_version_1_is_badvers(setup: Setup) -> None:
    host, port = setup.addr
    got = await dns.asyncquery.udp(
        q("web.default.svc.cluster.local", use_edns=1), host, port=port, timeout=T
    )
    assert got.rcode() == dns.rcode.BADVERS


async def test_edns_is_answered_with_edns(setup: Setup) -> None:
    host, port = setup.addr
    got = await dns.asyncquery.udp(
        q("web.default.svc.cluster.local", use_edns=0), host, port=port, timeout=T
    )
    assert got.edns == 0 and got.payload >= 512


async def test_several_queries_on_one_tcp_connection(setup: Setup) -> None:
    names = ["web.default.svc.cluster.local", "www.example.com", "nope.default.svc.cluster.local"]
    queries = [q(n) for n in names]
    replies = await tcp_exchange([m.to_wire() for m in queries], setup.addr)
    got = [dns.message.from_wire(r) for r in replies]
    assert [m.id for m in got] == [m.id for m in queries]
    assert [m.rcode() for m in got] == [dns.rcode.NOERROR, dns.rcode.NOERROR, dns.rcode.NXDOMAIN]


async def test_serve_twice_and_taken_port() -> None:
    a = ClusterDns(FakeInformer().as_informer(), FakeInformer().as_informer(), upstream=[])
    b = ClusterDns(FakeInformer().as_informer(), FakeInformer().as_informer(), upstream=[])
    addr = await a.serve("127.0.0.1", 0)
    try:
        with pytest.raises(RuntimeError, match="already serving"):
            await a.serve("127.0.0.1", 0)
        with pytest.raises(OSError):
            await b.serve(*addr)
    finally:
        await a.close()
        await b.close()


async def test_own_address_is_not_an_upstream() -> None:
    server = ClusterDns(FakeInformer().as_informer(), FakeInformer().as_informer(), upstream=[])
    host, port = await server.serve("127.0.0.1", 0)
    await server.close()
    again = ClusterDns(
        FakeInformer().as_informer(),
        FakeInformer().as_informer(),
        upstream=[(host, port), ("127.0.0.2", 53)],
    )
    try:
        assert await again.serve(host, port) == (host, port)
        assert again.upstreams == [("127.0.0.2", 53)]
    finally:
        await again.close()


# ---- resolv.conf ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "upstreams"),
    [
        pytest.param("nameserver 10.0.0.2\n", [("10.0.0.2", 53)], id="one"),
        pytest.param(
            "# comment\nsearch example.com\nnameserver 1.1.1.1\nnameserver ::1\noptions ndots:5\n",
            [("1.1.1.1", 53), ("::1", 53)],
            id="mixed",
        ),
        pytest.param("nameserver fe80::1%eth0\n", [("fe80::1%eth0", 53)], id="scoped-v6"),
        pytest.param("nameserver not-an-ip\n;nameserver 1.2.3.4\nnameserver\n", [], id="bad-lines"),
        pytest.param("", [], id="empty"),
    ],
)
def test_parse_resolv_conf(text: str, upstreams: list[tuple[str, int]]) -> None:
    assert parse_resolv_conf(text) == upstreams


def test_host_upstreams_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 127.0.0.53\n")
    assert host_upstreams(path) == [("127.0.0.53", 53)]
    assert host_upstreams(tmp_path / "missing") == []
