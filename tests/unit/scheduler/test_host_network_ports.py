"""NodePorts on nodes whose kubelet runs pods in the node's own network
(``pinnace.io/pod-network: host``): every containerPort is a host port
there; bridge nodes (or none said) keep Kubernetes' hostPort rule."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.machinery.wellknown import (
    ANNOTATION_POD_NETWORK,
)
from scheduler.cache import Cache
from scheduler.failure import fit_error_message
from scheduler.framework import Status
from scheduler.nodeinfo import DEFAULT_HOST_IP, HostPort, host_network_ports
from scheduler.plugins import default_framework
from scheduler.plugins.node_ports import REASON, NodePorts
from scheduler.scheduler import node_scheduling_changed
from tests.unit.scheduler.builders import (
    BRIDGE_NETWORK_NODE,
    HOST_NETWORK_NODE,
    PORTS_CLASH,
    PORTS_OK,
    bound,
    info,
    node,
    node_info,
    pod,
)

OK, CLASH = PORTS_OK, PORTS_CLASH
HOST, BRIDGE = HOST_NETWORK_NODE, BRIDGE_NETWORK_NODE


def cport(number: int, *, host_port: int = 0, protocol: str = "", host_ip: str = "") -> dict:
    out: dict[str, Any] = {"containerPort": number}
    if host_port:
        out["hostPort"] = host_port
    if protocol:
        out["protocol"] = protocol
    if host_ip:
        out["hostIP"] = host_ip
    return out


def test_reason_is_kubernetes_text() -> None:
    assert REASON == "node(s) didn't have free ports for the requested pod ports"


@pytest.mark.parametrize(
    ("annotations", "used", "wanted", "want"),
    [
        pytest.param(HOST, [cport(8080)], [cport(8080)], CLASH, id="host-same-container-port"),
        pytest.param(BRIDGE, [cport(8080)], [cport(8080)], OK, id="bridge-container-ports-free"),
        pytest.param({}, [cport(8080)], [cport(8080)], OK, id="unannotated-is-bridge"),
        pytest.param(
            {ANNOTATION_POD_NETWORK: "other"}, [cport(8080)], [cport(8080)], OK, id="unknown-mode"
        ),
        pytest.param(HOST, [cport(8080)], [cport(8081)], OK, id="host-other-port"),
        pytest.param(HOST, [cport(53)], [cport(53, protocol="UDP")], OK, id="host-other-protocol"),
        pytest.param(
            HOST, [cport(53, protocol="UDP")], [cport(53, protocol="UDP")], CLASH, id="host-udp"
        ),
        pytest.param(
            HOST,
            [cport(80, host_ip="10.0.0.1")],
            [cport(80, host_ip="10.0.0.2")],
            OK,
            id="host-other-ips",
        ),
        pytest.param(
            HOST, [cport(80, host_ip="10.0.0.1")], [cport(80)], CLASH, id="host-wildcard-clash"
        ),
        pytest.param(
            HOST, [cport(80, host_port=9090)], [cport(9090)], CLASH, id="host-hostport-counts"
        ),
        pytest.param(
            HOST,
            [cport(80, host_port=9090)],
            [cport(80)],
            CLASH,
            id="host-container-port-behind-hostport-counts",
        ),
        pytest.param(
            BRIDGE, [cport(80, host_port=9090)], [cport(80)], OK, id="bridge-only-hostport"
        ),
        pytest.param(
            BRIDGE,
            [cport(80, host_port=9090)],
            [cport(81, host_port=9090)],
            CLASH,
            id="bridge-hostport-clash",
        ),
        pytest.param(
            {}, [cport(80, host_port=80)], [cport(80, host_port=80)], CLASH, id="unannotated-hp"
        ),
        pytest.param(HOST, [], [cport(8080)], OK, id="host-empty-node"),
    ],
)
def test_node_ports_by_pod_network(
    annotations: dict[str, str], used: list[dict], wanted: list[dict], want: Status
) -> None:
    ni = node_info(node(annotations=annotations), pod("old", ports=used))
    assert NodePorts().filter(info(pod("new", ports=wanted)), ni) == want


SIDECAR = {
    "initContainers": [
        {"name": "side", "image": "x", "restartPolicy": "Always", "ports": [cport(7000)]},
        {"name": "setup", "image": "x", "ports": [cport(7001)]},
    ]
}


@pytest.mark.parametrize(
    ("spec", "ports", "want"),
    [
        pytest.param(None, [cport(8080)], [(DEFAULT_HOST_IP, "TCP", 8080)], id="container-port"),
        pytest.param(
            None,
            [cport(80, host_port=9090, protocol="UDP", host_ip="10.0.0.1")],
            [("10.0.0.1", "UDP", 80), ("10.0.0.1", "UDP", 9090)],
            id="container-and-host-port",
        ),
        pytest.param(
            None, [cport(80, host_port=80)], [(DEFAULT_HOST_IP, "TCP", 80)], id="same-once"
        ),
        pytest.param(SIDECAR, [], [(DEFAULT_HOST_IP, "TCP", 7000)], id="sidecar-not-plain-init"),
        pytest.param(None, [], [], id="no-ports"),
    ],
)
def test_host_network_ports(spec: dict | None, ports: list[dict], want: list[tuple]) -> None:
    assert host_network_ports(pod(spec=spec, ports=ports)) == tuple(HostPort(*w) for w in want)


def test_hostnetwork_pod_on_bridge_node_uses_its_defaulted_host_ports() -> None:
    """The apiserver defaults a hostNetwork pod's hostPort to its
    containerPort, so on a bridge node its ports clash as host ports."""
    spec = {"hostNetwork": True}
    defaulted = [cport(8080, host_port=8080)]
    ni = node_info(node(annotations=BRIDGE), pod("old", spec=spec, ports=defaulted))
    assert NodePorts().filter(info(pod("new", spec=spec, ports=defaulted)), ni) == CLASH


def test_changing_pod_network_needs_no_recount() -> None:
    """A node that turns to host networking (or back) sees its pods'
    container ports at once; removing the pod frees them in both modes."""
    ni = node_info(node(annotations=BRIDGE), pod("old", ports=[cport(8080)]))
    new = info(pod("new", ports=[cport(8080)]))
    assert NodePorts().filter(new, ni) == OK
    ni.set_node(node(annotations=HOST))
    assert NodePorts().filter(new, ni) == CLASH
    ni.set_node(node())
    assert NodePorts().filter(new, ni) == OK
    ni.set_node(node(annotations=HOST))
    ni.remove_pod("default/old")
    assert NodePorts().filter(new, ni) == OK
    assert ni.used_ports == {} and ni.used_container_ports == {}


def test_replicas_spread_over_host_network_nodes_and_the_extra_one_fits_nowhere() -> None:
    """4 replicas with containerPort 8080, 3 host-network nodes: one per
    node, the 4th gets Kubernetes' message for all three nodes."""
    cache = Cache()
    for name in ("n1", "n2", "n3"):
        cache.add_node(node(name, annotations=HOST))
    framework = default_framework()
    placed = []
    for i in range(3):
        replica = info(pod(f"web-{i}", ports=[cport(8080)], owner="rs"))
        result = framework.find_feasible(replica, cache.node_infos())
        assert result.feasible, result.failed
        chosen = result.feasible[0].name
        cache.assume_pod(replica, chosen)
        placed.append(chosen)
    assert sorted(placed) == ["n1", "n2", "n3"]
    extra = info(pod("web-3", ports=[cport(8080)], owner="rs"))
    result = framework.find_feasible(extra, cache.node_infos())
    assert result.feasible == []
    assert fit_error_message(3, result.failed.values()) == (
        "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports."
    )


def test_bridge_nodes_take_every_replica() -> None:
    cache = Cache()
    cache.add_node(node("n1", annotations=BRIDGE))
    framework = default_framework()
    for i in range(4):
        p = pod(f"web-{i}", ports=[cport(8080)])
        cache.add_pod(bound(p, "n1"))
    result = framework.find_feasible(info(pod("web-4", ports=[cport(8080)])), cache.node_infos())
    assert [n.name for n in result.feasible] == ["n1"]


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        pytest.param({}, HOST, True, id="annotated-host"),
        pytest.param(HOST, BRIDGE, True, id="host-to-bridge"),
        pytest.param(HOST, HOST, False, id="unchanged"),
        pytest.param({}, {"other": "x"}, False, id="unrelated-annotation"),
    ],
)
def test_pod_network_change_requeues_unschedulable_pods(
    old: dict[str, str], new: dict[str, str], changed: bool
) -> None:
    assert node_scheduling_changed(node(annotations=old), node(annotations=new)) is changed
