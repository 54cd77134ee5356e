"""The cluster zone's answers (pinnace.dns.records), from real stores filled
with Services and EndpointSlices: one row per name and type."""

from __future__ import annotations

import pytest

from pinnace.client.informer import Store
from pinnace.dns.records import SLICE_SERVICE_INDEX, ClusterRecords
from pinnace.dns.wire import Address, Name, Question, Rcode, Record, Soa, Srv, Txt, Type
from tests.unit.dns.dns_fakes import endpoint_slice, service

D = "cluster.local"


SERVICES = [
    service("default", "web", "10.96.0.7", ports=(("http", "TCP", 80), ("", "TCP", 81))),
    service("default", "dual", "10.96.0.8", cluster_ips=("10.96.0.8", "fd00::8")),
    service("default", "pending"),  # ClusterIP not allocated yet
    service("default", "nginx", "None", ports=(("web", "TCP", 80), ("dns", "UDP", 53))),
    service("default", "empty", "None", ports=(("web", "TCP", 80),)),
    service("default", "publish", "None", publish_not_ready=True),
    service("default", "ext", type_="ExternalName", external_name="db.example.com."),
    service(
        "default", "alias", type_="ExternalName", external_name="web.default.svc.cluster.local"
    ),
    service(
        "default", "loop", type_="ExternalName", external_name="loop.default.svc.cluster.local"
    ),
    service("other", "web", "10.96.0.9"),
]
SLICES = [
    endpoint_slice(
        "default",
        "nginx-a",
        "nginx",
        (("10.244.1.5", "web-0", True), ("10.244.2.6", "web-1", None), ("10.244.1.7", None, None)),
        ports=(("web", "TCP", 8080), ("dns", "UDP", 5353)),
    ),
    endpoint_slice(
        "default",
        "nginx-b",
        "nginx",
        (("10.244.3.8", "web-2", False), ("10.244.1.5", "web-0", True)),  # not ready; a repeat
        ports=(("web", "TCP", 8080),),
    ),
    endpoint_slice("default", "empty-a", "empty", (("10.244.1.9", "x", False),)),
    endpoint_slice("default", "publish-a", "publish", (("10.244.4.1", "p", False),)),
    endpoint_slice("default", "web-a", "web", (("10.244.5.1", None, True),)),
    endpoint_slice(
        "default", "fqdn", "nginx", (("db.example.com", None, True),), address_type="FQDN"
    ),
    endpoint_slice("default", "v6", "nginx", (("fd00::10", "web-6", True),), address_type="IPv6"),
]


@pytest.fixture(scope="module")
def zone() -> ClusterRecords:
    services, slices = Store(), Store()
    for svc in SERVICES:
        services.upsert(svc)
    for sl in SLICES:
        slices.upsert(sl)
    return ClusterRecords(services, slices, domain=D)


def text(records: tuple[Record, ...]) -> list[str]:
    out = []
    for r in records:
        rd = r.rdata
        if isinstance(rd, Address):
            value = rd.ip
        elif isinstance(rd, Name):
            value = rd.target
        elif isinstance(rd, Srv):
            value = f"{rd.priority} {rd.weight} {rd.port} {rd.target}"
        elif isinstance(rd, Txt):
            value = b" ".join(rd.strings).decode()
        elif isinstance(rd, Soa):
            value = rd.mname
        else:
            value = repr(rd)
        out.append(f"{r.name} {Type(r.rtype).name} {value}")
    return sorted(out)


OK, NX = Rcode.NOERROR, Rcode.NXDOMAIN
SOA = ["cluster.local SOA ns.dns.cluster.local"]

