"""pinnace.dns.wire against dnspython: what one writes the other must read,
and malformed bytes are a WireError naming the problem, never a crash."""

from __future__ import annotations

import struct
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from pinnace.dns.wire import (
    Address,
    Edns,
    Message,
    Mx,
    Name,
    Opcode,
    Question,
    Rcode,
    Record,
    Soa,
    Srv,
    Txt,
    Type,
    WireError,
    build,
    name_from_text,
    name_to_text,
    parse,
    reply_to,
)

# ---- dnspython writes, we read -------------------------------------------------------


def _query(name: str, rdtype: str, **kw: Any) -> bytes:
    return dns.message.make_query(name, rdtype, **kw).to_wire()


@pytest.mark.parametrize(
    ("data", "name", "qtype", "edns_size", "rd"),
    [
        pytest.param(
            _query("web.default.svc.cluster.local", "A"),
            "web.default.svc.cluster.local",
            Type.A,
            None,
            True,
            id="plain-A",
        ),
        pytest.param(
            _query("Web.Default.SVC.cluster.local", "AAAA"),
            "Web.Default.SVC.cluster.local",
            Type.AAAA,
            None,
            True,
            id="case-kept",
        ),
        pytest.param(
            _query("_http._tcp.web.ns.svc.cluster.local", "SRV", use_edns=0, payload=1232),
            "_http._tcp.web.ns.svc.cluster.local",
            Type.SRV,
            1232,
            True,
            id="edns-srv",
        ),
        pytest.param(
            _query("example.org", "MX", use_edns=0, payload=4096, want_dnssec=True),
            "example.org",
            Type.MX,
            4096,
            True,
            id="edns-do",
        ),
        pytest.param(_query(".", "NS"), "", Type.NS, None, True, id="root"),
        pytest.param(
            _query("a\\.b.example", "TXT"), "a\\.b.example", Type.TXT, None, True, id="escaped-dot"
        ),
    ],
)
def test_parse_queries_from_dnspython(
    data: bytes, name: str, qtype: int, edns_size: int | None, rd: bool
) -> None:
    msg = parse(data)
    assert msg.questions == [Question(name, qtype, 1)]
    assert not msg.qr and msg.opcode == Opcode.QUERY and msg.rd is rd
    assert (msg.edns.udp_size if msg.edns else None) == edns_size
    assert msg.id == struct.unpack("!H", data[:2])[0]


def _dnspython_response() -> bytes:
    """A response with every decoded type, compressed by dnspython."""
    q = dns.message.make_query("x.example.org", "ANY", use_edns=0)
    r = dns.message.make_response(q)
    origin = "x.example.org."
    for rdtype, text in [
        ("A", "10.0.0.1"),
        ("AAAA", "fd00::1"),
        ("CNAME", "y.example.org."),
        ("NS", "ns1.example.org."),
        ("PTR", "p.example.org."),
        ("MX", "10 mail.example.org."),
        ("SRV", "1 2 80 t.example.org."),
        ("TXT", '"hello" "world"'),
        ("SOA", "ns.example.org. host.example.org. 7 100 200 300 5"),
        ("HINFO", '"cpu" "os"'),
    ]:
        r.answer.append(dns.rrset.from_text(origin, 30, "IN", rdtype, text))
    return r.to_wire()


def test_parse_decompresses_record_data_from_dnspython() -> None:
    data = _dnspython_response()
    msg = parse(data)
    assert msg.qr and msg.edns is not None
    got = {r.rtype: r.rdata for r in msg.answers}
    assert all(r.name == "x.example.org" and r.ttl == 30 for r in msg.answers)
    assert got[Type.A] == Address("10.0.0.1")
    assert got[Type.AAAA] == Address("fd00::1")
    assert got[Type.CNAME] == Name("y.example.org")
    assert got[Type.NS] == Name("ns1.example.org")
    assert got[Type.PTR] == Name("p.example.org")
    assert got[Type.MX] == Mx(10, "mail.example.org")
    assert got[Type.SRV] == Srv(1, 2, 80, "t.example.org")
    assert got[Type.TXT] == Txt((b"hello", b"world"))
    assert got[Type.SOA] == Soa("ns.example.org", "host.example.org", 7, 100, 200, 300, 5)
    assert got[13] == b"\x03cpu\x02os"  # HINFO: unknown to us, kept raw
    # Re-encoded elsewhere, the names are still right (decompressed on parse).
    again = dns.message.from_wire(build(msg))
    assert again.answer == dns.message.from_wire(data).answer


# ---- we write, dnspython reads -------------------------------------------------------

