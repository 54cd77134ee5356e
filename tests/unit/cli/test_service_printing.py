"""`pinnace get svc` and `get endpointslices` tables, in kubectl's format."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.api.core.v1 import service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.cli.printing import table
from pinnace.machinery import codec


def service(**spec: Any) -> service_pb2.Service:
    status = spec.pop("status", {})
    obj = codec.from_dict(
        service_pb2.Service,
        {"metadata": {"name": "web"}, "spec": {"type": "ClusterIP", **spec}, "status": status},
    )
    assert isinstance(obj, service_pb2.Service)
    return obj


def row(text: str) -> list[str]:
    header, line = text.splitlines()
    assert header.split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    return line.split()[:5]


TCP80 = [{"port": 80, "protocol": "TCP"}]


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        (
            {"clusterIPs": ["10.96.0.10"], "ports": TCP80},
            ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP"],
        ),
        (
            {
                "type": "NodePort",
                "clusterIPs": ["10.96.0.11"],
                "ports": [
                    {"port": 80, "protocol": "TCP", "nodePort": 30080},
                    {"port": 53, "protocol": "UDP", "nodePort": 30053},
                ],
            },
            ["web", "NodePort", "10.96.0.11", "<none>", "80:30080/TCP,53:30053/UDP"],
        ),
        (
            {"type": "LoadBalancer", "clusterIPs": ["10.96.0.12"], "ports": TCP80},
            ["web", "LoadBalancer", "10.96.0.12", "<pending>", "80/TCP"],
        ),
        (
            {
                "type": "LoadBalancer",
                "clusterIPs": ["10.96.0.12"],
                "ports": TCP80,
                "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
            },
            ["web", "LoadBalancer", "10.96.0.12", "203.0.113.7", "80/TCP"],
        ),
        (
            {"clusterIPs": ["None"], "ports": TCP80},
            ["web", "ClusterIP", "None", "<none>", "80/TCP"],
        ),
        (
            {"type": "ExternalName", "externalName": "db.example.com"},
            ["web", "ExternalName", "<none>", "db.example.com", "<none>"],
        ),
        (
            {"clusterIPs": ["10.96.0.13"], "externalIPs": ["192.0.2.1"], "ports": TCP80},
            ["web", "ClusterIP", "10.96.0.13", "192.0.2.1", "80/TCP"],
        ),
    ],
    ids=[
        "cluster-ip",
        "node-port",
        "lb-pending",
        "lb-ingress",
        "headless",
        "external-name",
        "external-ips",
    ],
)
def test_service_row(spec: dict[str, Any], want: list[str]) -> None:
    assert row(table([service(**spec)])) == want


def test_service_wide_shows_the_selector() -> None:
    text = table([service(selector={"app": "web", "tier": "fe"}, ports=TCP80)], wide=True)
    header, line = text.splitlines()
    assert header.split()[-1] == "SELECTOR"
    assert line.split()[-1] == "app=web,tier=fe"


def endpoint_slice(ports: list[dict[str, Any]], addresses: list[list[str]]) -> Any:
    return codec.from_dict(
        endpointslice_pb2.EndpointSlice,
        {
            "metadata": {"name": "web-x1"},
            "addressType": "IPv4",
            "ports": ports,
            "endpoints": [{"addresses": a} for a in addresses],
        },
    )


@pytest.mark.parametrize(
    ("ports", "addresses", "want"),
    [
        ([{"port": 8080}], [["10.244.1.5"]], ["8080", "10.244.1.5"]),
        (
            [{"port": 80}, {"port": 443}],
            [["10.0.0.1"], ["10.0.0.2"], ["10.0.0.3"], ["10.0.0.4"], ["10.0.0.5"]],
            ["80,443", "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more..."],
        ),
        ([], [], ["<unset>", "<unset>"]),
    ],
    ids=["one", "more", "empty"],
)
def test_endpoint_slice_row(
    ports: list[dict[str, Any]], addresses: list[list[str]], want: list[str]
) -> None:
    header, line = table([endpoint_slice(ports, addresses)]).splitlines()
    assert header.split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    cells = [c for c in line.split("   ") if c.strip()]
    assert [c.strip() for c in cells[:4]] == ["web-x1", "IPv4", *want]
