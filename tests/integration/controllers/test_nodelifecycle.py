"""Node lifecycle on the whole `cluster` (grace period 3 s in the fast
flags): a SIGKILLed kubelet's node goes Unknown and gets the unreachable
taints; its pods are marked not ready; a Deployment's pods are evicted after
their tolerationSeconds and replaced on the other nodes; DaemonSet pods
stay; when the kubelet is back the node is Ready, untainted, and the evicted
pods are cleaned up."""

from __future__ import annotations

import time
from typing import Any

from pinnace.machinery import codec
from tests.integration.controllers.conftest import wait_for
from tests.integration.controllers.nodes_helpers import (
    daemon_set,
    deployment,
    is_ready,
    node_ready,
    pods_of,
)

NODE = "node-3"
TOLERATE_2S = [
    {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}
    for key in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")
]


def _component(cluster: Any, name: str) -> Any:
    return next(c for c in cluster.components if c.name == name)


def _condition(obj: Any, ctype: str) -> Any:
    return next((c for c in obj.status.conditions if c.type == ctype), None)


def test_unreachable_node_evicts_deployment_pods_not_daemons(
    cluster: Any, cluster_client: Any, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    web = cluster_client.deployments(ns).create(deployment("web", 3, tolerations=TOLERATE_2S))
    agent = cluster_client.daemon_sets(ns).create(daemon_set("agent"))

    def web_pods() -> list[Any]:
        return [
            p
            for p in cluster_client.pods(ns).list(label_selector="app=web").items
            if not p.metadata.deletion_timestamp
        ]

    def settled() -> bool:
        pods = web_pods()
        daemons = pods_of(cluster_client, ns, agent.metadata.uid)
        return (
            len(pods) == 3
            and all(is_ready(p) for p in pods)
            and any(p.spec.node_name == NODE for p in pods)
            and len(daemons) == 3
            and all(is_ready(p) for p in daemons)
        )

    wait_for(settled, timeout=30, what="3 web pods (one on node-3) and 3 daemon pods ready")
    doomed = {p.metadata.uid for p in web_pods() if p.spec.node_name == NODE}
    daemon = next(
        p for p in pods_of(cluster_client, ns, agent.metadata.uid) if p.spec.node_name == NODE
    )
    kubelet = _component(cluster, f"kubelet-{NODE}")
    kubelet.kill()
    killed_at = time.monotonic()
    try:

        def unknown() -> Any:
            node = cluster_client.nodes().get(NODE)
            ready = _condition(node, "Ready")
            return node if ready is not None and ready.status == "Unknown" else None

        node = wait_for(unknown, timeout=10, what="node-3 Ready=Unknown")
        assert time.monotonic() - killed_at < 8
        ready = _condition(node, "Ready")
        assert ready.reason == "NodeStatusUnknown"
        assert ready.message == "Kubelet stopped posting node status."

        def tainted() -> set[tuple[str, str]]:
            taints = cluster_client.nodes().get(NODE).spec.taints
            return {(t.key, t.effect) for t in taints}

        wait_for(
            lambda: (
                {
                    ("node.kubernetes.io/unreachable", "NoExecute"),
                    ("node.kubernetes.io/unreachable", "NoSchedule"),
                }
                <= tainted()
            ),
            timeout=5,
            what="unreachable taints",
        )
        # The pods there are marked not ready.
        wait_for(
            lambda: not is_ready(cluster_client.pods(ns).get(daemon.metadata.name)),
            timeout=5,
            what="the daemon pod marked Ready=False",
        )

        # After 2 s the web pods there are evicted (DisruptionTarget first) and replaced.
        def replaced() -> bool:
            pods = web_pods()
            return (
                len(pods) == 3
                and all(p.spec.node_name != NODE and is_ready(p) for p in pods)
                and not doomed & {p.metadata.uid for p in pods}
            )

        wait_for(replaced, timeout=20, what="web pods replaced on the other nodes")
        evicted = [
            p
            for p in cluster_client.pods(ns).list(label_selector="app=web").items
            if p.metadata.uid in doomed
        ]
        for p in evicted:
            assert p.metadata.deletion_timestamp
            target = _condition(p, "DisruptionTarget")
            assert target is not None and target.reason == "DeletionByTaintManager"
        # The daemon pod tolerates unreachable forever.
        still = cluster_client.pods(ns).get(daemon.metadata.name)
        assert still.metadata.uid == daemon.metadata.uid
        assert not still.metadata.deletion_timestamp
    finally:
        kubelet.start()
        wait_for(lambda: node_ready(cluster_client, NODE), timeout=30, what="node-3 Ready again")

    def untainted() -> bool:
        taints = cluster_client.nodes().get(NODE).spec.taints
        return not any(t.key.startswith("node.kubernetes.io/") for t in taints)

    wait_for(untainted, timeout=10, what="taints removed")
    # The evicted pods are finished by the kubelet; the daemon pod is ready again.
    wait_for(
        lambda: (
            not any(
                p.metadata.uid in doomed
                for p in cluster_client.pods(ns).list(label_selector="app=web").items
            )
        ),
        timeout=20,
        what="stale pods on node-3 gone",
    )
    wait_for(
        lambda: is_ready(cluster_client.pods(ns).get(daemon.metadata.name)),
        timeout=15,
        what="the daemon pod ready again",
    )
    assert web.metadata.uid


def test_default_tolerations_are_added_at_admission(
    cluster_client: Any, cluster_namespace: str
) -> None:
    body = {
        "metadata": {"name": "plain"},
        "spec": {"containers": [{"name": "c", "image": "x", "command": ["true"]}]},
    }
    from pinnace.api.core.v1 import pod_pb2

    pod = cluster_client.pods(cluster_namespace).create(codec.from_dict(pod_pb2.Pod, body))
    got = {(t.key, t.operator, t.effect, t.toleration_seconds) for t in pod.spec.tolerations}
    assert got == {
        ("node.kubernetes.io/not-ready", "Exists", "NoExecute", 300),
        ("node.kubernetes.io/unreachable", "Exists", "NoExecute", 300),
    }
