"""hostNetwork pods bind their ports in the machine's own network, so the
nodes of one machine (``status.nodeInfo`` machineID + bootID) share them
whatever the nodes' pod network, bridge or host: two hostNetwork pods with
port 9000 on two kubelets of one machine are not both placed. A hostPort of
a pod with its own network on a bridge node binds nothing on the machine
(the kubelet forwards no hostPorts) and stays a per-node reservation, as in
Kubernetes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scheduler.cache import Cache
from scheduler.failure import fit_error_message
from scheduler.framework import Status
from scheduler.nodeinfo import HostPort, PodInfo
from scheduler.plugins import default_framework
from scheduler.plugins.node_ports import NodePorts
from tests.unit.scheduler.builders import (
    BRIDGE_NETWORK_NODE,
    HOST_NETWORK_NODE,
    PORTS_CLASH,
    PORTS_OK,
    assert_machines_consistent,
    bound,
    info,
    node,
    pod,
)

OK, CLASH = PORTS_OK, PORTS_CLASH
HOST, BRIDGE = HOST_NETWORK_NODE, BRIDGE_NETWORK_NODE
NAMES = ("n1", "n2", "n3")
HOSTNET = {"hostNetwork": True}

# The pods: (spec, ports). hostNetwork ones as the apiserver stores them
# (hostPort defaulted to containerPort) unless said otherwise.
Kind = tuple[dict[str, Any] | None, list[dict[str, Any]]]
HOSTNET_9000: Kind = (HOSTNET, [{"containerPort": 9000, "hostPort": 9000}])
HOSTNET_9001: Kind = (HOSTNET, [{"containerPort": 9001, "hostPort": 9001}])
HOSTNET_9000_UDP: Kind = (
    HOSTNET,
    [{"containerPort": 9000, "hostPort": 9000, "protocol": "UDP"}],
)
HOSTNET_9000_NOT_DEFAULTED: Kind = (HOSTNET, [{"containerPort": 9000}])
HOSTNET_9000_IP1: Kind = (
    HOSTNET,
    [{"containerPort": 9000, "hostPort": 9000, "hostIP": "127.0.0.1"}],
)
HOSTNET_9000_IP2: Kind = (
    HOSTNET,
    [{"containerPort": 9000, "hostPort": 9000, "hostIP": "127.0.0.2"}],
)
CPORT_9000: Kind = (None, [{"containerPort": 9000}])
HOSTPORT_9000: Kind = (None, [{"containerPort": 80, "hostPort": 9000}])


def make(kind: Kind, name: str) -> Any:
    spec, ports = kind
    return pod(name, spec=spec, ports=ports, owner="rs")


def mnode(name: str, machine: str = "m1", boot: str = "b1", network: dict | None = None) -> Any:
    return node(
        name, machine_id=machine, boot_id=boot, annotations=BRIDGE if network is None else network
    )


def verdicts(cache: Cache, new: PodInfo, names: tuple[str, ...] = NAMES) -> list[Status]:
    out = []
    for name in names:
        ni = cache.node_info(name)
        assert ni is not None
        out.append(NodePorts().filter(new, ni))
    return out


SAME = [("m1", "b1", BRIDGE)] * 3


@pytest.mark.parametrize(
    ("nodes", "existing", "new", "want"),
    [
        pytest.param(SAME, HOSTNET_9000, HOSTNET_9000, [CLASH] * 3, id="bridge-one-machine"),
        pytest.param(
            [("m1", "b1", BRIDGE), ("m2", "b1", BRIDGE), ("m3", "b1", BRIDGE)],
            HOSTNET_9000,
            HOSTNET_9000,
            [CLASH, OK, OK],
            id="bridge-different-machines",
        ),
        pytest.param(
            [("m1", "b1", BRIDGE), ("m1", "b2", BRIDGE), ("m1", "b1", BRIDGE)],
            HOSTNET_9000,
            HOSTNET_9000,
            [CLASH, OK, CLASH],
            id="bridge-boot-id-is-part-of-the-key",
        ),
        pytest.param(
            [("", "", BRIDGE)] * 3,
            HOSTNET_9000,
            HOSTNET_9000,
            [CLASH, OK, OK],
            id="bridge-missing-ids-own-machine",
        ),
        pytest.param(
            [("m1", "b1", {})] * 3,
            HOSTNET_9000,
            HOSTNET_9000,
            [CLASH] * 3,
            id="unannotated-is-bridge",
        ),
        pytest.param(
            [("m1", "b1", BRIDGE), ("m1", "b1", HOST), ("m1", "b1", HOST)],
            HOSTNET_9000,
            HOSTNET_9000,
            [CLASH] * 3,
            id="bridge-and-host-nodes-of-one-machine",
        ),
        pytest.param(SAME, HOSTNET_9000, HOSTNET_9001, [OK] * 3, id="other-port"),
        pytest.param(SAME, HOSTNET_9000_UDP, HOSTNET_9000, [OK] * 3, id="other-protocol"),
        pytest.param(SAME, HOSTNET_9000_IP1, HOSTNET_9000_IP2, [OK] * 3, id="other-host-ips"),
        pytest.param(SAME, HOSTNET_9000_IP1, HOSTNET_9000, [CLASH] * 3, id="wildcard-ip-clash"),
        pytest.param(
            SAME,
            HOSTNET_9000_NOT_DEFAULTED,
            HOSTNET_9000_NOT_DEFAULTED,
            [CLASH] * 3,
            id="container-port-without-defaulted-host-port",
        ),
        pytest.param(
            [("m1", "b1", BRIDGE), ("m1", "b1", HOST), ("m1", "b1", BRIDGE)],
            HOSTNET_9000,
            CPORT_9000,
            [OK, CLASH, OK],
            id="own-network-pod-binds-the-machine-only-on-a-host-node",
        ),
        pytest.param(
            [("m1", "b1", HOST), ("m1", "b1", BRIDGE), ("m1", "b1", BRIDGE)],
            CPORT_9000,
            HOSTNET_9000,
            [CLASH] * 3,
            id="host-node-pod-blocks-hostnetwork-pods-on-bridge-nodes",
        ),
        pytest.param(
            SAME, CPORT_9000, HOSTNET_9000, [OK] * 3, id="bridge-pod-container-port-is-its-own"
        ),
        pytest.param(
            SAME,
            HOSTPORT_9000,
            HOSTNET_9000,
            [CLASH, OK, OK],
            id="bridge-hostport-is-per-node",
        ),
        pytest.param(
            SAME,
            HOSTNET_9000,
            HOSTPORT_9000,
            [CLASH, OK, OK],
            id="hostport-clashes-with-hostnetwork-pod-on-its-node-only",
        ),
        pytest.param(
            SAME, HOSTPORT_9000, HOSTPORT_9000, [CLASH, OK, OK], id="kubernetes-hostports"
        ),
    ],
)
def test_ports_used_on_n1(
    nodes: list[tuple[str, str, dict[str, str]]], existing: Kind, new: Kind, want: list[Status]
) -> None:
    """A pod of kind existing on n1; NodePorts for a pod of kind new on each node."""
    cache = Cache()
    for name, (machine, boot, network) in zip(NAMES, nodes, strict=True):
        cache.add_node(mnode(name, machine, boot, network))
    cache.add_pod(bound(make(existing, "old"), "n1"))
    assert verdicts(cache, info(make(new, "new"))) == want
    assert_machines_consistent(cache, NAMES)


@pytest.mark.parametrize(
    ("spec", "ports", "want"),
    [
        pytest.param(
            HOSTNET,
            [{"containerPort": 9000, "hostPort": 9000}],
            [("0.0.0.0", "TCP", 9000)],
            id="hostnetwork",
        ),
        pytest.param(
            HOSTNET, [{"containerPort": 9000}], [("0.0.0.0", "TCP", 9000)], id="not-defaulted"
        ),
        pytest.param(None, [{"containerPort": 9000}], [], id="own-network"),
        pytest.param(None, [{"containerPort": 80, "hostPort": 9000}], [], id="own-network-hp"),
    ],
)
def test_bridge_machine_ports(
    spec: dict[str, Any] | None, ports: list[dict[str, Any]], want: list[tuple]
) -> None:
    got = info(pod(spec=spec, ports=ports)).bridge_machine_ports
    assert got == tuple(HostPort(*w) for w in want)


@pytest.mark.parametrize(
    ("machines", "placed_count"),
    [
        pytest.param(["m1", "m1", "m1"], 1, id="one-machine"),
        pytest.param(["m1", "m2", "m3"], 3, id="three-machines"),
    ],
)
def test_four_hostnetwork_pods_on_three_bridge_nodes(
    machines: list[str], placed_count: int
) -> None:
    """Placed one at a time (assumed, as the scheduler does); those that
    fit nowhere get Kubernetes' message for all three nodes."""
    cache = Cache()
    for name, machine in zip(NAMES, machines, strict=True):
        cache.add_node(mnode(name, machine))
    framework = default_framework()
    placed: list[str] = []
    messages: list[str] = []
    for i in range(4):
        replica = info(make(HOSTNET_9000, f"agent-{i}"))
        result = framework.find_feasible(replica, cache.node_infos())
        if result.feasible:
            placed.append(result.feasible[0].name)
            cache.assume_pod(replica, placed[-1])
        else:
            messages.append(fit_error_message(3, result.failed.values()))
    assert len(placed) == len(set(placed)) == placed_count
    assert messages == [
        "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports."
    ] * (4 - placed_count)
    assert_machines_consistent(cache, NAMES)


