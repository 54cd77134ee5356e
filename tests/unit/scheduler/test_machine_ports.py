"""Host-network nodes of one machine share one port space: the cache keeps
one tally per machine key (``status.nodeInfo`` machineID + bootID) for the
nodes annotated ``pinnace.io/pod-network: host``, so a containerPort used
on node-1 is taken on every host node of that machine; a pod with its own
network on a bridge node takes no port of the machine, and nodes without
ids count alone. (hostNetwork pods on bridge nodes:
test_machine_host_network_pods.py.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scheduler.cache import Cache
from scheduler.failure import fit_error_message
from scheduler.framework import Status
from scheduler.nodeinfo import machine_key
from scheduler.plugins import default_framework
from scheduler.plugins.node_ports import NodePorts
from scheduler.scheduler import node_scheduling_changed
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
PORT_8080 = [{"containerPort": 8080}]


def host_node(name: str, machine: str = "m1", boot: str = "b1", **kwargs: Any) -> Any:
    kwargs.setdefault("annotations", HOST)
    return node(name, machine_id=machine, boot_id=boot, **kwargs)


def web(name: str = "web") -> Any:
    return pod(name, ports=PORT_8080, owner="rs")


def verdicts(cache: Cache, names: tuple[str, ...] = NAMES) -> list[Status]:
    """NodePorts for a new port-8080 pod on each named node."""
    new = info(web("new"))
    out = []
    for name in names:
        ni = cache.node_info(name)
        assert ni is not None
        out.append(NodePorts().filter(new, ni))
    return out


@pytest.mark.parametrize(
    ("nodes", "want"),
    [
        pytest.param(
            [("m1", "b1", HOST)] * 3, [CLASH, CLASH, CLASH], id="same-machine-shares-the-port"
        ),
        pytest.param(
            [("m1", "b1", HOST), ("m2", "b1", HOST), ("m3", "b1", HOST)],
            [CLASH, OK, OK],
            id="different-machines",
        ),
        pytest.param(
            [("m1", "b1", HOST), ("m1", "b2", HOST), ("m1", "b1", HOST)],
            [CLASH, OK, CLASH],
            id="boot-id-is-part-of-the-key",
        ),
        pytest.param([("", "", HOST)] * 3, [CLASH, OK, OK], id="missing-ids-own-machine"),
        pytest.param([("m1", "", HOST)] * 3, [CLASH, OK, OK], id="machine-id-only-own-machine"),
        pytest.param([("", "b1", HOST)] * 3, [CLASH, OK, OK], id="boot-id-only-own-machine"),
        pytest.param(
            [("m1", "b1", HOST), ("m1", "b1", BRIDGE), ("m1", "b1", {})],
            [CLASH, OK, OK],
            id="bridge-nodes-of-the-machine-unaffected",
        ),
        pytest.param(
            [("m1", "b1", BRIDGE), ("m1", "b1", HOST), ("m1", "b1", HOST)],
            [OK, OK, OK],
            id="pod-on-bridge-node-has-its-own-ip",
        ),
    ],
)
def test_port_used_on_n1_by_machine(
    nodes: list[tuple[str, str, dict[str, str]]], want: list[Status]
) -> None:
    cache = Cache()
    for name, (machine, boot, network) in zip(NAMES, nodes, strict=True):
        cache.add_node(host_node(name, machine, boot, annotations=network))
    cache.add_pod(bound(web(), "n1"))
    assert verdicts(cache) == want
    assert_machines_consistent(cache, NAMES)


@pytest.mark.parametrize(
    ("machines", "bound_count", "message"),
    [
        pytest.param(
            ["m1", "m1", "m1"],
            1,
            "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports.",
            id="one-machine",
        ),
        pytest.param(
            ["m1", "m2", "m3"],
            3,
            "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports.",
            id="three-machines",
        ),
    ],
)
def test_four_replicas_on_three_host_nodes(
    machines: list[str], bound_count: int, message: str
) -> None:
    """Replicas of port 8080 are placed one at a time (assumed, as the
    scheduler does); the ones that fit nowhere get Kubernetes' message."""
    cache = Cache()
    for name, machine in zip(NAMES, machines, strict=True):
        cache.add_node(host_node(name, machine))
    framework = default_framework()
    placed: list[str] = []
    messages: list[str] = []
    for i in range(4):
        replica = info(web(f"web-{i}"))
        result = framework.find_feasible(replica, cache.node_infos())
        if result.feasible:
            placed.append(result.feasible[0].name)
            cache.assume_pod(replica, placed[-1])
        else:
            messages.append(fit_error_message(3, result.failed.values()))
    assert len(placed) == len(set(placed)) == bound_count
    assert messages == [message] * (4 - bound_count)
    assert_machines_consistent(cache, NAMES)


def _delete(cache: Cache) -> None:
    cache.remove_pod(bound(web(), "n1"))


def _forget(cache: Cache) -> None:
    cache.forget_pod("default/web")


def _terminal(cache: Cache) -> None:
    done = bound(web(), "n1")
    done.status.phase = "Succeeded"
    cache.update_pod(done)


def _expire(cache: Cache) -> None:
    cache.finish_binding("default/web")
    assert cache.cleanup_expired() == ["default/web"]


def _confirm_elsewhere(cache: Cache) -> None:
    """The informer shows the assumed pod bound to a bridge node instead."""
    cache.add_node(host_node("other", annotations=BRIDGE))
    cache.add_pod(bound(web(), "other"))


