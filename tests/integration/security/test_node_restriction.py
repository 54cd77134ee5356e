"""NodeRestriction on the secure session cluster: node-1's kubelet identity
(its own client certificate, system:node:node-1 in system:nodes) may
change its own Node, Lease and its pods' status, and nothing of node-2.
Every row a real attempt over gRPC with that identity."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pinnace.api.core.v1 import pod_pb2
from pinnace.client import Client
from pinnace.client.config import ClientConfig
from pinnace.localcluster.cluster import LocalCluster
from pinnace.machinery import errors, pki
from tests.waiting import wait_for


@pytest.fixture
def node1(cluster: LocalCluster) -> Iterator[Client]:
    pair = pki.read_pair(cluster.pki.kubelet("node-1"))
    ca = pki.read_pair(cluster.pki.ca)
    assert pair is not None and ca is not None
    config = ClientConfig(
        servers=(cluster.server,),
        ca_pem=ca.cert_pem(),
        cert_pem=pair.cert_pem(),
        key_pem=pair.key_pem(),
    )
    with Client(config=config, timeout=10) as client:
        yield client


def _pod_on(client: Client, ns: str, name: str, node: str) -> pod_pb2.Pod:
    pod = pod_pb2.Pod()
    pod.metadata.name = name
    pod.spec.node_name = node
    pod.spec.termination_grace_period_seconds = 1
    c = pod.spec.containers.add(name="c", image="busybox")
    c.command[:] = ["sleep", "60"]
    return client.pods(ns).create(pod)


def _relabel(client: Client, node: str, key: str) -> Any:
    obj = client.nodes().get(node)
    obj.metadata.labels[key] = "x"
    return client.nodes().update(obj)


def test_a_kubelet_changes_only_what_is_its_own(
    cluster_client: Client, cluster_namespace: str, node1: Client
) -> None:
    ns = cluster_namespace
    theirs = _pod_on(cluster_client, ns, "theirs", "node-2")
    mine = _pod_on(cluster_client, ns, "mine", "node-1")
    wait_for(
        lambda: cluster_client.pods(ns).get("mine").status.phase == "Running", 60, "mine running"
    )
    attempts: list[tuple[str, Callable[[], Any], str]] = [
        (
            "update another node's status",
            lambda: node1.nodes().update_status(node1.nodes().get("node-2")),
            'node "node-1" is not allowed to modify node "node-2"',
        ),
        (
            "label itself with a restricted label",
            lambda: _relabel(node1, "node-1", "node-restriction.kubernetes.io/pool"),
            'node "node-1" is not allowed to modify labels: node-restriction.kubernetes.io/pool',
        ),
        (
            "update the status of another node's pod",
            lambda: node1.pods(ns).update_status(node1.pods(ns).get("theirs")),
            'node "node-1" can only update pod status for pods with spec.nodeName set to itself',
        ),
        (
            "create a pod bound to another node",
            lambda: _pod_on(node1, ns, "sneaky", "node-2"),
            'node "node-1" can only create mirror pods',
        ),
        (
            "delete another node's pod",
            lambda: node1.pods(ns).delete("theirs"),
            'node "node-1" can only delete pods with spec.nodeName set to itself',
        ),
        (
            "renew another node's lease",
            lambda: node1.leases("kube-node-lease").update(
                node1.leases("kube-node-lease").get("node-2")
            ),
            'node "node-1" can only access node lease with the same name as the requesting node',
        ),
        (
            "change its own pod's spec",
            lambda: node1.pods(ns).update(_with_label(node1.pods(ns).get("mine"))),
            # RBAC refuses first: system:node may update pods' status, not pods.
            'User "system:node:node-1" cannot update resource "pods"',
        ),
    ]
    for what, attempt, message in attempts:
        with pytest.raises(errors.Forbidden) as err:
            attempt()
        assert message in str(err.value), what
    # What is its own: its Node, its Lease, its pods' status.
    node1.nodes().update_status(node1.nodes().get("node-1"))
    node1.leases("kube-node-lease").update(node1.leases("kube-node-lease").get("node-1"))
    node1.pods(ns).update_status(node1.pods(ns).get("mine"))
    assert cluster_client.pods(ns).get("theirs").metadata.uid == theirs.metadata.uid
    assert mine.spec.node_name == "node-1"


def _with_label(pod: pod_pb2.Pod) -> pod_pb2.Pod:
    pod.metadata.labels["grabbed"] = "yes"
    return pod
