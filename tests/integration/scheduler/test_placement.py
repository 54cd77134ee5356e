"""A real scheduler process placing pods on Node objects (no kubelets):
nodeSelector, resources, cordon, taints and tolerations, host ports,
spreading. See conftest.py for how tests keep to their own nodes."""

from __future__ import annotations

import collections
import uuid

from tests.integration.scheduler.conftest import (
    bound_pods,
    events_of,
    make_pod,
    pod_node,
    scheduled_condition,
    wait_bound,
    wait_for,
)


def _unschedulable_message(client, namespace: str, name: str) -> str:
    def check() -> str:
        cond = scheduled_condition(client.pods(namespace).get(name))
        if cond is not None and cond.status == "False" and cond.reason == "Unschedulable":
            return cond.message
        return ""

    return wait_for(check, what=f"{name} PodScheduled=False")


def test_node_selector_lands_on_matching_node(client, namespace, run_id, test_nodes, schedulers):
    """Pods with a nodeSelector are bound to the one node whose labels match."""
    for zone in ("a", "b", "c"):
        test_nodes.create(zone, labels={"zone": zone})
    schedulers.start("--leader-elect=false")
    for i in range(6):
        client.pods(namespace).create(
            make_pod(f"p{i}", namespace, run_id, node_selector={"zone": "b"})
        )
    placed = wait_bound(client, namespace, 6)
    assert set(placed.values()) == {test_nodes.name("b")}


def test_resources_fit(client, namespace, run_id, test_nodes, schedulers):
    """Requests are counted (assumed pods included): a 3-cpu pod only fits the
    big node, and 600m pods fill the small node one at a time."""
    small = test_nodes.create("small", cpu="1", labels={"size": "small"}).metadata.name
    big = test_nodes.create("big", cpu="4").metadata.name
    schedulers.start("--leader-elect=false")
    pods = client.pods(namespace)
    pods.create(make_pod("large", namespace, run_id, cpu="3"))
    wait_for(lambda: pod_node(client, namespace, "large") == big, what="large on big")
    pods.create(make_pod("s1", namespace, run_id, cpu="600m", node_selector={"size": "small"}))
    pods.create(make_pod("s2", namespace, run_id, cpu="600m", node_selector={"size": "small"}))
    placed = wait_bound(client, namespace, 2)
    assert placed["large"] == big
    (winner,) = {"s1", "s2"} & set(placed)
    assert placed[winner] == small
    loser = ({"s1", "s2"} - {winner}).pop()
    assert "1 Insufficient cpu" in _unschedulable_message(client, namespace, loser)


def test_cordon_stops_placements_and_uncordon_resumes(
    client, namespace, run_id, test_nodes, schedulers
):
    """spec.unschedulable=true keeps new pods off a node; lifting it lets the
    waiting pod be scheduled (a node update moves unschedulable pods)."""
    node = test_nodes.create("only")
    schedulers.start("--leader-elect=false")
    node.spec.unschedulable = True
    client.nodes().update(node)
    client.pods(namespace).create(make_pod("waiting", namespace, run_id))
    message = _unschedulable_message(client, namespace, "waiting")
    assert "node(s) were unschedulable" in message
    warnings = wait_for(
        lambda: events_of(client, namespace, "waiting", "FailedScheduling"),
        what="FailedScheduling event",
    )
    assert warnings[0].type == "Warning"
    assert warnings[0].message == message
    assert pod_node(client, namespace, "waiting") == ""

    node = client.nodes().get(node.metadata.name)
    node.spec.unschedulable = False
    client.nodes().update(node)
    wait_for(
        lambda: pod_node(client, namespace, "waiting") == node.metadata.name,
        what="scheduled after uncordon",
    )
    cond = scheduled_condition(client.pods(namespace).get("waiting"))
    assert cond.status == "True"


def test_taints_and_tolerations(client, namespace, run_id, test_nodes, schedulers):
    """NoSchedule taints repel pods that do not tolerate them; a toleration
    admits the pod; a NotReady node acts as tainted not-ready."""
    tainted = test_nodes.create(
        "tainted", labels={"role": "infra"}, taints=[("dedicated", "infra", "NoSchedule")]
    ).metadata.name
    plain = test_nodes.create("plain").metadata.name
    not_ready = test_nodes.create("down", ready="False", labels={"role": "down"}).metadata.name
    schedulers.start("--leader-elect=false")
    pods = client.pods(namespace)
    pods.create(make_pod("any", namespace, run_id))
    pods.create(
        make_pod(
            "tolerating",
            namespace,
            run_id,
            node_selector={"role": "infra"},
            tolerations=[
                {"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}
            ],
        )
    )
    pods.create(make_pod("intolerant", namespace, run_id, node_selector={"role": "infra"}))
    pods.create(make_pod("wants-down", namespace, run_id, node_selector={"role": "down"}))
    wait_for(lambda: pod_node(client, namespace, "any") == plain, what="any on plain")
    wait_for(
        lambda: pod_node(client, namespace, "tolerating") == tainted, what="tolerating on tainted"
    )
    assert "1 node(s) had untolerated taint {dedicated: infra}" in _unschedulable_message(
        client, namespace, "intolerant"
    )
    assert (
        "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
        in _unschedulable_message(client, namespace, "wants-down")
    )
    assert not_ready not in bound_pods(client, namespace).values()


def test_host_ports_conflict(client, namespace, run_id, test_nodes, schedulers):
    """Two pods asking for the same hostPort go to different nodes."""
    test_nodes.create("a")
    test_nodes.create("b")
    schedulers.start("--leader-elect=false")
    for i in range(3):
        client.pods(namespace).create(make_pod(f"web{i}", namespace, run_id, host_port=8080))
    placed = wait_bound(client, namespace, 2)
    assert len(set(placed.values())) == 2
    unbound = ({"web0", "web1", "web2"} - set(placed)).pop()
    assert "2 node(s) didn't have free ports for the requested pod ports" in (
        _unschedulable_message(client, namespace, unbound)
    )


def test_pods_of_one_owner_spread(client, namespace, run_id, test_nodes, schedulers):
    """Pods with the same controller owner spread evenly over 3 equal nodes."""
    for i in range(3):
        test_nodes.create(str(i))
    schedulers.start("--leader-elect=false")
    owner = str(uuid.uuid4())
    for i in range(9):
        client.pods(namespace).create(make_pod(f"r{i}", namespace, run_id, owner_uid=owner))
    placed = wait_bound(client, namespace, 9)
    assert sorted(collections.Counter(placed.values()).values()) == [3, 3, 3]
