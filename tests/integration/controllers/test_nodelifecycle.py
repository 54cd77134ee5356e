"""Node lifecycle on the whole `cluster` (grace period 3 s in the fast
flags): a SIGKILLed kubelet's node goes Unknown and gets the unreachable
taints; its pods are marked not ready; a Deployment's pods are evicted after
their tolerationSeconds and replaced on the other nodes; DaemonSet pods
stay; when the kubelet is back the node is Ready, untainted, and the evicted
pods are cleaned up. A StatefulSet's evicted pod is never duplicated: its
replacement comes only once the kubelet is back and the old object is gone."""

from __future__ import annotations

import threading
from typing import Any

from pinnace.api.core.v1 import pod_pb2
from pinnace.client import Client
from pinnace.machinery import codec
from tests.integration.controllers.conftest import stays, wait_for
from tests.integration.controllers.nodes_helpers import (
    daemon_set,
    deployment,
    is_ready,
    node_ready,
    pods_of,
)
from tests.integration.controllers.test_statefulset import sts

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
    try:

        def unknown() -> Any:
            node = cluster_client.nodes().get(NODE)
            ready = _condition(node, "Ready")
            return node if ready is not None and ready.status == "Unknown" else None

        # Liveness only: the deadline leaves room for the grace period (3 s) on
        # a loaded machine; how fast it happens is not this test's claim.
        node = wait_for(unknown, timeout=10, what="node-3 Ready=Unknown")
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
    pod = cluster_client.pods(cluster_namespace).create(codec.from_dict(pod_pb2.Pod, body))
    got = {(t.key, t.operator, t.effect, t.toleration_seconds) for t in pod.spec.tolerations}
    assert got == {
        ("node.kubernetes.io/not-ready", "Exists", "NoExecute", 300),
        ("node.kubernetes.io/unreachable", "Exists", "NoExecute", 300),
    }


class _PodHistory:
    """Every watch event of one app's pods, as (type, name, uid), in order;
    a client of its own (a watch streams on its own channel)."""

    def __init__(self, client: Any, ns: str, app: str) -> None:
        self._client = Client(config=client.config)
        pods = self._client.pods(ns)
        rv = pods.list().resource_version
        self.events: list[tuple[str, str, str]] = []
        self._stop = False

        def run() -> None:
            try:
                for ev in pods.watch(resource_version=rv, label_selector=f"app={app}", timeout=180):
                    if self._stop:
                        return
                    if ev.object is not None:
                        meta = ev.object.metadata
                        self.events.append((ev.type, meta.name, meta.uid))
            except Exception as e:  # shown by a failing assertion's event list
                if not self._stop:
                    self.events.append(("ERROR", repr(e), ""))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def overlaps(self) -> list[str]:
        """Names that had two live objects at once: an ADDED/MODIFIED of a
        new uid before the DELETED of the old one."""
        live: dict[str, str] = {}
        bad: list[str] = []
        for kind, name, uid in self.events:
            if kind == "DELETED":
                if live.get(name) == uid:
                    del live[name]
            elif kind in ("ADDED", "MODIFIED"):
                if live.get(name, uid) != uid:
                    bad.append(f"{name}: {uid} while {live[name]} still existed")
                live[name] = uid
        return bad

    def stop(self) -> None:
        self._stop = True
        self._client.close()


