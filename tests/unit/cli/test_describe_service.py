"""pinnace describe svc: kubectl's describeService text, its Endpoints
line, and the tabwriter alignment it relies on."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.api.core.v1 import event_pb2, service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.cli.describe_service import describe_service, format_endpoints
from pinnace.cli.tabwriter import tabbed
from pinnace.machinery import codec


def _slice(endpoints: list[tuple[str, bool | None]], ports: list[tuple[str, int]]) -> Any:
    eps = []
    for ip, ready in endpoints:
        ep: dict[str, Any] = {"addresses": [ip]}
        if ready is not None:
            ep["conditions"] = {"ready": ready}
        eps.append(ep)
    return codec.from_dict(
        endpointslice_pb2.EndpointSlice,
        {
            "metadata": {"name": "s-abc"},
            "addressType": "IPv4",
            "endpoints": eps,
            "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports],
        },
    )


def test_tabbed_blocks() -> None:
    lines = ["Port:\t<unset>\t80/TCP", "TargetPort:\t8080/TCP", "NodePort:\t<unset>\t30080/TCP"]
    assert tabbed(lines).splitlines() == [
        "Port:        <unset>  80/TCP",
        "TargetPort:  8080/TCP",
        "NodePort:    <unset>  30080/TCP",
    ]


@pytest.mark.parametrize(
    ("slices", "port", "want"),
    [
        pytest.param([], "", "<none>", id="no-slices"),
        pytest.param([_slice([], [("", 8080)])], "", "<none>", id="no-endpoints"),
        pytest.param(
            [_slice([("10.0.0.1", True), ("10.0.0.2", None)], [("", 8080)])],
            "",
            "10.0.0.1:8080,10.0.0.2:8080",
            id="ready-and-unset",
        ),
        pytest.param(
            [_slice([("10.0.0.1", False)], [("", 8080)])], "", "<none>", id="not-ready-left-out"
        ),
        pytest.param(
            [_slice([("10.0.0.1", True)], [("http", 8080), ("metrics", 9090)])],
            "metrics",
            "10.0.0.1:9090",
            id="port-by-name",
        ),
        pytest.param(
            [
                _slice([("10.0.0.1", True), ("10.0.0.2", True)], [("", 80)]),
                _slice([("10.0.0.3", True), ("10.0.0.4", True), ("10.0.0.5", True)], [("", 80)]),
            ],
            "",
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...",
            id="three-then-more",
        ),
        pytest.param([_slice([("fd00::5", True)], [("", 80)])], "", "[fd00::5]:80", id="ipv6"),
    ],
)
def test_format_endpoints(slices: list[Any], port: str, want: str) -> None:
    assert format_endpoints(slices, port) == want


def _svc(**spec: Any) -> service_pb2.Service:
    return codec.from_dict(
        service_pb2.Service,
        {
            "metadata": {
                "name": "web",
                "namespace": "default",
                "labels": {"app": "web", "tier": "front"},
            },
            "spec": {
                "selector": {"app": "web"},
                "clusterIP": "10.96.0.12",
                "clusterIPs": ["10.96.0.12"],
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "sessionAffinity": "None",
                "internalTrafficPolicy": "Cluster",
                **spec,
            },
        },
    )


def test_describe_cluster_ip_service() -> None:
    svc = _svc(type="ClusterIP", ports=[{"port": 80, "protocol": "TCP", "targetPort": 8080}])
    slices = [_slice([("127.0.0.1", True)], [("", 8080)])]
    assert describe_service(svc, slices, [], age=str) == "\n".join(
        [
            "Name:                     web",
            "Namespace:                default",
            "Labels:                   app=web",
            "                          tier=front",
            "Annotations:              <none>",
            "Selector:                 app=web",
            "Type:                     ClusterIP",
            "IP Family Policy:         SingleStack",
            "IP Families:              IPv4",
            "IP:                       10.96.0.12",
            "IPs:                      10.96.0.12",
            "Port:                     <unset>  80/TCP",
            "TargetPort:               8080/TCP",
            "Endpoints:                127.0.0.1:8080",
            "Session Affinity:         None",
            "Internal Traffic Policy:  Cluster",
            "Events:                   <none>",
        ]
    )


def test_describe_node_port_service_with_named_ports_and_events() -> None:
    svc = _svc(
        type="NodePort",
        externalTrafficPolicy="Cluster",
        ports=[
            {
                "name": "http",
                "port": 80,
                "protocol": "TCP",
                "targetPort": "web",
                "nodePort": 30080,
            }
        ],
    )
    event = codec.from_dict(
        event_pb2.Event,
        {
            "type": "Normal",
            "reason": "Created",
            "message": "made it",
            "count": 1,
            "source": {"component": "test", "host": "n1"},
            "lastTimestamp": "2026-01-01T00:00:00Z",
        },
    )
    text = describe_service(svc, [], [event], age=lambda ts: "5s")
    lines = text.splitlines()
    assert lines[11:] == [
        "Port:                     http  80/TCP",
        "TargetPort:               web/TCP",
        "NodePort:                 http  30080/TCP",
        "Endpoints:                <none>",
        "Session Affinity:         None",
        "External Traffic Policy:  Cluster",
        "Internal Traffic Policy:  Cluster",
        "Events:",
        "  Type    Reason   Age   From      Message",
        "  ----    ------   ----  ----      -------",
        "  Normal  Created  5s    test, n1  made it",
    ]