def _old() -> Any:
    return bound(make(HOSTNET_9000, "old"), "n1")


def _delete(cache: Cache) -> None:
    cache.remove_pod(_old())


def _forget(cache: Cache) -> None:
    cache.forget_pod("default/old")


def _terminal(cache: Cache) -> None:
    done = _old()
    done.status.phase = "Failed"
    cache.update_pod(done)


def _expire(cache: Cache) -> None:
    cache.finish_binding("default/old")
    assert cache.cleanup_expired() == ["default/old"]


def _confirm_on_another_machine(cache: Cache) -> None:
    cache.add_node(mnode("other", "m2"))
    cache.add_pod(bound(make(HOSTNET_9000, "old"), "other"))


def _node_deleted_then_pod(cache: Cache) -> None:
    """A deleted Node's pod still holds the port until it goes."""
    cache.remove_node("n1")
    new = info(make(HOSTNET_9000, "new"))
    assert verdicts(cache, new, ("n2", "n3")) == [CLASH, CLASH]
    cache.remove_pod(_old())
    cache.add_node(mnode("n1"))


@pytest.mark.parametrize(
    "remove",
    [
        pytest.param(_delete, id="deleted"),
        pytest.param(_forget, id="bind-failed-forgotten"),
        pytest.param(_terminal, id="failed"),
        pytest.param(_expire, id="assumed-expired"),
        pytest.param(_confirm_on_another_machine, id="confirmed-on-another-machine"),
        pytest.param(_node_deleted_then_pod, id="node-deleted-then-pod"),
    ],
)
def test_hostnetwork_pod_going_frees_its_port_on_every_bridge_node(
    remove: Callable[[Cache], None],
) -> None:
    cache = Cache(assumed_ttl=0.0, clock=lambda: 0.0)
    for name in NAMES:
        cache.add_node(mnode(name))
    cache.assume_pod(info(make(HOSTNET_9000, "old")), "n1")
    new = info(make(HOSTNET_9000, "new"))
    assert verdicts(cache, new) == [CLASH] * 3
    remove(cache)
    assert verdicts(cache, new) == [OK] * 3
    assert_machines_consistent(cache, NAMES)
    machine = cache.machine_ports(("m1", "b1"))
    assert machine is not None and machine.used == {}


