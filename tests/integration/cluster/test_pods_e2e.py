"""End to end on a whole cluster (etcd, apiserver, scheduler, 3 real kubelets):
pods are placed by the scheduler and run as processes on the chosen node."""

from __future__ import annotations

from typing import Any

from pinnace.api.core.v1 import pod_pb2
from pinnace.client import Client
from pinnace.machinery import codec
from tests.waiting import wait_for

TIMEOUT = 30  # seconds: a whole cluster on a loaded machine


def pod(name: str, **spec: Any) -> pod_pb2.Pod:
    body = {
        "terminationGracePeriodSeconds": 1,
        "containers": [
            {
                "name": "c",
                "image": "busybox",
                "command": ["sh", "-c", "echo $NODE; sleep 300"],
                "env": [
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
                ],
            }
        ],
        **spec,
    }
    return codec.from_dict(pod_pb2.Pod, {"metadata": {"name": name}, "spec": body})


def running(client: Client, ns: str, name: str) -> pod_pb2.Pod | None:
    p = client.pods(ns).get(name)
    return p if p.status.phase == "Running" else None


def test_node_selector_places_and_runs(cluster_client: Client, cluster_namespace: str) -> None:
    pods = cluster_client.pods(cluster_namespace)
    for i in range(3):
        pods.create(pod(f"on-two-{i}", nodeSelector={"kubernetes.io/hostname": "node-2"}))
    for i in range(3):
        p = wait_for(
            lambda i=i: running(cluster_client, cluster_namespace, f"on-two-{i}"),
            timeout=TIMEOUT,
            what="pod Running",
        )
        assert p.spec.node_name == "node-2"
        assert any(c.type == "PodScheduled" and c.status == "True" for c in p.status.conditions)
        assert p.status.container_statuses[0].state.HasField("running")


def test_unschedulable_pod_gets_the_tally_and_runs_once_it_fits(
    cluster_client: Client, cluster_namespace: str
) -> None:
    pods = cluster_client.pods(cluster_namespace)
    pods.create(pod("picky", nodeSelector={"disk": "ssd"}))

    def failed_scheduling() -> str:
        p = pods.get("picky")
        for c in p.status.conditions:
            if c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable":
                return c.message
        return ""

    message = wait_for(failed_scheduling, timeout=TIMEOUT, what="PodScheduled=False")
    assert (
        message == "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
    )
    events = (
        cluster_client.events(cluster_namespace)
        .list(field_selector="reason=FailedScheduling")
        .items
    )
    assert any(e.message == message and e.type == "Warning" for e in events)

    cluster_client.nodes().patch("node-3", {"metadata": {"labels": {"disk": "ssd"}}})
    try:
        p = wait_for(
            lambda: running(cluster_client, cluster_namespace, "picky"),
            timeout=TIMEOUT,
            what="pod Running",
        )
        assert p.spec.node_name == "node-3"
    finally:
        cluster_client.nodes().patch("node-3", {"metadata": {"labels": {"disk": None}}})


def test_cordon_stops_new_placements(cluster_client: Client, cluster_namespace: str) -> None:
    nodes = cluster_client.nodes()
    nodes.patch("node-1", {"spec": {"unschedulable": True}})
    try:
        pods = cluster_client.pods(cluster_namespace)
        for i in range(6):
            pods.create(pod(f"spread-{i}"))
        placed = [
            wait_for(
                lambda i=i: running(cluster_client, cluster_namespace, f"spread-{i}"),
                timeout=TIMEOUT,
                what="Running",
            ).spec.node_name
            for i in range(6)
        ]
        assert "node-1" not in placed
        assert set(placed) == {"node-2", "node-3"}, (
            "pods of no owner still spread by least allocation"
        )
    finally:
        nodes.patch("node-1", {"spec": {"unschedulable": None}})