ROWS = [
    # ClusterIP Services
    (
        "web.default.svc.cluster.local",
        Type.A,
        OK,
        ["web.default.svc.cluster.local A 10.96.0.7"],
        [],
    ),
    (
        "WEB.Default.svc.Cluster.Local.",
        Type.A,
        OK,
        ["WEB.Default.svc.Cluster.Local. A 10.96.0.7"],
        [],
    ),
    ("web.default.svc.cluster.local", Type.AAAA, OK, [], SOA),
    ("web.default.svc.cluster.local", Type.TXT, OK, [], SOA),
    ("web.other.svc.cluster.local", Type.A, OK, ["web.other.svc.cluster.local A 10.96.0.9"], []),
    (
        "dual.default.svc.cluster.local",
        Type.AAAA,
        OK,
        ["dual.default.svc.cluster.local AAAA fd00::8"],
        [],
    ),
    (
        "dual.default.svc.cluster.local",
        Type.A,
        OK,
        ["dual.default.svc.cluster.local A 10.96.0.8"],
        [],
    ),
    ("pending.default.svc.cluster.local", Type.A, OK, [], SOA),
    ("nope.default.svc.cluster.local", Type.A, NX, [], SOA),
    ("web.nope.svc.cluster.local", Type.A, NX, [], SOA),
    # endpoint names work for ClusterIP Services too (CoreDNS)
    (
        "10-244-5-1.web.default.svc.cluster.local",
        Type.A,
        OK,
        ["10-244-5-1.web.default.svc.cluster.local A 10.244.5.1"],
        [],
    ),
    # headless: ready endpoints, once each; FQDN slices skipped
    (
        "nginx.default.svc.cluster.local",
        Type.A,
        OK,
        [
            f"nginx.default.svc.cluster.local A {ip}"
            for ip in ("10.244.1.5", "10.244.1.7", "10.244.2.6")
        ],
        [],
    ),
    (
        "nginx.default.svc.cluster.local",
        Type.AAAA,
        OK,
        ["nginx.default.svc.cluster.local AAAA fd00::10"],
        [],
    ),
    (
        "web-0.nginx.default.svc.cluster.local",
        Type.A,
        OK,
        ["web-0.nginx.default.svc.cluster.local A 10.244.1.5"],
        [],
    ),
    (
        "web-1.nginx.default.svc.cluster.local",
        Type.A,
        OK,
        ["web-1.nginx.default.svc.cluster.local A 10.244.2.6"],
        [],
    ),
    ("web-2.nginx.default.svc.cluster.local", Type.A, NX, [], SOA),  # not ready
    ("web-0.nginx.default.svc.cluster.local", Type.AAAA, OK, [], SOA),
    (
        "10-244-1-7.nginx.default.svc.cluster.local",
        Type.A,
        OK,
        ["10-244-1-7.nginx.default.svc.cluster.local A 10.244.1.7"],
        [],
    ),
    ("10-244-1-5.nginx.default.svc.cluster.local", Type.A, NX, [], SOA),  # it has a hostname
    ("a.web-0.nginx.default.svc.cluster.local", Type.A, NX, [], SOA),
    ("empty.default.svc.cluster.local", Type.A, NX, [], SOA),  # no ready endpoint
    (
        "publish.default.svc.cluster.local",
        Type.A,
        OK,
        ["publish.default.svc.cluster.local A 10.244.4.1"],
        [],
    ),
    (
        "p.publish.default.svc.cluster.local",
        Type.A,
        OK,
        ["p.publish.default.svc.cluster.local A 10.244.4.1"],
        [],
    ),
    # SRV
    (
        "_http._tcp.web.default.svc.cluster.local",
        Type.SRV,
        OK,
        ["_http._tcp.web.default.svc.cluster.local SRV 0 100 80 web.default.svc.cluster.local"],
        ["web.default.svc.cluster.local A 10.96.0.7"],
    ),
    (
        "_HTTP._TCP.web.default.svc.cluster.local",
        Type.SRV,
        OK,
        ["_HTTP._TCP.web.default.svc.cluster.local SRV 0 100 80 web.default.svc.cluster.local"],
        ["web.default.svc.cluster.local A 10.96.0.7"],
    ),
    ("_http._udp.web.default.svc.cluster.local", Type.SRV, NX, [], SOA),
    ("_grpc._tcp.web.default.svc.cluster.local", Type.SRV, NX, [], SOA),
    ("_http._tcp.web.default.svc.cluster.local", Type.A, OK, [], SOA),
    ("_tcp.web.default.svc.cluster.local", Type.SRV, OK, [], SOA),
    ("_udp.web.default.svc.cluster.local", Type.SRV, NX, [], SOA),
    (
        "_web._tcp.nginx.default.svc.cluster.local",
        Type.SRV,
        OK,
        [
            f"_web._tcp.nginx.default.svc.cluster.local SRV 0 33 8080 {t}.nginx.default.svc.cluster.local"
            for t in ("10-244-1-7", "web-0", "web-1")
        ],
        [
            "10-244-1-7.nginx.default.svc.cluster.local A 10.244.1.7",
            "web-0.nginx.default.svc.cluster.local A 10.244.1.5",
            "web-1.nginx.default.svc.cluster.local A 10.244.2.6",
        ],
    ),
    (
        "_dns._udp.nginx.default.svc.cluster.local",
        Type.SRV,
        OK,
        [
            f"_dns._udp.nginx.default.svc.cluster.local SRV 0 33 5353 {t}.nginx.default.svc.cluster.local"
            for t in ("10-244-1-7", "web-0", "web-1")
        ],
        [
            "10-244-1-7.nginx.default.svc.cluster.local A 10.244.1.7",
            "web-0.nginx.default.svc.cluster.local A 10.244.1.5",
            "web-1.nginx.default.svc.cluster.local A 10.244.2.6",
        ],
    ),
    ("_web._tcp.empty.default.svc.cluster.local", Type.SRV, NX, [], SOA),
    # ExternalName
    (
        "ext.default.svc.cluster.local",
        Type.CNAME,
        OK,
        ["ext.default.svc.cluster.local CNAME db.example.com"],
        [],
    ),
    (
        "ext.default.svc.cluster.local",
        Type.A,
        OK,
        ["ext.default.svc.cluster.local CNAME db.example.com"],
        [],
    ),
    ("x.ext.default.svc.cluster.local", Type.A, NX, [], SOA),
    (
        "alias.default.svc.cluster.local",
        Type.A,
        OK,
        [
            "alias.default.svc.cluster.local CNAME web.default.svc.cluster.local",
            "web.default.svc.cluster.local A 10.96.0.7",
        ],
        [],
    ),
    # pods (pods insecure)
    (
        "10-244-1-5.default.pod.cluster.local",
        Type.A,
        OK,
        ["10-244-1-5.default.pod.cluster.local A 10.244.1.5"],
        [],
    ),
    (
        "10-244-1-5.anyns.pod.cluster.local",
        Type.A,
        OK,
        ["10-244-1-5.anyns.pod.cluster.local A 10.244.1.5"],
        [],
    ),
    (
        "fd00--5.default.pod.cluster.local",
        Type.AAAA,
        OK,
        ["fd00--5.default.pod.cluster.local AAAA fd00::5"],
        [],
    ),
    ("10-244-1-5.default.pod.cluster.local", Type.AAAA, OK, [], SOA),
    ("10-244-1.default.pod.cluster.local", Type.A, NX, [], SOA),
    ("300-1-1-1.default.pod.cluster.local", Type.A, NX, [], SOA),
    ("default.pod.cluster.local", Type.A, OK, [], SOA),
    # structure of the zone
    ("cluster.local", Type.SOA, OK, SOA, []),
    ("cluster.local", Type.A, OK, [], SOA),
    ("svc.cluster.local", Type.A, OK, [], SOA),
    ("default.svc.cluster.local", Type.A, OK, [], SOA),
    ("nope.svc.cluster.local", Type.A, NX, [], SOA),
    ("dns-version.cluster.local", Type.TXT, OK, ["dns-version.cluster.local TXT 1.1.0"], []),
    ("foo.cluster.local", Type.A, NX, [], SOA),
    ("a\\.b.default.svc.cluster.local", Type.A, NX, [], SOA),
]


