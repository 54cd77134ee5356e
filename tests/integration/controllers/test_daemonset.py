"""The DaemonSet controller on the whole `cluster` (3 real kubelets): one pod
per eligible node, following nodes that join, change labels or get tainted;
failed pods replaced; rolling updates with maxUnavailable and maxSurge;
rollback without restarting pods already at the restored revision."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from pinnace.machinery import errors
from pinnace.machinery.wellknown import LABEL_CONTROLLER_REVISION_HASH as HASH_LABEL
from tests.integration.controllers.conftest import set_pod_status, wait_for
from tests.integration.controllers.nodes_helpers import (
    by_node,
    daemon_set,
    edit,
    edit_node,
    extra_kubelet,
    is_ready,
    pods_of,
)

NODES = ["node-1", "node-2", "node-3"]


def _running_everywhere(client: Any, ns: str, uid: str, nodes: list[str]) -> dict[str, Any]:
    placed = by_node(pods_of(client, ns, uid))
    if sorted(placed) != sorted(nodes):
        return {}
    return placed if all(is_ready(p) for p in placed.values()) else {}


def test_one_pod_per_node_and_a_joining_node_gets_one(
    cluster: Any, cluster_client: Any, cluster_namespace: str, tmp_path: Path
) -> None:
    dss = cluster_client.daemon_sets(cluster_namespace)
    ds = dss.create(daemon_set("agent"))
    placed = wait_for(
        lambda: _running_everywhere(cluster_client, cluster_namespace, ds.metadata.uid, NODES),
        timeout=20,
        what="a ready pod on each of the 3 nodes",
    )
    pod = placed["node-1"]
    term = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    assert [list(r.values) for r in term.node_selector_terms[0].match_fields] == [["node-1"]]
    keys = {(t.key, t.effect, t.HasField("toleration_seconds")) for t in pod.spec.tolerations}
    assert ("node.kubernetes.io/unreachable", "NoExecute", False) in keys
    assert ("node.kubernetes.io/unschedulable", "NoSchedule", False) in keys
    assert pod.metadata.labels[HASH_LABEL]

    def status_done() -> bool:
        st = dss.get("agent").status
        return (
            st.desired_number_scheduled == 3
            and st.number_ready == 3
            and st.updated_number_scheduled == 3
            and st.number_available == 3
            and st.number_unavailable == 0
            and st.observed_generation == 1
        )

    wait_for(status_done, timeout=10, what="status 3/3")

    name = f"node-x{uuid.uuid4().hex[:4]}"
    with extra_kubelet(cluster, cluster_client, name, tmp_path / name):
        wait_for(
            lambda: _running_everywhere(
                cluster_client, cluster_namespace, ds.metadata.uid, [*NODES, name]
            ),
            timeout=20,
            what="a pod on the joining node",
        )
        wait_for(lambda: dss.get("agent").status.number_ready == 4, timeout=10, what="4 ready")
    # The node is gone: its pod goes with it (pod GC) and the status follows.
    wait_for(
        lambda: (
            sorted(by_node(pods_of(cluster_client, cluster_namespace, ds.metadata.uid))) == NODES
        ),
        timeout=30,
        what="the departed node's pod removed",
    )
    wait_for(
        lambda: dss.get("agent").status.desired_number_scheduled == 3, timeout=10, what="3 desired"
    )


def test_node_selector_relabel_and_taints(cluster_client: Any, cluster_namespace: str) -> None:
    label = f"ds-{cluster_namespace}"
    taint_key = f"dedicated-{cluster_namespace}"

    def set_label(node: str, value: str | None) -> None:
        def change(n: Any) -> None:
            if value is None:
                n.metadata.labels.pop(label, None)
            else:
                n.metadata.labels[label] = value

        edit_node(cluster_client, node, change)

    def untaint(n: Any) -> None:
        keep = [t for t in n.spec.taints if t.key != taint_key]
        del n.spec.taints[:]
        n.spec.taints.extend(keep)

    try:
        for node in ("node-1", "node-2"):
            set_label(node, "yes")
        edit_node(
            cluster_client,
            "node-3",
            lambda n: n.spec.taints.add(key=taint_key, value="x", effect="NoSchedule"),
        )
        dss = cluster_client.daemon_sets(cluster_namespace)
        picky = dss.create(daemon_set("picky", nodeSelector={label: "yes"}))
        plain = dss.create(daemon_set("plain"))
        wait_for(
            lambda: _running_everywhere(
                cluster_client, cluster_namespace, picky.metadata.uid, ["node-1", "node-2"]
            ),
            timeout=20,
            what="pods on the two labelled nodes",
        )
        # The tainted node gets no pod of a DaemonSet that does not tolerate it.
        wait_for(
            lambda: _running_everywhere(
                cluster_client, cluster_namespace, plain.metadata.uid, ["node-1", "node-2"]
            ),
            timeout=20,
            what="no pod on the tainted node",
        )
        set_label("node-2", None)
        wait_for(
            lambda: (
                sorted(by_node(pods_of(cluster_client, cluster_namespace, picky.metadata.uid)))
                == ["node-1"]
            ),
            timeout=15,
            what="the relabelled node's pod removed",
        )
        wait_for(
            lambda: dss.get("picky").status.desired_number_scheduled == 1,
            timeout=10,
            what="desired 1",
        )
        set_label("node-3", "yes")
        edit_node(cluster_client, "node-3", untaint)
        wait_for(
            lambda: _running_everywhere(
                cluster_client, cluster_namespace, picky.metadata.uid, ["node-1", "node-3"]
            ),
            timeout=20,
            what="a pod on the newly labelled node",
        )
    finally:
        for node in NODES:
            set_label(node, None)
        edit_node(cluster_client, "node-3", untaint)


def test_failed_daemon_pod_is_replaced(cluster_client: Any, cluster_namespace: str) -> None:
    ds = cluster_client.daemon_sets(cluster_namespace).create(daemon_set("phoenix"))
    placed = wait_for(
        lambda: _running_everywhere(cluster_client, cluster_namespace, ds.metadata.uid, NODES),
        timeout=20,
        what="3 pods",
    )
    victim = placed["node-2"]
    set_pod_status(cluster_client, cluster_namespace, victim.metadata.name, phase="Failed")

    def replaced() -> bool:
        now = by_node(pods_of(cluster_client, cluster_namespace, ds.metadata.uid)).get("node-2")
        return now is not None and now.metadata.uid != victim.metadata.uid and is_ready(now)

    wait_for(replaced, timeout=20, what="a new pod on node-2")
    with pytest.raises(errors.NotFound):
        cluster_client.pods(cluster_namespace).get(victim.metadata.name)


def _watch_rollout(
    client: Any, ns: str, uid: str, new_image: str, timeout: float
) -> tuple[int, int]:
    """Poll until every node runs a ready pod with new_image; returns the
    most nodes seen at once without a ready pod and with two live pods."""
    worst_unready = worst_doubled = 0

    def done() -> bool:
        nonlocal worst_unready, worst_doubled
        pods = pods_of(client, ns, uid)
        nodes: dict[str, list[Any]] = {}
        for p in pods:
            if p.spec.node_name:
                nodes.setdefault(p.spec.node_name, []).append(p)
        unready = sum(1 for n in NODES if not any(is_ready(p) for p in nodes.get(n, [])))
        doubled = sum(1 for ps in nodes.values() if len(ps) > 1)
        worst_unready = max(worst_unready, unready)
        worst_doubled = max(worst_doubled, doubled)
        return len(pods) == 3 and all(
            p.spec.containers[0].image == new_image and is_ready(p) for p in pods
        )

    wait_for(done, timeout=timeout, what=f"every pod at {new_image}")
    return worst_unready, worst_doubled


def test_rolling_update_one_node_at_a_time(cluster_client: Any, cluster_namespace: str) -> None:
    dss = cluster_client.daemon_sets(cluster_namespace)
    ds = dss.create(daemon_set("roll"))
    wait_for(
        lambda: _running_everywhere(cluster_client, cluster_namespace, ds.metadata.uid, NODES),
        timeout=20,
        what="3 pods",
    )
    edit(dss, "roll", lambda d: setattr(d.spec.template.spec.containers[0], "image", "v2"))
    unready, doubled = _watch_rollout(cluster_client, cluster_namespace, ds.metadata.uid, "v2", 40)
    assert unready <= 1
    assert doubled == 0
    revisions = cluster_client.controller_revisions(cluster_namespace).list().items
    assert sorted(r.revision for r in revisions) == [1, 2]


def test_surge_starts_the_new_pod_first(cluster_client: Any, cluster_namespace: str) -> None:
    dss = cluster_client.daemon_sets(cluster_namespace)
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    ds = dss.create(daemon_set("surge", strategy=strategy))
    wait_for(
        lambda: _running_everywhere(cluster_client, cluster_namespace, ds.metadata.uid, NODES),
        timeout=20,
        what="3 pods",
    )
    edit(dss, "surge", lambda d: setattr(d.spec.template.spec.containers[0], "image", "v2"))
    unready, doubled = _watch_rollout(cluster_client, cluster_namespace, ds.metadata.uid, "v2", 40)
    assert unready == 0  # the old pod stays until the new one is ready
    assert doubled >= 1


def test_rollback_does_not_restart_pods_at_the_restored_revision(
    cluster_client: Any, cluster_namespace: str
) -> None:
    dss = cluster_client.daemon_sets(cluster_namespace)
    ds = dss.create(daemon_set("undo"))
    before = wait_for(
        lambda: _running_everywhere(cluster_client, cluster_namespace, ds.metadata.uid, NODES),
        timeout=20,
        what="3 pods",
    )
    good_template = dss.get("undo").spec.template

    def break_it(d: Any) -> None:
        c = d.spec.template.spec.containers[0]
        c.image = "broken"
        c.readiness_probe.exec.command.extend(["false"])  # never ready
        c.readiness_probe.period_seconds = 1

    edit(dss, "undo", break_it)
    # maxUnavailable 1: exactly one node gets the broken pod, then the rollout
    # stalls. Wait for it to be bound too: its node is what the test compares.
    wait_for(
        lambda: (
            sum(
                p.spec.containers[0].image == "broken" and bool(p.spec.node_name)
                for p in pods_of(cluster_client, cluster_namespace, ds.metadata.uid)
            )
            == 1
        ),
        timeout=20,
        what="one broken pod",
    )
    broken = next(
        p
        for p in pods_of(cluster_client, cluster_namespace, ds.metadata.uid)
        if p.spec.containers[0].image == "broken"
    )
    edit(dss, "undo", lambda d: d.spec.template.CopyFrom(good_template))
    after = wait_for(
        lambda: _running_everywhere(cluster_client, cluster_namespace, ds.metadata.uid, NODES),
        timeout=30,
        what="3 good pods again",
    )
    assert all(p.spec.containers[0].image == "v1" for p in after.values())
    kept = {n for n in NODES if after[n].metadata.uid == before[n].metadata.uid}
    assert kept == set(NODES) - {broken.spec.node_name}
    hashes = {p.metadata.labels[HASH_LABEL] for p in after.values()}
    assert hashes == {before["node-1"].metadata.labels[HASH_LABEL]}
    revisions = cluster_client.controller_revisions(cluster_namespace).list().items
    assert max(r.revision for r in revisions) == 3


def test_recreated_after_an_orphaning_delete_adopts_pods_and_history(
    cluster_client: Any, cluster_namespace: str
) -> None:
    """`delete daemonset --cascade=orphan`, then create it again: the new
    DaemonSet adopts the pods and the ControllerRevisions (their numbers
    kept) and restarts no pod, as they are at its current revision."""
    client, ns = cluster_client, cluster_namespace
    dss, revs = client.daemon_sets(ns), client.controller_revisions(ns)
    ds = dss.create(daemon_set("keep", strategy={"type": "OnDelete"}))
    before = wait_for(
        lambda: _running_everywhere(client, ns, ds.metadata.uid, NODES),
        timeout=20,
        what="3 pods",
    )
    # Revisions 1 (v1), 2 (v2), then v1 again: renumbered 3; the pods stay at v1.
    for image, top in (("v2", 2), ("v1", 3)):
        edit(
            dss, "keep", lambda d, i=image: setattr(d.spec.template.spec.containers[0], "image", i)
        )
        wait_for(
            lambda t=top: max((r.revision for r in revs.list().items), default=0) == t,
            what=f"revision {top}",
        )
    history = {r.metadata.name: (r.metadata.uid, r.revision) for r in revs.list().items}
    assert sorted(n for _, n in history.values()) == [2, 3]
    dss.delete("keep", propagation_policy="Orphan")
    wait_for(
        lambda: (
            not any(d.metadata.name == "keep" for d in dss.list().items)
            and not any(r.metadata.owner_references for r in revs.list().items)
        ),
        what="the DaemonSet gone, its revisions orphaned",
    )
    again = dss.create(daemon_set("keep"))  # RollingUpdate: a pod not at the revision is replaced

    def settled() -> bool:
        cur = dss.get("keep")
        st = cur.status
        return (
            st.observed_generation == cur.metadata.generation
            and st.updated_number_scheduled == 3
            and st.number_ready == 3
            and all(
                [r.uid for r in rev.metadata.owner_references] == [again.metadata.uid]
                for rev in revs.list().items
            )
            and len(pods_of(client, ns, again.metadata.uid)) == 3
        )

    wait_for(settled, timeout=20, what="pods and revisions adopted, status settled")
    after = by_node(pods_of(client, ns, again.metadata.uid))
    assert {n: p.metadata.uid for n, p in after.items()} == {
        n: p.metadata.uid for n, p in before.items()
    }
    assert {r.metadata.name: (r.metadata.uid, r.revision) for r in revs.list().items} == history
