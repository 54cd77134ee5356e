"""NodeRestriction on the secure session cluster: node-1's kubelet identity
(its own client certificate, system:node:node-1 in system:nodes) may
change its own Node, Lease and its pods' status, and nothing of node-2.
Every row a real attempt over gRPC with that identity."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
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
    lease = "kube-node-lease"
    attempts: list[tuple[str, Callable[[], Any], str]] = [
        # Reads (the Node authorizer): only its own Node and pods.
        (
            "read another node",
            lambda: node1.nodes().get("node-2"),
            "node 'node-1' cannot read 'node-2', only its own Node object",
        ),
        (
            "list every node",
            lambda: node1.nodes().list(),
            "node 'node-1' cannot read all nodes, only its own Node object",
        ),
        (
            "list every pod",
            lambda: node1.pods("").list(),
            "can only list/watch pods with spec.nodeName field selector",
        ),
        (
            "list another node's pods",
            lambda: node1.pods("").list(field_selector="spec.nodeName=node-2"),
            "can only list/watch pods with spec.nodeName field selector",
        ),
        (
            "watch every pod",
            lambda: next(iter(node1.pods(ns).watch(timeout=5))),
            "can only list/watch pods with spec.nodeName field selector",
        ),
        (
            "read another node's pod",
            lambda: node1.pods(ns).get("theirs"),
            "no relationship found between node 'node-1' and this object",
        ),
        (
            "read another node's lease",
            lambda: node1.leases(lease).get("node-2"),
            "can only access node lease with the same name as the requesting node",
        ),
        # Writes (NodeRestriction).
        (
            "update another node's status",
            lambda: node1.nodes().update_status(cluster_client.nodes().get("node-2")),
            'node "node-1" is not allowed to modify node "node-2"',
        ),
        (
            "label itself with a restricted label",
            lambda: _relabel(node1, "node-1", "node-restriction.kubernetes.io/pool"),
            'node "node-1" is not allowed to modify labels: node-restriction.kubernetes.io/pool',
        ),
        (
            "update the status of another node's pod",
            lambda: node1.pods(ns).update_status(cluster_client.pods(ns).get("theirs")),
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
            lambda: node1.leases(lease).update(cluster_client.leases(lease).get("node-2")),
            "can only access node lease with the same name as the requesting node",
        ),
        (
            "change its own pod's spec",
            lambda: node1.pods(ns).update(_with_label(node1.pods(ns).get("mine"))),
            'User "system:node:node-1" cannot update resource "pods"',
        ),
    ]
    for what, attempt, message in attempts:
        with pytest.raises(errors.Forbidden) as err:
            attempt()
        assert message in str(err.value), what
    # What is its own: its Node, its Lease, its pods, and their status.
    node1.nodes().update_status(node1.nodes().get("node-1"))
    assert [
        n.metadata.name for n in node1.nodes().list(field_selector="metadata.name=node-1").items
    ] == ["node-1"]
    node1.leases(lease).update(node1.leases(lease).get("node-1"))
    node1.pods(ns).update_status(node1.pods(ns).get("mine"))
    own = node1.pods("").list(field_selector="spec.nodeName=node-1").items
    assert "mine" in [p.metadata.name for p in own]
    assert all(p.spec.node_name == "node-1" for p in own)
    assert cluster_client.pods(ns).get("theirs").metadata.uid == theirs.metadata.uid
    assert mine.spec.node_name == "node-1"


def _with_label(pod: pod_pb2.Pod) -> pod_pb2.Pod:
    pod.metadata.labels["grabbed"] = "yes"
    return pod


@pytest.mark.parametrize(
    ("query", "status"),
    [
        pytest.param("", 403, id="every-pod"),
        pytest.param("?fieldSelector=spec.nodeName%3Dnode-2", 403, id="another-nodes-pods"),
        pytest.param("?fieldSelector=spec.nodeName%3Dnode-1", 200, id="its-own-pods"),
    ],
)
def test_a_kubelet_lists_only_its_own_pods_over_https(
    cluster: LocalCluster, query: str, status: int
) -> None:
    """The same Node authorizer at the HTTP door: the field selector is part
    of what is authorized."""
    assert cluster.rest_server is not None
    context = ssl.create_default_context(cafile=str(cluster.pki.ca.cert))
    paths = cluster.pki.kubelet("node-1")
    context.load_cert_chain(str(paths.cert), str(paths.key))
    url = f"{cluster.rest_server}/api/v1/pods{query}"
    try:
        with urllib.request.urlopen(url, context=context, timeout=10) as resp:
            got, body = resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        got, body = e.code, json.loads(e.read())
    assert got == status, body
    if status == 403:
        assert "can only list/watch pods with spec.nodeName field selector" in body["message"]
    else:
        assert all(p["spec"]["nodeName"] == "node-1" for p in body["items"])