@pytest.mark.parametrize(
    ("name", "qtype", "rcode", "answers", "rest"),
    [pytest.param(*row, id=f"{row[0]}-{Type(row[1]).name}") for row in ROWS],
)
def test_zone_answers(
    zone: ClusterRecords, name: str, qtype: int, rcode: int, answers: list[str], rest: list[str]
) -> None:
    """``rest`` is the additional section for NOERROR answers with records,
    else the authority section."""
    got = zone.answer(Question(name, qtype))
    assert (got.rcode, text(got.answers)) == (rcode, sorted(answers))
    assert text(got.additional if answers else got.authority) == sorted(rest)
    assert all(r.ttl == 5 for r in got.answers + got.authority + got.additional)


@pytest.mark.parametrize(
    ("name", "qtype", "answers"),
    [
        pytest.param(
            "7.0.96.10.in-addr.arpa", Type.PTR, ["web.default.svc.cluster.local"], id="service"
        ),
        pytest.param(
            "7.0.96.10.IN-ADDR.ARPA.", Type.PTR, ["web.default.svc.cluster.local"], id="case"
        ),
        pytest.param("7.0.96.10.in-addr.arpa", Type.A, [], id="nodata"),
        pytest.param(
            "5.1.244.10.in-addr.arpa",
            Type.PTR,
            ["web-0.nginx.default.svc.cluster.local"],
            id="hostname",
        ),
        pytest.param(
            "7.1.244.10.in-addr.arpa",
            Type.PTR,
            ["10-244-1-7.nginx.default.svc.cluster.local"],
            id="dashed",
        ),
        pytest.param(
            ".".join(reversed("fd00" + "0" * 26 + "08")) + ".ip6.arpa",
            Type.PTR,
            ["dual.default.svc.cluster.local"],
            id="service-v6",
        ),
        pytest.param(
            ".".join(reversed("fd00" + "0" * 26 + "10")) + ".ip6.arpa",
            Type.PTR,
            ["web-6.nginx.default.svc.cluster.local"],
            id="endpoint-v6",
        ),
        pytest.param(
            "1.4.244.10.in-addr.arpa",
            Type.PTR,
            ["p.publish.default.svc.cluster.local"],
            id="publish",
        ),
    ],
)
def test_reverse_names_of_cluster_addresses(
    zone: ClusterRecords, name: str, qtype: int, answers: list[str]
) -> None:
    got = zone.reverse(Question(name, qtype))
    assert got is not None and got.rcode == Rcode.NOERROR
    assert sorted(r.rdata.target for r in got.answers if isinstance(r.rdata, Name)) == answers
    assert all(r.name == name for r in got.answers)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("8.3.244.10.in-addr.arpa", id="not-ready-endpoint"),
        pytest.param("1.1.1.1.in-addr.arpa", id="unknown"),
        pytest.param("0.96.10.in-addr.arpa", id="partial"),
        pytest.param("x.0.96.10.in-addr.arpa", id="not-a-number"),
        pytest.param("007.0.96.10.in-addr.arpa", id="leading-zeros"),
        pytest.param(".".join(["ab"] * 16) + ".ip6.arpa", id="v6-wide-labels"),
        pytest.param("web.default.svc.cluster.local", id="forward-name"),
    ],
)
def test_other_reverse_names_are_not_ours(zone: ClusterRecords, name: str) -> None:
    assert zone.reverse(Question(name, Type.PTR)) is None