@pytest.mark.parametrize(
    ("change", "want"),
    [
        pytest.param(mnode("n1", network=HOST), [CLASH] * 3, id="n1-to-host"),
        pytest.param(mnode("n1", network={}), [CLASH] * 3, id="n1-annotation-removed"),
        pytest.param(mnode("n1", "m2"), [CLASH, OK, OK], id="n1-other-machine"),
        pytest.param(mnode("n1", boot="b2"), [CLASH, OK, OK], id="n1-rebooted"),
        pytest.param(mnode("n1", "", ""), [CLASH, OK, OK], id="n1-ids-gone"),
        pytest.param(mnode("n2", "m2"), [CLASH, OK, CLASH], id="n2-other-machine"),
        pytest.param(mnode("n2", network=HOST), [CLASH] * 3, id="n2-to-host"),
        pytest.param(mnode("n1"), [CLASH] * 3, id="heartbeat-unchanged"),
    ],
)
def test_node_changes_move_hostnetwork_pod_ports(change: Any, want: list[Status]) -> None:
    """hostNetwork pod on bridge n1 of machine m1 with n2, n3; one Node changes."""
    cache = Cache()
    for name in NAMES:
        cache.add_node(mnode(name))
    cache.add_pod(bound(make(HOSTNET_9000, "old"), "n1"))
    cache.update_node(change)
    assert verdicts(cache, info(make(HOSTNET_9000, "new"))) == want
    assert_machines_consistent(cache, NAMES)


@pytest.mark.parametrize(
    ("modes", "want"),
    [
        pytest.param([BRIDGE], [OK, OK, OK], id="bridge"),
        pytest.param([HOST], [CLASH, CLASH, CLASH], id="to-host"),
        pytest.param([HOST, BRIDGE], [OK, OK, OK], id="to-host-and-back"),
        pytest.param([HOST, {}, HOST], [CLASH, CLASH, CLASH], id="host-bridge-host"),
    ],
)
def test_node_mode_change_recounts_its_pods_in_the_machine(
    modes: list[dict[str, str]], want: list[Status]
) -> None:
    """A pod with containerPort 9000 (own network) on n1; n2, n3 are host
    nodes of the same machine. n1's pods bind the machine's ports only
    while n1 is a host node."""
    cache = Cache()
    cache.add_node(mnode("n1"))
    for name in ("n2", "n3"):
        cache.add_node(mnode(name, network=HOST))
    cache.add_pod(bound(make(CPORT_9000, "old"), "n1"))
    new = info(make(CPORT_9000, "new"))
    for mode in modes:
        cache.update_node(mnode("n1", network=mode))
        assert_machines_consistent(cache, NAMES)
    assert verdicts(cache, new) == want
    cache.remove_pod(bound(make(CPORT_9000, "old"), "n1"))
    assert verdicts(cache, new) == [OK] * 3
    machine = cache.machine_ports(("m1", "b1"))
    assert machine is not None and machine.used == {}
