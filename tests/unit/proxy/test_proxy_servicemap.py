"""Which service ports the proxy programs and with which endpoints
(proxy/servicemap.py), table-driven from Services and EndpointSlices."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.servicemap import Endpoint, service_ports
from tests.unit.proxy.proxy_builders import ep, service, slice_

A, B, C = "10.244.1.5", "10.244.2.7", "10.244.3.9"

# (id, services, slices, expected [(key, cluster ip, port, node port, endpoints "ip:port")])
CASES: list[tuple[str, list[Any], list[Any], list[tuple[str, str, int, int, list[str]]]]] = [
    (
        "cluster-ip",
        [service("web")],
        [slice_("web", [ep(A, ready=True), ep(B, ready=True)])],
        [("ns/web/tcp/http", "10.96.0.10", 80, 0, [f"{A}:8080", f"{B}:8080"])],
    ),
    (
        "node-port",
        [service("web", type_="NodePort", ports=[{"name": "http", "port": 80, "nodePort": 30080}])],
        [slice_("web", [ep(A)])],
        [("ns/web/tcp/http", "10.96.0.10", 80, 30080, [f"{A}:8080"])],
    ),
    (
        "multi-port-target-ports-by-name",
        [service("web", ports=[{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}])],
        [
            slice_(
                "web",
                [ep(A)],
                ports=[{"name": "metrics", "port": 9100}, {"name": "http", "port": 8080}],
            )
        ],
        [
            ("ns/web/tcp/http", "10.96.0.10", 80, 0, [f"{A}:8080"]),
            ("ns/web/tcp/metrics", "10.96.0.10", 9090, 0, [f"{A}:9100"]),
        ],
    ),
    (
        "unnamed-port-udp",
        [service("dns", ports=[{"port": 53, "protocol": "UDP"}])],
        [slice_("dns", [ep(A)], ports=[{"port": 5353, "protocol": "UDP"}])],
        [("ns/dns/udp/53", "10.96.0.10", 53, 0, [f"{A}:5353"])],
    ),
    (
        "protocol-must-match",
        [service("dns", ports=[{"port": 53, "protocol": "UDP"}])],
        [slice_("dns", [ep(A)], ports=[{"port": 5353, "protocol": "TCP"}])],
        [("ns/dns/udp/53", "10.96.0.10", 53, 0, [])],
    ),
    ("no-slice-no-endpoints", [service("web")], [], [("ns/web/tcp/http", "10.96.0.10", 80, 0, [])]),
    (
        "not-ready-excluded",
        [service("web")],
        [slice_("web", [ep(A, ready=True), ep(B, ready=False, serving=False)])],
        [("ns/web/tcp/http", "10.96.0.10", 80, 0, [f"{A}:8080"])],
    ),
    (
        "terminating-used-only-without-ready",
        [service("web")],
        [slice_("web", [ep(A, ready=True), ep(B, ready=False, serving=True, terminating=True)])],
        [("ns/web/tcp/http", "10.96.0.10", 80, 0, [f"{A}:8080"])],
    ),
    (
        "terminating-fallback",
        [service("web")],
        [
            slice_(
                "web",
                [
                    ep(A, ready=False, serving=True, terminating=True),
                    ep(B, ready=False, serving=False, terminating=True),
                    ep(C, ready=False),
                ],
            )
        ],
        [("ns/web/tcp/http", "10.96.0.10", 80, 0, [f"{A}:8080"])],
    ),
    (
        "duplicate-across-slices-counted-once",
        [service("web")],
        [slice_("web", [ep(A)], name="web-1"), slice_("web", [ep(A), ep(B)], name="web-2")],
        [("ns/web/tcp/http", "10.96.0.10", 80, 0, [f"{A}:8080", f"{B}:8080"])],
    ),
    (
        "other-service-namespace-and-family-ignored",
        [service("web")],
        [
            slice_("other", [ep(A)]),
            slice_("web", [ep(A)], namespace="elsewhere"),
            slice_("web", [ep("fd00::1")], address_type="IPv6"),
        ],
        [("ns/web/tcp/http", "10.96.0.10", 80, 0, [])],
    ),
    ("headless-skipped", [service("db", cluster_ip="None")], [slice_("db", [ep(A)])], []),
    (
        "external-name-skipped",
        [service("ext", cluster_ip="", ports=[], type_="ExternalName", externalName="a.example")],
        [],
        [],
    ),
    ("no-cluster-ip-yet-skipped", [service("web", cluster_ip="")], [], []),
    (
        "sorted-by-namespace-and-name",
        [service("b", cluster_ip="10.96.0.2"), service("a", cluster_ip="10.96.0.1")],
        [],
        [("ns/a/tcp/http", "10.96.0.1", 80, 0, []), ("ns/b/tcp/http", "10.96.0.2", 80, 0, [])],
    ),
]


@pytest.mark.parametrize("services,slices,want", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_service_ports(
    services: list[Any], slices: list[Any], want: list[tuple[str, str, int, int, list[str]]]
) -> None:
    got = [
        (p.key, p.cluster_ip, p.port, p.node_port, [str(e) for e in p.endpoints])
        for p in service_ports(services, slices)
    ]
    assert got == want


def test_endpoint_reads_as_ip_colon_port() -> None:
    assert str(Endpoint("10.244.1.5", 8080)) == "10.244.1.5:8080"