def test_external_name_outside_the_zone_is_chased(zone: ClusterRecords) -> None:
    assert zone.answer(Question("ext.default.svc.cluster.local", Type.A)).chase == "db.example.com"
    assert zone.answer(Question("ext.default.svc.cluster.local", Type.CNAME)).chase is None


def test_cname_loop_ends_in_servfail(zone: ClusterRecords) -> None:
    got = zone.answer(Question("loop.default.svc.cluster.local", Type.A))
    assert got.rcode == Rcode.SERVFAIL


@pytest.mark.parametrize(
    ("name", "inside"),
    [
        pytest.param("cluster.local", True, id="apex"),
        pytest.param("CLUSTER.LOCAL.", True, id="apex-case-dot"),
        pytest.param("a.svc.cluster.local", True, id="below"),
        pytest.param("notcluster.local", False, id="suffix-not-label"),
        pytest.param("example.com", False, id="outside"),
        pytest.param("", False, id="root"),
    ],
)
def test_in_zone(zone: ClusterRecords, name: str, inside: bool) -> None:
    assert zone.in_zone(name) is inside


@pytest.mark.parametrize("domain", ["", ".", "a\\.b"])
def test_bad_domain(domain: str) -> None:
    with pytest.raises(ValueError, match="must be a non-empty DNS name"):
        ClusterRecords(Store(), Store(), domain=domain)


def test_store_changes_are_answered_at_once() -> None:
    services, slices = Store(), Store()
    zone = ClusterRecords(services, slices, domain=D)
    q = Question("db.ns.svc.cluster.local", Type.A)
    assert zone.answer(q).rcode == Rcode.NXDOMAIN
    services.upsert(service("ns", "db", "None"))
    slices.upsert(endpoint_slice("ns", "db-a", "db", (("10.244.0.2", None, True),)))
    assert text(zone.answer(q).answers) == ["db.ns.svc.cluster.local A 10.244.0.2"]
    slices.upsert(endpoint_slice("ns", "db-a", "db", (("10.244.0.3", None, True),)))
    assert text(zone.answer(q).answers) == ["db.ns.svc.cluster.local A 10.244.0.3"]
    slices.delete("ns/db-a")
    assert zone.answer(q).rcode == Rcode.NXDOMAIN


def test_a_thousand_services_are_not_scanned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answering goes by store key and index, never through a list of the
    whole store: with 1,000 Services, listing either store fails the test."""
    services, slices = Store(), Store()
    zone = ClusterRecords(services, slices, domain=D)
    for i in range(1000):
        ip = f"10.244.{i // 250}.{i % 250}"
        services.upsert(service("ns", f"s{i}", "None", ports=(("p", "TCP", 80),)))
        slices.upsert(
            endpoint_slice("ns", f"s{i}-a", f"s{i}", ((ip, None, True),), ports=(("p", "TCP", 80),))
        )

    def no_scan() -> None:
        raise AssertionError("a query listed a whole store")

    monkeypatch.setattr(services, "list", no_scan)
    monkeypatch.setattr(slices, "list", no_scan)
    assert slices.index_keys(SLICE_SERVICE_INDEX, "ns/s999") == {"ns/s999-a"}
    for i in (0, 500, 999):
        ip = f"10.244.{i // 250}.{i % 250}"
        got = zone.answer(Question(f"s{i}.ns.svc.cluster.local", Type.A))
        assert text(got.answers) == [f"s{i}.ns.svc.cluster.local A {ip}"]
        srv = zone.answer(Question(f"_p._tcp.s{i}.ns.svc.cluster.local", Type.SRV))
        assert len(srv.answers) == 1
