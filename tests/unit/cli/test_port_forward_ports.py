"""pinnace port-forward's arguments, table-driven: [LOCAL:]REMOTE parsing,
named ports of pods and Services, --address, and which pod is chosen."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.cli.commands.portforward import resolve_ports
from pinnace.cli.podchoice import most_active, selector_for_object
from pinnace.cli.portspec import (
    FAIL_ALL,
    FAIL_ANY,
    ForwardedPort,
    ListenAddress,
    parse_addresses,
    parse_ports,
    precheck_ports,
)
from pinnace.machinery import codec, kinds

FP = ForwardedPort


def make_pod(name: str = "web", ports: list[dict] | None = None, **status: Any) -> pod_pb2.Pod:
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "x", "ports": ports or []}]},
        "status": status,
    }
    return codec.from_dict(pod_pb2.Pod, body)


def make_svc(ports: list[dict], *, cluster_ip: str = "10.96.0.10", selector=None) -> Any:
    body = {
        "metadata": {"name": "front", "namespace": "default"},
        "spec": {"ports": ports, "clusterIP": cluster_ip, "selector": selector or {"app": "web"}},
    }
    return codec.from_dict(service_pb2.Service, body)


POD = make_pod(
    ports=[
        {"name": "http", "containerPort": 8080},
        {"name": "metrics", "containerPort": 9090},
        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
    ]
)
SVC = make_svc(
    [
        {"name": "web", "port": 80, "targetPort": "http"},
        {"name": "admin", "port": 81, "targetPort": 9091},
        {"name": "plain", "port": 82},
        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"},
    ]
)


@pytest.mark.parametrize(
    ("specs", "want"),
    [
        pytest.param(["8080:80"], [FP(8080, 80)], id="local-remote"),
        pytest.param([":80"], [FP(0, 80)], id="random-local"),
        pytest.param(["80"], [FP(80, 80)], id="same-port"),
        pytest.param(["0:80"], [FP(0, 80)], id="explicit-zero-local"),
        pytest.param(["5000", "6000:7000"], [FP(5000, 5000), FP(6000, 7000)], id="several"),
        pytest.param(["65535:1"], [FP(65535, 1)], id="edges"),
    ],
)
def test_parse_ports(specs, want) -> None:
    assert parse_ports(specs) == want


@pytest.mark.parametrize(
    ("specs", "error"),
    [
        pytest.param([], "TYPE/NAME and list of ports are required for port-forward", id="none"),
        pytest.param(["1:2:3"], "invalid port format '1:2:3'", id="three-parts"),
        pytest.param(["80:"], "invalid port format '80:'", id="empty-remote"),
        pytest.param([""], "invalid port format ''", id="empty"),
        pytest.param(["70000"], "error parsing remote port '70000': out of range", id="remote-big"),
        pytest.param(
            ["70000:80"], "error parsing local port '70000': out of range", id="local-big"
        ),
        pytest.param(["0"], "remote port must be > 0", id="remote-zero"),
        pytest.param(["8080:0"], "remote port must be > 0", id="remote-zero-with-local"),
        pytest.param(["x:80"], "error parsing local port 'x': not a number", id="local-name"),
        pytest.param(["-1:80"], "error parsing local port '-1': not a number", id="negative"),
    ],
)
def test_bad_port_specs(specs, error) -> None:
    with pytest.raises(ValueError) as e:
        precheck_ports(specs)
        parse_ports(specs)
    assert error in str(e.value)
    if "out of range" in error or "not a number" in error:
        assert "65535" in str(e.value)  # says what is allowed


@pytest.mark.parametrize(
    ("obj", "specs", "want"),
    [
        pytest.param(POD, ["http"], [FP(8080, 8080)], id="pod-named"),
        pytest.param(POD, ["9000:http"], [FP(9000, 8080)], id="pod-named-with-local"),
        pytest.param(POD, [":metrics"], [FP(0, 9090)], id="pod-named-random-local"),
        pytest.param(POD, ["7000:7001"], [FP(7000, 7001)], id="pod-numeric-undeclared"),
        pytest.param(SVC, ["80"], [FP(80, 8080)], id="svc-port-to-named-target"),
        pytest.param(SVC, ["web"], [FP(80, 8080)], id="svc-named-port"),
        pytest.param(SVC, [":web"], [FP(0, 8080)], id="svc-named-random-local"),
        pytest.param(SVC, ["5555:80"], [FP(5555, 8080)], id="svc-local-kept"),
        pytest.param(SVC, ["81"], [FP(81, 9091)], id="svc-numeric-target"),
        pytest.param(SVC, ["82"], [FP(82, 82)], id="svc-no-target"),
        pytest.param(
            make_svc([{"port": 80, "targetPort": "http"}], cluster_ip="None"),
            ["80"],
            [FP(80, 80)],
            id="headless-svc-port-itself",
        ),
    ],
)
def test_resolve_ports(obj, specs, want) -> None:
    assert resolve_ports(obj, POD, specs) == want


@pytest.mark.parametrize(
    ("obj", "specs", "error"),
    [
        pytest.param(
            POD,
            ["grpc"],
            "Pod 'web' does not have a named port 'grpc' (its named ports: dns, http, metrics)",
            id="pod-unknown-name",
        ),
        pytest.param(
            make_pod(),
            ["http"],
            "Pod 'web' does not have a named port 'http' (it names no ports)",
            id="pod-no-named-ports",
        ),
        pytest.param(
            SVC,
            ["grpc"],
            "Service 'front' does not have a named port 'grpc' (its named ports: admin, dns, "
            "plain, web)",
            id="svc-unknown-name",
        ),
        pytest.param(
            SVC,
            ["8080"],
            "Service front does not have a service port 8080 (its ports: 80, 81, 82, 53)",
            id="svc-unknown-port",
        ),
        pytest.param(
            make_svc([{"port": 80, "targetPort": "grpc"}]),
            ["80"],
            "Pod 'web' does not have a named port 'grpc'",
            id="svc-target-name-not-in-pod",
        ),
        pytest.param(POD, ["53"], "UDP protocol is not supported for 53", id="pod-udp"),
        pytest.param(POD, ["dns"], "UDP protocol is not supported for dns", id="pod-udp-name"),
        pytest.param(SVC, ["dns"], "UDP protocol is not supported for dns", id="svc-udp"),
    ],
)
def test_resolve_ports_errors(obj, specs, error) -> None:
    pod = obj if isinstance(obj, pod_pb2.Pod) else POD
    with pytest.raises(ValueError) as e:
        resolve_ports(obj, pod, specs)
    assert error in str(e.value)


V4, V6 = socket.AF_INET, socket.AF_INET6


@pytest.mark.parametrize(
    ("items", "want"),
    [
        pytest.param(
            ["localhost"],
            [ListenAddress("127.0.0.1", V4, FAIL_ALL), ListenAddress("::1", V6, FAIL_ALL)],
            id="localhost-both-families",
        ),
        pytest.param(
            ["localhost,10.1.2.3"],
            [
                ListenAddress("10.1.2.3", V4, FAIL_ANY),
                ListenAddress("127.0.0.1", V4, FAIL_ALL),
                ListenAddress("::1", V6, FAIL_ALL),
            ],
            id="comma-list-sorted",
        ),
        pytest.param(
            ["0.0.0.0", "0.0.0.0"], [ListenAddress("0.0.0.0", V4, FAIL_ANY)], id="deduplicated"
        ),
        pytest.param(["::"], [ListenAddress("::", V6, FAIL_ANY)], id="ipv6"),
    ],
)
def test_parse_addresses(items, want) -> None:
    assert parse_addresses(items) == want


def test_bad_address() -> None:
    with pytest.raises(ValueError, match=r"example\.com is not a valid IP: --address takes"):
        parse_addresses(["localhost,example.com"])


def _ready(since: str) -> list[dict]:
    return [{"type": "Ready", "status": "True", "lastTransitionTime": since}]


def pod_at(name: str, *, node: str = "n1", phase: str = "Running", **extra: Any) -> pod_pb2.Pod:
    p = make_pod(name, phase=phase, **extra)
    p.spec.node_name = node
    p.metadata.creation_timestamp = "2026-01-01T00:00:00Z"
    return p


@pytest.mark.parametrize(
    ("pods", "chosen"),
    [
        pytest.param([pod_at("a", node=""), pod_at("b")], "b", id="assigned-over-unassigned"),
        pytest.param(
            [pod_at("a", phase="Pending"), pod_at("b"), pod_at("c", phase="Unknown")],
            "b",
            id="running-first",
        ),
        pytest.param(
            [pod_at("a"), pod_at("b", conditions=_ready("2026-01-01T00:00:05Z"))],
            "b",
            id="ready-first",
        ),
        pytest.param(
            [
                pod_at("a", conditions=_ready("2026-01-01T00:00:09Z")),
                pod_at("b", conditions=_ready("2026-01-01T00:00:05Z")),
            ],
            "b",
            id="ready-longer-first",
        ),
        pytest.param(
            [
                pod_at("a", containerStatuses=[{"name": "c", "restartCount": 3}]),
                pod_at("b", containerStatuses=[{"name": "c", "restartCount": 1}]),
            ],
            "b",
            id="fewer-restarts-first",
        ),
        pytest.param([], None, id="no-pods"),
    ],
)
def test_most_active(pods, chosen) -> None:
    best = most_active(pods)
    assert (best.metadata.name if best else None) == chosen


def test_older_pod_first() -> None:
    old, new = pod_at("old"), pod_at("new")
    new.metadata.creation_timestamp = "2026-01-02T00:00:00Z"
    assert most_active([new, old]).metadata.name == "old"
    assert most_active([old, new]).metadata.name == "old"


@pytest.mark.parametrize(
    ("kind", "body", "want"),
    [
        pytest.param("Service", {"spec": {"selector": {"app": "web"}}}, "app=web", id="svc"),
        pytest.param(
            "Deployment",
            {"spec": {"selector": {"matchLabels": {"app": "web"}}}},
            "app=web",
            id="deploy",
        ),
        pytest.param(
            "ReplicaSet",
            {
                "spec": {
                    "selector": {
                        "matchExpressions": [
                            {"key": "tier", "operator": "In", "values": ["a", "b"]}
                        ]
                    }
                }
            },
            "tier in (a,b)",
            id="rs-expressions",
        ),
        pytest.param("ReplicationController", {"spec": {"selector": {"a": "b"}}}, "a=b", id="rc"),
    ],
)
def test_selector_for_object(kind, body, want) -> None:
    obj = codec.from_dict(kinds.lookup(kind).message_class, {"metadata": {"name": "x"}, **body})
    assert selector_for_object(obj) == want


@pytest.mark.parametrize(
    ("kind", "body", "error"),
    [
        pytest.param(
            "Service",
            {"spec": {"clusterIP": "None"}},
            "cannot attach to *v1.Service: invalid service 'x': Service is defined without a "
            "selector",
            id="svc-without-selector",
        ),
        pytest.param(
            "CronJob", {}, "cannot attach to *v1.CronJob: selector for *v1.CronJob not", id="cj"
        ),
    ],
)
def test_selector_for_object_errors(kind, body, error) -> None:
    obj = codec.from_dict(kinds.lookup(kind).message_class, {"metadata": {"name": "x"}, **body})
    with pytest.raises(ValueError) as e:
        selector_for_object(obj)
    assert error in str(e.value)