def test_statefulset_pod_on_an_unreachable_node_is_not_duplicated(
    cluster: Any, cluster_client: Any, cluster_namespace: str
) -> None:
    """At most one pod per StatefulSet identity: the pod on a dead node is
    evicted (deletionTimestamp set) but stays while no kubelet confirms it
    stopped; its replacement of the same name comes only after the kubelet is
    back and the old object is gone."""
    ns = cluster_namespace
    body = sts("db", 3, volumes=False, podManagementPolicy="Parallel")
    for toleration in TOLERATE_2S:
        codec.from_dict(body.spec.template.spec.tolerations.add(), toleration)
    cluster_client.stateful_sets(ns).create(body)

    def db_pods() -> list[Any]:
        return cluster_client.pods(ns).list(label_selector="app=db").items

    def settled() -> Any:
        pods = db_pods()
        on_node = [p for p in pods if p.spec.node_name == NODE]
        ok = len(pods) == 3 and all(is_ready(p) for p in pods) and len(on_node) == 1
        return on_node[0] if ok else None

    victim = wait_for(settled, timeout=30, what="3 db pods ready, one on node-3")
    name, old_uid = victim.metadata.name, victim.metadata.uid
    history = _PodHistory(cluster_client, ns, "db")
    kubelet = _component(cluster, f"kubelet-{NODE}")
    kubelet.kill()
    try:

        def evicted() -> Any:
            pod = cluster_client.pods(ns).get(name)
            return pod if pod.metadata.deletion_timestamp else None

        pod = wait_for(evicted, timeout=20, what=f"{name} evicted from the unknown node")
        assert pod.metadata.uid == old_uid
        target = _condition(pod, "DisruptionTarget")
        assert target is not None and target.reason == "DeletionByTaintManager"

        # No kubelet can stop its process: the object stays, and nothing else
        # takes the identity (the other two pods are untouched). Watched for
        # 5 s, well past the 2 s toleration whose eviction has just happened:
        # a controller that wrongly replaced the pod would have done so by then.
        def identity_kept() -> bool:
            pods = {p.metadata.name: p for p in db_pods()}
            return len(pods) == 3 and pods[name].metadata.uid == old_uid

        stays(identity_kept, 5, what=f"{name} not replaced while the old pod may still run")
    finally:
        kubelet.start()
        wait_for(lambda: node_ready(cluster_client, NODE), timeout=30, what="node-3 Ready again")

    try:
        # The kubelet finishes the old pod and the object goes; then the
        # controller makes the same identity anew.
        def recreated() -> Any:
            pods = {p.metadata.name: p for p in db_pods()}
            pod = pods.get(name)
            ok = (
                pod is not None
                and pod.metadata.uid != old_uid
                and len(pods) == 3
                and all(is_ready(p) for p in pods.values())
            )
            return pod if ok else None

        wait_for(recreated, timeout=40, what=f"{name} recreated and every db pod ready")
        wait_for(
            lambda: any(k == "ADDED" and n == name and u != old_uid for k, n, u in history.events),
            timeout=10,
            what="the watch delivered the replacement",
        )
    finally:
        history.stop()
    assert not any(k == "ERROR" for k, _, _ in history.events), history.events
    assert history.overlaps() == [], history.events
    mine = [(k, u) for k, n, u in history.events if n == name]
    first_new = next(i for i, (_, u) in enumerate(mine) if u != old_uid)
    assert ("DELETED", old_uid) in mine[:first_new], mine
    assert all(u != old_uid for _, u in mine[first_new:]), mine


def test_a_frozen_controller_manager_does_not_judge_nodes_by_what_it_did_not_see(
    cluster: Any, cluster_client: Client
) -> None:
    """The controller-manager is stopped (SIGSTOP) for longer than the node
    grace period (3 s) while every kubelet goes on renewing its Lease: when
    it runs again, its own observations are stale, not the nodes. No node may
    go Unknown (the chaos suite found a controller-manager resumed after a
    hang marking every node Unknown and every pod not ready, before its
    informers had delivered the Lease renewals it had missed)."""
    names = [f"node-{i}" for i in (1, 2, 3)]
    wait_for(
        lambda: all(node_ready(cluster_client, n) for n in names), timeout=60, what="nodes Ready"
    )
    since = cluster_client.nodes().list().resource_version
    manager = _component(cluster, "controller-manager")
    manager.pause()
    try:
        threading.Event().wait(4.5)  # the hang: longer than the grace period
    finally:
        manager.resume()
    verdicts = []
    # Long enough for the resumed manager to sync every node (it runs at once).
    for ev in cluster_client.nodes().watch(resource_version=since, timeout=3):
        ready = _condition(ev.object, "Ready") if ev.object is not None else None
        if ready is not None and ready.status != "True":
            verdicts.append((ev.object.metadata.name, ready.status, ready.reason))
    assert verdicts == []
