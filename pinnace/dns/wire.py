"""DNS messages on the wire (RFC 1035 section 4, EDNS0 from RFC 6891).

    query = parse(data)                      # WireError on anything malformed
    reply = reply_to(query)                  # id, opcode, RD and question copied
    reply.answers.append(Record("web.default.svc.cluster.local", A, ttl=5, rdata=Address("10.96.0.7")))
    data = build(reply, limit=512)           # TC set and records dropped past the limit

What it covers, and why that much:

* Names are text without the trailing dot (the root is ""), labels joined by
  dots; a label byte that is a dot, a backslash or not printable ASCII is
  written as in master files (``\\.``, ``\\\\``, ``\\DDD``), so every wire name
  has exactly one text form and back. Parsing follows compression pointers
  (RFC 1035 4.1.4) only backwards, so a pointer loop is an error, not a hang;
  a name over 255 bytes or a label over 63 is an error too. Building
  compresses owner names and the names inside NS, CNAME, PTR, MX and SOA
  data (the types RFC 3597 allows), never SRV's target (RFC 2782).
* Record data of A, AAAA, NS, CNAME, PTR, MX, SOA, SRV and TXT is decoded
  into typed values, so records taken from an upstream answer can be put into
  another message (their compressed names would point into the wrong message
  otherwise); every other type is kept as raw bytes.
* EDNS0: one OPT record in the additional section becomes ``Message.edns``
  (the requester's UDP payload size, version, DO bit and options, kept as
  bytes). Two OPT records, or one that is not owned by the root, make the
  message malformed (RFC 6891 6.1.1). Extended rcodes (> 15) are split
  between the header and the OPT record as the RFC says.
* ``build(message, limit)`` for UDP: when the message does not fit in
  ``limit`` bytes, the answer, authority and additional records are dropped
  (the OPT record stays) and TC is set, so the client asks again over TCP,
  as RFC 2181 9 prefers to a partial RRset.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from enum import IntEnum

__all__ = [
    "MAX_UDP_PLAIN",
    "Address",
    "Edns",
    "Message",
    "Mx",
    "Name",
    "Opcode",
    "Question",
    "Rcode",
    "Record",
    "Soa",
    "Srv",
    "Txt",
    "Type",
    "WireError",
    "build",
    "name_from_text",
    "name_to_text",
    "parse",
    "reply_to",
]

MAX_UDP_PLAIN = 512  # RFC 1035 2.3.4: a UDP message without EDNS0
MAX_NAME = 255
MAX_LABEL = 63
HEADER = struct.Struct("!HHHHHH")
CLASS_IN = 1


class Type(IntEnum):
    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    MX = 15
    TXT = 16
    AAAA = 28
    SRV = 33
    OPT = 41
    IXFR = 251
    AXFR = 252
    ANY = 255


class Rcode(IntEnum):
    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    BADVERS = 16  # extended (RFC 6891): needs an OPT record


class Opcode(IntEnum):
    QUERY = 0
    IQUERY = 1
    STATUS = 2
    NOTIFY = 4
    UPDATE = 5


class WireError(ValueError):
    """The bytes are not a well-formed DNS message; says where and why."""


# ---- record data -------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """A (IPv4) or AAAA (IPv6) data."""

    ip: str


@dataclass(frozen=True)
class Name:
    """NS, CNAME or PTR data: one domain name."""

    target: str


@dataclass(frozen=True)
class Mx:
    preference: int
    exchange: str


@dataclass(frozen=True)
class Srv:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True)
class Soa:
    mname: str
    rname: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int


@dataclass(frozen=True)
class Txt:
    strings: tuple[bytes, ...]


Rdata = Address | Name | Mx | Srv | Soa | Txt | bytes


@dataclass(frozen=True)
class Question:
    name: str
    qtype: int
    qclass: int = CLASS_IN


@dataclass(frozen=True)
class Record:
    name: str
    rtype: int
    ttl: int
    rdata: Rdata
    rclass: int = CLASS_IN


@dataclass
class Edns:
    """The OPT pseudo-record: ``udp_size`` is the largest UDP reply the
    sender takes (a value below 512 means 512, RFC 6891 6.2.3)."""

    udp_size: int = 1232
    version: int = 0
    do: bool = False
    options: bytes = b""


@dataclass
class Message:
    id: int = 0
    qr: bool = False
    opcode: int = Opcode.QUERY
    aa: bool = False
    tc: bool = False
    rd: bool = False
    ra: bool = False
    ad: bool = False
    cd: bool = False
    rcode: int = Rcode.NOERROR
    questions: list[Question] = field(default_factory=list)
    answers: list[Record] = field(default_factory=list)
    authority: list[Record] = field(default_factory=list)
    additional: list[Record] = field(default_factory=list)  # without the OPT record
    edns: Edns | None = None

    @property
    def question(self) -> Question:
        """The only question (queries carry one; ``parse`` does not check)."""
        return self.questions[0]


def reply_to(query: Message) -> Message:
    """The start of a response: id, opcode, RD, CD and the question copied,
    QR set, EDNS answered when the query had it."""
    return Message(
        id=query.id,
        qr=True,
        opcode=query.opcode,
        rd=query.rd,
        cd=query.cd,
        questions=list(query.questions),
        edns=Edns() if query.edns is not None else None,
    )


# ---- names -------------------------------------------------------------------------


def name_to_text(labels: list[bytes]) -> str:
    return ".".join(_label_text(label) for label in labels)


def _label_text(label: bytes) -> str:
    out = []
    for b in label:
        if b in (0x2E, 0x5C):
            out.append("\\" + chr(b))
        elif 0x21 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return "".join(out)


def name_from_text(text: str) -> list[bytes]:
    """The labels of a text name (a trailing dot is allowed; "" and "." are
    the root). ValueError for an empty label, a bad escape or a long name."""
    if text in ("", "."):
        return []
    labels: list[bytes] = []
    current = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if text[i + 1 : i + 4].isdigit() and len(text[i + 1 : i + 4]) == 3:
                value = int(text[i + 1 : i + 4])
                if value > 255:
                    raise ValueError(f"name {text!r}: escape \\{value} is over 255")
                current.append(value)
                i += 4
                continue
            if i + 1 >= len(text):
                raise ValueError(f"name {text!r} ends in a lone backslash")
            current.extend(text[i + 1].encode("latin-1"))
            i += 2
            continue
        if c == ".":
            _end_label(text, labels, current, last=i == len(text) - 1)
            current = bytearray()
        else:
            current.extend(c.encode("latin-1"))
        i += 1
    if current:
        _end_label(text, labels, current, last=True)
    if sum(len(label) + 1 for label in labels) + 1 > MAX_NAME:
        raise ValueError(f"name {text!r} is longer than {MAX_NAME} bytes on the wire")
    return labels


def _end_label(text: str, labels: list[bytes], label: bytearray, *, last: bool) -> None:
    if not label:
        raise ValueError(f"name {text!r} has an empty label")
    if len(label) > MAX_LABEL:
        raise ValueError(f"name {text!r} has a label longer than {MAX_LABEL} bytes")
    labels.append(bytes(label))


# ---- parsing -----------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise WireError(f"message ends inside {what} (at byte {self.pos}, need {n} more)")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, fmt: struct.Struct, what: str) -> tuple[int, ...]:
        return fmt.unpack(self.take(fmt.size, what))

    def name(self) -> str:
        labels, self.pos = _read_name(self.data, self.pos)
        return name_to_text(labels)


def _read_name(data: bytes, pos: int) -> tuple[list[bytes], int]:
    """Labels of the name at ``pos`` and the position after it (after the
    first pointer, if any). Pointers must point before the name they are in."""
    labels: list[bytes] = []
    length = 1
    end = -1
    floor = pos  # a pointer must go below this: no loops
    while True:
        if pos >= len(data):
            raise WireError(f"message ends inside a name (at byte {pos})")
        n = data[pos]
        if n & 0xC0 == 0xC0:
            if pos + 1 >= len(data):
                raise WireError(f"message ends inside a compression pointer (at byte {pos})")
            target = ((n & 0x3F) << 8) | data[pos + 1]
            if target >= floor:
                raise WireError(f"compression pointer at byte {pos} does not point backwards")
            if end < 0:
                end = pos + 2
            floor = pos = target
            continue
        if n & 0xC0:
            raise WireError(f"unknown label type 0x{n & 0xC0:02x} at byte {pos}")
        if n == 0:
            return labels, (end if end >= 0 else pos + 1)
        if pos + 1 + n > len(data):
            raise WireError(f"message ends inside a label (at byte {pos})")
        length += n + 1
        if length > MAX_NAME:
            raise WireError(f"name at byte {pos} is longer than {MAX_NAME} bytes")
        labels.append(data[pos + 1 : pos + 1 + n])
        pos += 1 + n


_U16 = struct.Struct("!H")
_RR = struct.Struct("!HHIH")
_SOA = struct.Struct("!IIIII")
_SRV = struct.Struct("!HHH")


def parse(data: bytes) -> Message:
    """A message from its bytes; WireError for anything malformed (short,
    counts that run past the end, bad names, trailing bytes, two OPTs)."""
    r = _Reader(data)
    ident, flags, qd, an, ns, ar = r.unpack(HEADER, "the header")
    msg = Message(
        id=ident,
        qr=bool(flags & 0x8000),
        opcode=(flags >> 11) & 0xF,
        aa=bool(flags & 0x0400),
        tc=bool(flags & 0x0200),
        rd=bool(flags & 0x0100),
        ra=bool(flags & 0x0080),
        ad=bool(flags & 0x0020),
        cd=bool(flags & 0x0010),
        rcode=flags & 0xF,
    )
    for _ in range(qd):
        name = r.name()
        qtype, qclass = r.unpack(_QUESTION, "a question")
        msg.questions.append(Question(name, qtype, qclass))
    for section, count in ((msg.answers, an), (msg.authority, ns), (msg.additional, ar)):
        for _ in range(count):
            _read_record(r, msg, section)
    if r.pos != len(data):
        raise WireError(f"{len(data) - r.pos} bytes after the last record")
    return msg


_QUESTION = struct.Struct("!HH")


def _read_record(r: _Reader, msg: Message, section: list[Record]) -> None:
    name = r.name()
    rtype, rclass, ttl, rdlength = r.unpack(_RR, "a record header")
    start = r.pos
    r.take(rdlength, f"the data of a type {rtype} record")
    if rtype == Type.OPT:
        if section is not msg.additional:
            raise WireError("an OPT record outside the additional section")
        if msg.edns is not None:
            raise WireError("more than one OPT record")
        if name:
            raise WireError(f"an OPT record owned by {name!r}, not the root")
        msg.edns = Edns(
            udp_size=rclass,
            version=(ttl >> 16) & 0xFF,
            do=bool(ttl & 0x8000),
            options=r.data[start : r.pos],
        )
        msg.rcode |= (ttl >> 24) << 4
        return
    rdata = _read_rdata(r.data, start, rdlength, rtype)
    section.append(Record(name, rtype, ttl, rdata, rclass))


def _read_rdata(data: bytes, start: int, length: int, rtype: int) -> Rdata:
    end = start + length
    body = data[start:end]
    try:
        if rtype == Type.A and length == 4:
            return Address(str(ipaddress.IPv4Address(body)))
        if rtype == Type.AAAA and length == 16:
            return Address(str(ipaddress.IPv6Address(body)))
        if rtype in (Type.NS, Type.CNAME, Type.PTR):
            return Name(_name_within(data, start, end))
        if rtype == Type.MX:
            (pref,) = _U16.unpack_from(data, start)
            return Mx(pref, _name_within(data, start + 2, end))
        if rtype == Type.SRV:
            prio, weight, port = _SRV.unpack_from(data, start)
            return Srv(prio, weight, port, _name_within(data, start + 6, end))
        if rtype == Type.SOA:
            mname, pos = _read_name(data, start)
            rname, pos = _read_name(data, pos)
            if pos + _SOA.size != end:
                raise WireError(f"SOA data at byte {start} has the wrong length")
            fields = _SOA.unpack_from(data, pos)
            return Soa(name_to_text(mname), name_to_text(rname), *fields)
        if rtype == Type.TXT:
            return Txt(_character_strings(body, start))
    except struct.error:
        raise WireError(f"type {rtype} data at byte {start} is too short") from None
    if rtype in (Type.A, Type.AAAA):
        raise WireError(f"type {rtype} data at byte {start} has length {length}")
    return bytes(body)


def _name_within(data: bytes, start: int, end: int) -> str:
    labels, pos = _read_name(data, start)
    if pos != end:
        raise WireError(f"record data at byte {start} does not end with its name")
    return name_to_text(labels)


def _character_strings(body: bytes, start: int) -> tuple[bytes, ...]:
    out = []
    i = 0
    while i < len(body):
        n = body[i]
        if i + 1 + n > len(body):
            raise WireError(f"TXT data at byte {start} ends inside a string")
        out.append(body[i + 1 : i + 1 + n])
        i += 1 + n
    return tuple(out)


# ---- building ----------------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.offsets: dict[tuple[bytes, ...], int] = {}

    def name(self, text: str, *, compress: bool = True) -> None:
        labels = name_from_text(text)
        for i in range(len(labels)):
            suffix = tuple(label.lower() for label in labels[i:])
            at = self.offsets.get(suffix) if compress else None
            if at is not None:
                self.buf += _U16.pack(0xC000 | at)
                return
            if len(self.buf) < 0x4000:
                self.offsets.setdefault(suffix, len(self.buf))
            self.buf.append(len(labels[i]))
            self.buf += labels[i]
        self.buf.append(0)

    def record(self, rec: Record) -> None:
        self.name(rec.name)
        self.buf += struct.pack("!HHI", rec.rtype, rec.rclass, rec.ttl)
        at = len(self.buf)
        self.buf += b"\0\0"
        self.rdata(rec.rdata)
        _U16.pack_into(self.buf, at, len(self.buf) - at - 2)

    def rdata(self, rdata: Rdata) -> None:
        if isinstance(rdata, bytes):
            self.buf += rdata
        elif isinstance(rdata, Address):
            self.buf += ipaddress.ip_address(rdata.ip).packed
        elif isinstance(rdata, Name):
            self.name(rdata.target)
        elif isinstance(rdata, Mx):
            self.buf += _U16.pack(rdata.preference)
            self.name(rdata.exchange)
        elif isinstance(rdata, Srv):
            self.buf += _SRV.pack(rdata.priority, rdata.weight, rdata.port)
            self.name(rdata.target, compress=False)
        elif isinstance(rdata, Soa):
            self.name(rdata.mname)
            self.name(rdata.rname)
            self.buf += _SOA.pack(
                rdata.serial, rdata.refresh, rdata.retry, rdata.expire, rdata.minimum
            )
        else:
            for s in rdata.strings:
                if len(s) > 255:
                    raise ValueError("a TXT string is longer than 255 bytes")
                self.buf.append(len(s))
                self.buf += s

    def opt(self, edns: Edns, rcode: int) -> None:
        ttl = ((rcode >> 4) << 24) | (edns.version << 16) | (0x8000 if edns.do else 0)
        self.buf += b"\0" + struct.pack("!HHIH", Type.OPT, edns.udp_size, ttl, len(edns.options))
        self.buf += edns.options


def build(msg: Message, limit: int = 65535) -> bytes:
    """The bytes of ``msg``. Past ``limit`` bytes, the records are left out
    and TC is set (see the module docstring). ValueError for an rcode over
    15 without EDNS, or a name or string that cannot be encoded."""
    data = _build(msg, msg.tc, drop_records=False)
    if len(data) > limit:
        data = _build(msg, True, drop_records=True)
    return data


def _build(msg: Message, tc: bool, *, drop_records: bool) -> bytes:
    if msg.rcode > 15 and msg.edns is None:
        raise ValueError(f"rcode {msg.rcode} needs EDNS (an OPT record)")
    flags = (
        (0x8000 if msg.qr else 0)
        | ((msg.opcode & 0xF) << 11)
        | (0x0400 if msg.aa else 0)
        | (0x0200 if tc else 0)
        | (0x0100 if msg.rd else 0)
        | (0x0080 if msg.ra else 0)
        | (0x0020 if msg.ad else 0)
        | (0x0010 if msg.cd else 0)
        | (msg.rcode & 0xF)
    )
    sections = ([], [], []) if drop_records else (msg.answers, msg.authority, msg.additional)
    w = _Writer()
    w.buf += HEADER.pack(
        msg.id,
        flags,
        len(msg.questions),
        len(sections[0]),
        len(sections[1]),
        len(sections[2]) + (msg.edns is not None),
    )
    for q in msg.questions:
        w.name(q.name)
        w.buf += _QUESTION.pack(q.qtype, q.qclass)
    for section in sections:
        for rec in section:
            w.record(rec)
    if msg.edns is not None:
        w.opt(msg.edns, msg.rcode)
    return bytes(w.buf)