@pytest.mark.parametrize(
    "remove",
    [
        pytest.param(_delete, id="deleted"),
        pytest.param(_forget, id="bind-failed-forgotten"),
        pytest.param(_terminal, id="succeeded"),
        pytest.param(_expire, id="assumed-expired"),
        pytest.param(_confirm_elsewhere, id="confirmed-on-another-node"),
    ],
)
def test_pod_going_frees_the_port_on_every_node_of_the_machine(
    remove: Callable[[Cache], None],
) -> None:
    cache = Cache(assumed_ttl=0.0, clock=lambda: 0.0)
    for name in NAMES:
        cache.add_node(host_node(name))
    cache.assume_pod(info(web()), "n1")
    assert verdicts(cache) == [CLASH] * 3
    remove(cache)
    assert verdicts(cache) == [OK] * 3
    assert_machines_consistent(cache, NAMES)
    machine = cache.machine_ports(("m1", "b1"))
    assert machine is not None and machine.used == {}


@pytest.mark.parametrize(
    ("change", "want"),
    [
        pytest.param(host_node("n1", annotations=BRIDGE), [OK, OK, OK], id="n1-to-bridge"),
        pytest.param(host_node("n1", annotations={}), [OK, OK, OK], id="n1-annotation-removed"),
        pytest.param(host_node("n1", "m2"), [CLASH, OK, OK], id="n1-other-machine"),
        pytest.param(host_node("n1", boot="b2"), [CLASH, OK, OK], id="n1-rebooted"),
        pytest.param(host_node("n1", "", ""), [CLASH, OK, OK], id="n1-ids-gone"),
        pytest.param(host_node("n2", annotations=BRIDGE), [CLASH, OK, CLASH], id="n2-to-bridge"),
        pytest.param(host_node("n2", "m2"), [CLASH, OK, CLASH], id="n2-other-machine"),
        pytest.param(host_node("n1"), [CLASH, CLASH, CLASH], id="heartbeat-unchanged"),
    ],
)
def test_node_changes_move_its_ports(change: Any, want: list[Status]) -> None:
    """Pod on n1 of machine m1 with n2, n3; then one node's Node changes."""
    cache = Cache()
    for name in NAMES:
        cache.add_node(host_node(name))
    cache.add_pod(bound(web(), "n1"))
    cache.update_node(change)
    assert verdicts(cache) == want
    assert_machines_consistent(cache, NAMES)


def test_back_to_host_counts_again() -> None:
    cache = Cache()
    for name in NAMES:
        cache.add_node(host_node(name))
    cache.add_pod(bound(web(), "n1"))
    cache.update_node(host_node("n1", annotations=BRIDGE))
    cache.update_node(host_node("n1"))
    assert verdicts(cache) == [CLASH] * 3
    assert_machines_consistent(cache, NAMES)


def test_deleted_node_keeps_its_pods_ports_until_they_go() -> None:
    """A deleted Node's pods may still run on the machine: their ports stay
    taken for its other host nodes until the pods go; then nothing of the
    deleted node is left in the machine's tally."""
    cache = Cache()
    for name in NAMES:
        cache.add_node(host_node(name))
    cache.add_pod(bound(web(), "n1"))
    cache.remove_node("n1")
    assert [n.name for n in cache.node_infos()] == ["n2", "n3"]
    assert verdicts(cache, ("n2", "n3")) == [CLASH, CLASH]
    assert_machines_consistent(cache, NAMES)
    cache.remove_pod(bound(web(), "n1"))
    assert cache.node_info("n1") is None
    assert verdicts(cache, ("n2", "n3")) == [OK, OK]
    machine = cache.machine_ports(("m1", "b1"))
    assert machine is not None and machine.nodes == {"n2", "n3"} and machine.used == {}


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(("n1", "n2", "n3"), id="in-order"),
        pytest.param(("n3", "n2", "n1"), id="reverse"),
    ],
)
def test_machine_tally_dropped_with_its_last_node(order: tuple[str, ...]) -> None:
    cache = Cache()
    for name in NAMES:
        cache.add_node(host_node(name))
    for name in order:
        cache.remove_node(name)
    assert cache.machine_ports(("m1", "b1")) is None
    cache.add_node(host_node("n1"))  # a fresh tally, not the dropped one
    machine = cache.machine_ports(("m1", "b1"))
    assert machine is not None and machine.nodes == {"n1"}


def test_pods_seen_before_their_node_count_once_it_arrives() -> None:
    cache = Cache()
    cache.add_pod(bound(web(), "n1"))
    for name in NAMES:
        cache.add_node(host_node(name))
    assert verdicts(cache) == [CLASH] * 3
    assert_machines_consistent(cache, NAMES)


@pytest.mark.parametrize(
    ("status", "want"),
    [
        pytest.param({"machineID": "m", "bootID": "b"}, ("m", "b"), id="both"),
        pytest.param({"machineID": "m"}, None, id="no-boot-id"),
        pytest.param({"bootID": "b"}, None, id="no-machine-id"),
        pytest.param({}, None, id="none"),
    ],
)
def test_machine_key(status: dict[str, str], want: tuple[str, str] | None) -> None:
    n = node(machine_id=status.get("machineID", ""), boot_id=status.get("bootID", ""))
    assert machine_key(n) == want


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        pytest.param(host_node("n1"), host_node("n1", "m2"), True, id="machine-id"),
        pytest.param(host_node("n1"), host_node("n1", boot="b2"), True, id="boot-id"),
        pytest.param(host_node("n1"), host_node("n1", "", ""), True, id="ids-gone"),
        pytest.param(host_node("n1"), host_node("n1"), False, id="unchanged"),
    ],
)
def test_machine_change_requeues_unschedulable_pods(old: Any, new: Any, changed: bool) -> None:
    assert node_scheduling_changed(old, new) is changed