RECORDS = [
    pytest.param(Record("a.x", Type.A, 5, Address("10.96.0.1")), "10.96.0.1", id="A"),
    pytest.param(Record("a.x", Type.AAAA, 5, Address("fd00::5")), "fd00::5", id="AAAA"),
    pytest.param(Record("a.x", Type.CNAME, 5, Name("b.example.com")), "b.example.com.", id="CNAME"),
    pytest.param(Record("a.x", Type.PTR, 5, Name("b.x")), "b.x.", id="PTR"),
    pytest.param(Record("a.x", Type.MX, 5, Mx(5, "m.x")), "5 m.x.", id="MX"),
    pytest.param(Record("a.x", Type.SRV, 5, Srv(0, 100, 8080, "a.x")), "0 100 8080 a.x.", id="SRV"),
    pytest.param(Record("a.x", Type.TXT, 5, Txt((b"1.1.0",))), '"1.1.0"', id="TXT"),
    pytest.param(
        Record("x", Type.SOA, 5, Soa("ns.dns.x", "hostmaster.x", 1, 2, 3, 4, 5)),
        "ns.dns.x. hostmaster.x. 1 2 3 4 5",
        id="SOA",
    ),
]


@pytest.mark.parametrize(("record", "text"), RECORDS)
def test_built_records_read_by_dnspython(record: Record, text: str) -> None:
    msg = Message(id=7, qr=True, aa=True, questions=[Question(record.name, record.rtype)])
    msg.answers.append(record)
    got = dns.message.from_wire(build(msg))
    assert got.id == 7 and got.flags & dns.flags.AA and got.flags & dns.flags.QR
    (rrset,) = got.answer
    assert rrset.name == dns.name.from_text(record.name)
    assert rrset.rdtype == record.rtype and rrset.ttl == 5
    assert [rd.to_text() for rd in rrset] == [text]


def test_build_compresses_repeated_names() -> None:
    q = Question("web.default.svc.cluster.local", Type.A)
    msg = Message(id=1, qr=True, questions=[q])
    msg.answers = [Record(q.name, Type.A, 5, Address(f"10.0.0.{i}")) for i in range(10)]
    data = build(msg)
    # 12 header + 35 question + 10 x (2 pointer + 10 fixed + 4 address)
    assert len(data) == 12 + 35 + 10 * 16
    assert len(dns.message.from_wire(data).answer[0]) == 10


@pytest.mark.parametrize(
    ("count", "limit", "truncated"),
    [
        pytest.param(10, 512, False, id="fits-512"),
        pytest.param(40, 512, True, id="over-512"),
        pytest.param(40, 1232, False, id="fits-edns"),
        pytest.param(100, 1232, True, id="over-edns"),
    ],
)
def test_build_sets_tc_past_the_limit(count: int, limit: int, truncated: bool) -> None:
    q = Question("h.default.svc.cluster.local", Type.A)
    msg = Message(id=9, qr=True, questions=[q], edns=Edns())
    msg.answers = [
        Record(q.name, Type.A, 5, Address(f"10.0.{i // 250}.{i % 250}")) for i in range(count)
    ]
    data = build(msg, limit)
    assert len(data) <= limit
    got = dns.message.from_wire(data)
    assert bool(got.flags & dns.flags.TC) is truncated
    assert sum(len(r) for r in got.answer) == (0 if truncated else count)
    assert got.edns == 0  # the OPT record stays


def test_extended_rcode_goes_through_opt() -> None:
    query = parse(_query("x.example", "A", use_edns=0))
    reply = reply_to(query)
    reply.rcode = Rcode.BADVERS
    got = dns.message.from_wire(build(reply))
    assert got.rcode() == dns.rcode.BADVERS
    assert parse(build(reply)).rcode == Rcode.BADVERS
    with pytest.raises(ValueError, match="needs EDNS"):
        build(Message(rcode=Rcode.BADVERS))


# ---- malformed -----------------------------------------------------------------------

