"""A real scheduler process and Node objects that say how their kubelet
networks pods (``pinnace.io/pod-network``): on "host" nodes (a kubelet
without root) every containerPort is a host port, so replicas of a server
spread one per machine and the ones that fit nowhere stay Pending with
Kubernetes' reason. Host nodes reporting the same ``status.nodeInfo``
machineID and bootID (``pinnace up --nodes 3``: three kubelets, one
machine) share its ports; on "bridge" nodes only hostPorts count (a
hostNetwork pod's container ports are hostPorts by the apiserver's
defaulting), and a hostNetwork pod's ports are its machine's, shared by
all nodes of that machine, bridge ones too."""

from __future__ import annotations

import uuid

from pinnace.machinery.wellknown import (
    ANNOTATION_POD_NETWORK,
    POD_NETWORK_BRIDGE,
    POD_NETWORK_HOST,
)
from tests.integration.scheduler.conftest import (
    bound_pods,
    make_pod,
    scheduled_condition,
    wait_bound,
    wait_for,
)

REASON = "node(s) didn't have free ports for the requested pod ports"


def _unschedulable_message(client, namespace: str, name: str) -> str:
    def check() -> str:
        cond = scheduled_condition(client.pods(namespace).get(name))
        if cond is not None and cond.status == "False" and cond.reason == "Unschedulable":
            return cond.message
        return ""

    return wait_for(check, what=f"{name} PodScheduled=False")


def _create_replicas(client, namespace: str, run_id: str, count: int) -> list[str]:
    owner = str(uuid.uuid4())
    names = [f"web-{i}" for i in range(count)]
    for name in names:
        client.pods(namespace).create(
            make_pod(name, namespace, run_id, owner_uid=owner, container_port=8080)
        )
    return names


def test_host_network_nodes_of_distinct_machines_take_one_replica_each(
    client, namespace, run_id, test_nodes, schedulers
):
    """4 replicas with containerPort 8080 on 3 host-network nodes of 3
    machines: 3 bound to distinct nodes, the 4th Pending with the reason
    for all 3 nodes."""
    for suffix in ("a", "b", "c"):
        test_nodes.create(
            suffix,
            annotations={ANNOTATION_POD_NETWORK: POD_NETWORK_HOST},
            machine_id=f"machine-{run_id}-{suffix}",
            boot_id=f"boot-{run_id}",
        )
    schedulers.start("--leader-elect=false")
    names = _create_replicas(client, namespace, run_id, 4)
    placed = wait_bound(client, namespace, 3)
    assert sorted(placed.values()) == sorted(test_nodes.created)
    (pending,) = set(names) - set(placed)
    message = _unschedulable_message(client, namespace, pending)
    assert f"3 {REASON}" in message
    assert len(bound_pods(client, namespace)) == 3  # decided: it fits nowhere


def test_host_network_nodes_of_one_machine_share_its_ports(
    client, namespace, run_id, test_nodes, schedulers
):
    """3 host-network nodes reporting one machineID and bootID (as the
    kubelets of ``pinnace up --nodes 3`` do): one replica of port 8080
    binds, the other 3 stay Pending with the reason for all 3 nodes."""
    created = [
        test_nodes.create(
            suffix,
            annotations={ANNOTATION_POD_NETWORK: POD_NETWORK_HOST},
            machine_id=f"machine-{run_id}",
            boot_id=f"boot-{run_id}",
        )
        for suffix in ("a", "b", "c")
    ]
    assert {n.status.node_info.machine_id for n in created} == {f"machine-{run_id}"}
    schedulers.start("--leader-elect=false")
    names = _create_replicas(client, namespace, run_id, 4)
    placed = wait_bound(client, namespace, 1)
    pending = sorted(set(names) - set(placed))
    assert len(pending) == 3
    for name in pending:
        assert f"3 {REASON}" in _unschedulable_message(client, namespace, name)
    assert bound_pods(client, namespace) == placed  # decided: they fit nowhere


def test_bridge_node_keeps_kubernetes_host_ports(client, namespace, run_id, test_nodes, schedulers):
    """On a bridge node container ports are the pod's own: 4 replicas of
    port 8080 share it. Two hostNetwork pods declaring port 9000 (hostPort
    defaulted to it) do not: one binds, the other gets the reason."""
    (node,) = [test_nodes.create("a", annotations={ANNOTATION_POD_NETWORK: POD_NETWORK_BRIDGE})]
    schedulers.start("--leader-elect=false")
    for i in range(4):
        client.pods(namespace).create(make_pod(f"web-{i}", namespace, run_id, container_port=8080))
    assert set(wait_bound(client, namespace, 4).values()) == {node.metadata.name}

    created = client.pods(namespace).create(
        make_pod("hostnet-0", namespace, run_id, container_port=9000, host_network=True)
    )
    assert [p.host_port for p in created.spec.containers[0].ports] == [9000]  # defaulted
    client.pods(namespace).create(
        make_pod("hostnet-1", namespace, run_id, container_port=9000, host_network=True)
    )
    placed = wait_bound(client, namespace, 5)
    (pending,) = {"hostnet-0", "hostnet-1"} - set(placed)
    assert f"1 {REASON}" in _unschedulable_message(client, namespace, pending)


def test_hostnetwork_pods_on_bridge_nodes_of_one_machine_share_its_ports(
    client, namespace, run_id, test_nodes, schedulers
):
    """3 bridge nodes of one machine, 3 hostNetwork pods with port 9000:
    one binds, two stay Pending with the reason for all 3 nodes. A pod with
    its own network and hostPort 9000 is only a reservation on its node
    (Kubernetes), so it binds to another node of the machine. Deleting the
    bound hostNetwork pod frees 9000 on the machine: exactly one of the
    Pending ones binds, on a node without the hostPort reservation."""
    for suffix in ("a", "b", "c"):
        test_nodes.create(
            suffix,
            annotations={ANNOTATION_POD_NETWORK: POD_NETWORK_BRIDGE},
            machine_id=f"machine-{run_id}",
            boot_id=f"boot-{run_id}",
        )
    schedulers.start("--leader-elect=false")
    agents = [f"agent-{i}" for i in range(3)]
    for name in agents:
        client.pods(namespace).create(
            make_pod(name, namespace, run_id, container_port=9000, host_network=True)
        )
    ((first, first_node),) = wait_bound(client, namespace, 1).items()
    pending = sorted(set(agents) - {first})
    for name in pending:
        assert f"3 {REASON}" in _unschedulable_message(client, namespace, name)

    reserve = make_pod("reserve", namespace, run_id)
    reserve.spec.containers[0].ports.add(container_port=80, host_port=9000)
    client.pods(namespace).create(reserve)
    reserve_node = wait_bound(client, namespace, 2)["reserve"]
    assert reserve_node != first_node  # per node: it clashes only with the hostNetwork pod

    client.pods(namespace).delete(first, grace_period_seconds=0)

    def one_pending_bound() -> dict[str, str] | None:
        bound = bound_pods(client, namespace)
        return bound if set(pending) & set(bound) else None

    bound = wait_for(one_pending_bound, what="a Pending hostNetwork pod bound")
    (second,) = set(pending) & set(bound)
    assert bound[second] != reserve_node
    assert set(bound) == {"reserve", second}
