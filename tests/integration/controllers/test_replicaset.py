"""ReplicaSet and ReplicationController against a real apiserver and a real
controller-manager process. No kubelet or scheduler runs: pods stay Pending
and unbound unless a test writes their status (as a kubelet would) or binds
them to a node name nobody serves."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pinnace.api.apps.v1 import replicaset_pb2
from pinnace.api.core.v1 import pod_pb2, replicationcontroller_pb2
from pinnace.machinery import codec
from pinnace.machinery.timeutil import parse_rfc3339
from tests.integration.controllers.conftest import (
    LEASE_DURATION,
    LEASE_NAME,
    LEASE_NAMESPACE,
    is_active,
    pod_events_since,
    pods_controlled_by,
    set_pod_status,
    stays,
    wait_for,
)

CONTROLLERS = ("replicaset", "replicationcontroller")
TEMPLATE_SPEC = {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}


def replica_set(
    name: str,
    replicas: int,
    *,
    labels: dict[str, str] | None = None,
    selector: dict[str, str] | None = None,
    min_ready: int = 0,
) -> replicaset_pb2.ReplicaSet:
    labels = labels or {"app": name}
    return codec.from_dict(
        replicaset_pb2.ReplicaSet,
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "minReadySeconds": min_ready,
                "selector": {"matchLabels": selector or labels},
                "template": {"metadata": {"labels": labels}, "spec": TEMPLATE_SPEC},
            },
        },
    )


def orphan_pod(name: str, labels: dict[str, str]) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": TEMPLATE_SPEC,
        },
    )


def active_pods(client: Any, namespace: str, owner: Any) -> list[Any]:
    return [p for p in pods_controlled_by(client, namespace, owner.metadata.uid) if is_active(p)]


def wait_active(
    client: Any, namespace: str, owner: Any, count: int, timeout: float = 10.0
) -> list[Any]:
    def check() -> list[Any] | None:
        pods = active_pods(client, namespace, owner)
        return pods if len(pods) == count else None

    return wait_for(check, timeout, what=f"{count} active pods of {owner.metadata.name}")


def wait_status(client: Any, handle: Any, name: str, timeout: float = 10.0, **want: int) -> Any:
    def check() -> Any:
        obj = handle.get(name)
        got = {k: getattr(obj.status, k) for k in want}
        return obj if got == want else None

    return wait_for(check, timeout, what=f"status of {name} to be {want}")


def names(pods: list[Any]) -> set[str]:
    return {p.metadata.name for p in pods}


# ---- replicas --------------------------------------------------------------------------


def test_creates_exactly_the_replicas(client, namespace, controller_manager) -> None:
    controller_manager(*CONTROLLERS)
    rs = client.replica_sets(namespace).create(replica_set("web", 3))
    pods = wait_active(client, namespace, rs, 3)
    for pod in pods:
        assert re.fullmatch(r"web-[a-z0-9]{5}", pod.metadata.name)
        assert dict(pod.metadata.labels) == {"app": "web"}
        (ref,) = pod.metadata.owner_references
        assert (ref.api_version, ref.kind, ref.name, ref.uid) == (
            "apps/v1",
            "ReplicaSet",
            "web",
            rs.metadata.uid,
        )
        assert ref.controller and ref.block_owner_deletion
    stays(lambda: len(client.pods(namespace).list().items) == 3, 0.5, "still exactly 3 pods")
    wait_status(
        client,
        client.replica_sets(namespace),
        "web",
        replicas=3,
        fully_labeled_replicas=3,
        observed_generation=1,
    )
    reasons = [e.reason for e in client.events(namespace).list().items]
    assert reasons.count("SuccessfulCreate") == 3


def test_deleted_pod_is_replaced(client, namespace, controller_manager) -> None:
    controller_manager(*CONTROLLERS)
    rs = client.replica_sets(namespace).create(replica_set("web", 3))
    first = wait_active(client, namespace, rs, 3)
    client.pods(namespace).delete(first[0].metadata.name)
    now = wait_for(
        lambda: (
            (p := active_pods(client, namespace, rs))
            and len(p) == 3
            and first[0].metadata.name not in names(p)
            and p
        ),
        what="a replacement pod",
    )
    assert len(names(now) - names(first)) == 1


def test_failed_pod_is_replaced_and_not_counted(client, namespace, controller_manager) -> None:
    controller_manager(*CONTROLLERS)
    rs = client.replica_sets(namespace).create(replica_set("web", 2))
    first = wait_active(client, namespace, rs, 2)
    failed = first[0].metadata.name
    set_pod_status(client, namespace, failed, phase="Failed")
    active = wait_for(
        lambda: (
            (p := active_pods(client, namespace, rs))
            and failed not in names(p)
            and len(p) == 2
            and p
        ),
        what="a replacement for the failed pod",
    )
    # the failed pod is left alone (pod garbage collection removes it) and not counted
    assert client.pods(namespace).get(failed).status.phase == "Failed"
    assert len(pods_controlled_by(client, namespace, rs.metadata.uid)) == 3
    wait_status(client, client.replica_sets(namespace), "web", replicas=2)
    stays(lambda: len(active_pods(client, namespace, rs)) == 2, 0.5, "2 active pods")
    assert len(active) == 2


def test_scale_up_then_down_deletes_the_least_useful_pods(
    client, namespace, controller_manager
) -> None:
    """Scale 3 -> 5 -> 2 through the scale subresource. Of five pods, the
    unassigned one, the Pending one and the Running-but-unready one go; the
    two Running and Ready pods stay."""
    controller_manager(*CONTROLLERS)
    rss = client.replica_sets(namespace)
    rs = rss.create(replica_set("web", 3))
    wait_active(client, namespace, rs, 3)
    rss.scale("web", 5)
    pods = sorted(names(wait_active(client, namespace, rs, 5)))
    unassigned, pending, unready, ready_a, ready_b = pods
    for name in (pending, unready, ready_a, ready_b):
        client.pods(namespace).bind(name, f"ghost-{namespace}")  # a node nobody runs
    set_pod_status(client, namespace, pending, phase="Pending")
    set_pod_status(client, namespace, unready, phase="Running", ready=False)
    set_pod_status(client, namespace, ready_a, phase="Running", ready=True)
    set_pod_status(client, namespace, ready_b, phase="Running", ready=True)
    wait_status(client, rss, "web", ready_replicas=2)
    rss.scale("web", 2)
    survivors = wait_active(client, namespace, rs, 2)
    assert names(survivors) == {ready_a, ready_b}
    # the unbound pod is gone at once; the bound ones wait for their (absent) kubelet
    left = {p.metadata.name: p for p in client.pods(namespace).list().items}
    assert unassigned not in left
    assert left[pending].metadata.deletion_timestamp and left[unready].metadata.deletion_timestamp
    rs = wait_status(client, rss, "web", replicas=2, ready_replicas=2, terminating_replicas=2)
    assert rs.status.observed_generation == rs.metadata.generation == 3
    deleted = [e for e in client.events(namespace).list().items if e.reason == "SuccessfulDelete"]
    assert sorted(e.message for e in deleted) == sorted(
        f"Deleted pod: {n}" for n in (unassigned, pending, unready)
    )


# ---- ownership -------------------------------------------------------------------------


def test_adopts_a_matching_orphan(client, namespace, controller_manager) -> None:
    controller_manager(*CONTROLLERS)
    client.pods(namespace).create(orphan_pod("orphan", {"app": "web"}))
    rs = client.replica_sets(namespace).create(replica_set("web", 2))
    pods = wait_active(client, namespace, rs, 2)
    assert "orphan" in names(pods)
    stays(lambda: len(client.pods(namespace).list().items) == 2, 0.5, "no extra pod")
    ref = client.pods(namespace).get("orphan").metadata.owner_references[0]
    assert (ref.kind, ref.uid, ref.controller) == ("ReplicaSet", rs.metadata.uid, True)


def test_releases_a_pod_whose_labels_change(client, namespace, controller_manager) -> None:
    controller_manager(*CONTROLLERS)
    rs = client.replica_sets(namespace).create(replica_set("web", 2))
    first = wait_active(client, namespace, rs, 2)
    moved = first[0].metadata.name
    client.pods(namespace).patch(moved, {"metadata": {"labels": {"app": "elsewhere"}}})
    wait_for(
        lambda: not client.pods(namespace).get(moved).metadata.owner_references,
        what="the pod released",
    )
    pods = wait_active(client, namespace, rs, 2)
    assert moved not in names(pods)
    assert client.pods(namespace).get(moved).metadata.deletion_timestamp == ""


def test_never_adopts_a_pod_of_another_controller(client, namespace, controller_manager) -> None:
    controller_manager(*CONTROLLERS)
    theirs = orphan_pod("theirs", {"app": "web"})
    theirs.metadata.owner_references.add(
        api_version="apps/v1", kind="StatefulSet", name="db", uid="0000-other", controller=True
    )
    client.pods(namespace).create(theirs)
    rs = client.replica_sets(namespace).create(replica_set("web", 2))
    pods = wait_active(client, namespace, rs, 2)
    assert "theirs" not in names(pods)
    stays(lambda: len(client.pods(namespace).list().items) == 3, 0.5, "3 pods in all")
    (ref,) = client.pods(namespace).get("theirs").metadata.owner_references
    assert ref.uid == "0000-other"


# ---- status ----------------------------------------------------------------------------


def test_status_ready_available_and_fully_labeled(client, namespace, controller_manager) -> None:
    controller_manager(*CONTROLLERS)
    rss = client.replica_sets(namespace)
    rs = rss.create(
        replica_set(
            "web", 2, labels={"app": "web", "tier": "front"}, selector={"app": "web"}, min_ready=2
        )
    )
    a, b = sorted(names(wait_active(client, namespace, rs, 2)))
    wait_status(client, rss, "web", replicas=2, fully_labeled_replicas=2, ready_replicas=0)
    client.pods(namespace).patch(a, {"metadata": {"labels": {"tier": None}}})  # still selected
    wait_status(client, rss, "web", replicas=2, fully_labeled_replicas=1)
    ready = [set_pod_status(client, namespace, n, phase="Running", ready=True) for n in (a, b)]
    wait_status(client, rss, "web", ready_replicas=2)
    wait_status(client, rss, "web", timeout=6, ready_replicas=2, available_replicas=2)
    # Causality, not speed: a pod is available once Ready for minReadySeconds
    # (2 s) by its own Ready transition time, so not before the later one + 2 s
    # (a slow machine only makes this later).
    last_ready = max(parse_rfc3339(p.status.conditions[0].last_transition_time) for p in ready)
    assert datetime.now(UTC) >= last_ready + timedelta(seconds=2)
    set_pod_status(client, namespace, b, phase="Running", ready=False)
    rs = wait_status(client, rss, "web", ready_replicas=1, available_replicas=1)
    assert rs.status.observed_generation == 1
    assert not rs.status.conditions


# ---- ReplicationController --------------------------------------------------------------


def test_replication_controller(client, namespace, controller_manager) -> None:
    controller_manager(*CONTROLLERS)
    client.pods(namespace).create(orphan_pod("orphan", {"app": "legacy"}))
    rc = codec.from_dict(
        replicationcontroller_pb2.ReplicationController,
        {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "metadata": {"name": "legacy"},
            "spec": {
                "replicas": 2,
                "selector": {"app": "legacy"},
                "template": {"metadata": {"labels": {"app": "legacy"}}, "spec": TEMPLATE_SPEC},
            },
        },
    )
    rcs = client.replication_controllers(namespace)
    rc = rcs.create(rc)
    pods = wait_active(client, namespace, rc, 2)
    assert "orphan" in names(pods)  # adopted
    for pod in pods:
        (ref,) = pod.metadata.owner_references
        assert (ref.api_version, ref.kind, ref.uid) == (
            "v1",
            "ReplicationController",
            rc.metadata.uid,
        )
    rcs.scale("legacy", 4)
    wait_active(client, namespace, rc, 4)
    wait_status(client, rcs, "legacy", replicas=4, fully_labeled_replicas=4, observed_generation=2)
    client.pods(namespace).patch("orphan", {"metadata": {"labels": {"app": "gone"}}})
    wait_for(
        lambda: (
            (p := active_pods(client, namespace, rc)) and len(p) == 4 and "orphan" not in names(p)
        ),
        what="the relabelled pod released and replaced",
    )
    rcs.scale("legacy", 1)
    wait_active(client, namespace, rc, 1)
    wait_status(client, rcs, "legacy", replicas=1)


# ---- crashes and leader election ----------------------------------------------------------


def test_sigkill_mid_scale_up_creates_no_extra_pod(client, namespace, controller_manager) -> None:
    """SIGKILL the controller-manager while it creates 200 pods and start it
    again: it rebuilds from the API and ends with exactly 200 pods, and the
    watch from before the ReplicaSet existed saw 200 creations and no delete.
    The kill lands as soon as the first pod exists (200 pods take several
    slow-start batches, so it lands mid-way even on a fast machine)."""
    want = 200
    manager = controller_manager(*CONTROLLERS)
    start = client.pods(namespace).list().resource_version
    rs = client.replica_sets(namespace).create(replica_set("web", want))
    for ev in client.pods(namespace).watch(resource_version=start, timeout=20):
        if ev.type == "ADDED":
            break
    manager.kill()
    at_kill = len(client.pods(namespace).list().items)
    manager.start()
    wait_active(client, namespace, rs, want, timeout=30)
    stays(lambda: len(client.pods(namespace).list().items) == want, 1.0, f"exactly {want} pods")
    events = pod_events_since(client, namespace, start)
    assert [e.type for e in events].count("ADDED") == want
    assert "DELETED" not in [e.type for e in events]
    assert at_kill < want, "the kill came too late to test anything"


def _holder(client: Any) -> str:
    try:
        return client.leases(LEASE_NAMESPACE).get(LEASE_NAME).spec.holder_identity
    except Exception:
        return ""


def test_only_the_leader_acts(client, namespace, controller_manager) -> None:
    """Two managers on one Lease: every pod event comes from the holder, no
    pod is created twice; after the leader is killed the other takes over."""
    before = _holder(client)
    first = controller_manager(*CONTROLLERS, leader_elect=True, name="cm-a")
    second = controller_manager(*CONTROLLERS, leader_elect=True, name="cm-b")
    leader = wait_for(
        lambda: (h := _holder(client)) != before and h, timeout=LEASE_DURATION + 10, what="a leader"
    )
    start = client.pods(namespace).list().resource_version
    rs = client.replica_sets(namespace).create(replica_set("web", 5))
    wait_active(client, namespace, rs, 5)

    def creators() -> set[str] | None:
        evs = [e for e in client.events(namespace).list().items if e.reason == "SuccessfulCreate"]
        return {e.source.host for e in evs} if len(evs) == 5 else None

    assert wait_for(creators, what="5 SuccessfulCreate events") == {leader}
    # the leader is whichever manager logs that it runs controllers
    running = [m for m in (first, second) if "running controllers" in m.log_file.read_text()]
    assert len(running) == 1
    running[0].kill()
    follower = wait_for(
        lambda: (h := _holder(client)) != leader and h,
        timeout=LEASE_DURATION + 10,
        what="a new leader",
    )
    client.replica_sets(namespace).scale("web", 7)
    wait_active(client, namespace, rs, 7, timeout=15)
    stays(lambda: len(client.pods(namespace).list().items) == 7, 0.5, "exactly 7 pods")
    events = pod_events_since(client, namespace, start)
    assert [e.type for e in events].count("ADDED") == 7
    hosts = {
        e.source.host
        for e in client.events(namespace).list().items
        if e.reason == "SuccessfulCreate"
    }
    assert hosts == {leader, follower}