GOOD = _query("a.example", "A")
HEADER_1Q = struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0)
OPT = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param(b"", "inside the header", id="empty"),
        pytest.param(GOOD[:11], "inside the header", id="short-header"),
        pytest.param(HEADER_1Q, "inside a name", id="question-missing"),
        pytest.param(GOOD[:-3], "inside a question", id="question-cut"),
        pytest.param(HEADER_1Q + b"\x05ab", "inside a label", id="label-cut"),
        pytest.param(
            HEADER_1Q + b"\xc0\x0c\x00\x01\x00\x01", "does not point backwards", id="pointer-self"
        ),
        pytest.param(
            HEADER_1Q + b"\xc0\x20\x00\x01\x00\x01",
            "does not point backwards",
            id="pointer-forward",
        ),
        pytest.param(HEADER_1Q + b"\xc0", "inside a compression pointer", id="pointer-cut"),
        pytest.param(
            HEADER_1Q + b"\x40abc\x00\x00\x01\x00\x01", "unknown label type", id="label-type"
        ),
        pytest.param(HEADER_1Q + b"\x3fabc" * 1, "inside a label", id="long-label-cut"),
        pytest.param(
            HEADER_1Q + (b"\x3f" + b"a" * 63) * 4 + b"\x00\x00\x01\x00\x01",
            "longer than 255",
            id="name-too-long",
        ),
        pytest.param(GOOD + b"\x00", "1 bytes after the last record", id="trailing"),
        pytest.param(
            struct.pack("!HHHHHH", 1, 0, 0, 0, 0, 2) + OPT + OPT, "more than one OPT", id="two-opt"
        ),
        pytest.param(
            struct.pack("!HHHHHH", 1, 0, 0, 1, 0, 0) + OPT,
            "outside the additional",
            id="opt-in-answer",
        ),
        pytest.param(
            struct.pack("!HHHHHH", 1, 0, 0, 1, 0, 0)
            + b"\x00\x00\x01\x00\x01\x00\x00\x00\x05\x00\x05abcde",
            "has length 5",
            id="A-length",
        ),
        pytest.param(
            struct.pack("!HHHHHH", 1, 0, 0, 1, 0, 0)
            + b"\x00\x00\x01\x00\x01\x00\x00\x00\x05\x00\x09",
            "data of a type 1",
            id="rdata-cut",
        ),
        pytest.param(
            struct.pack("!HHHHHH", 1, 0, 0, 1, 0, 0)
            + b"\x00\x00\x21\x00\x01\x00\x00\x00\x05\x00\x02\x00\x01",
            "too short",
            id="SRV-short",
        ),
        pytest.param(
            struct.pack("!HHHHHH", 1, 0, 0, 1, 0, 0)
            + b"\x00\x00\x05\x00\x01\x00\x00\x00\x05\x00\x03\x00\x00\x00",
            "does not end with its name",
            id="CNAME-extra",
        ),
        pytest.param(
            struct.pack("!HHHHHH", 1, 0, 0, 1, 0, 0)
            + b"\x00\x00\x10\x00\x01\x00\x00\x00\x05\x00\x02\x05a",
            "ends inside a string",
            id="TXT-cut",
        ),
        pytest.param(
            struct.pack("!HHHHHH", 1, 0, 0xFFFF, 0, 0, 0), "inside a name", id="huge-count"
        ),
    ],
)
def test_malformed_is_a_wire_error(data: bytes, error: str) -> None:
    with pytest.raises(WireError, match=error):
        parse(data)


def test_every_cut_of_a_real_message_is_an_error() -> None:
    data = _dnspython_response()
    for end in range(len(data)):
        with pytest.raises(WireError):
            parse(data[:end])


# ---- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "text"),
    [
        pytest.param([], "", id="root"),
        pytest.param([b"web", b"default"], "web.default", id="plain"),
        pytest.param([b"a.b", b"c"], "a\\.b.c", id="dot-in-label"),
        pytest.param([b"a\\b"], "a\\\\b", id="backslash"),
        pytest.param([b"a b\x00\xff"], "a\\032b\\000\\255", id="unprintable"),
    ],
)
def test_name_text_round_trip(labels: list[bytes], text: str) -> None:
    assert name_to_text(labels) == text
    assert name_from_text(text) == labels
    assert name_from_text(text + ".") == labels


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("a..b", "empty label", id="empty-label"),
        pytest.param("a" * 64, "longer than 63", id="long-label"),
        pytest.param(".".join(["a" * 63] * 4), "longer than 255", id="long-name"),
        pytest.param("a\\", "lone backslash", id="lone-backslash"),
        pytest.param("a\\300", "over 255", id="big-escape"),
    ],
)
def test_bad_text_names(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        name_from_text(text)


def test_reply_to_copies_id_question_and_edns() -> None:
    query = parse(_query("A.example", "SRV", use_edns=0, payload=4000))
    query.cd = True
    reply = reply_to(query)
    assert (reply.id, reply.qr, reply.rd, reply.cd) == (query.id, True, True, True)
    assert reply.questions == query.questions
    assert reply.edns is not None and reply.edns.udp_size == 1232
    got = dns.message.from_wire(build(reply))
    assert got.question[0].name == dns.name.from_text("A.example")
    assert got.opcode() == dns.opcode.QUERY
    assert got.question[0].rdclass == dns.rdataclass.IN
    assert got.question[0].rdtype == dns.rdatatype.SRV
    assert got.edns == 0 and got.payload == 1232
