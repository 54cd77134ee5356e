"""The controller on seeded caches: handlers map pods to owner keys and
feed expectations; sync acts only when expectations allow, writes status
only on change and asks to be requeued for minReadySeconds."""

from __future__ import annotations

import pytest

from controllers.controllerref import owner_reference
from pinnace.machinery import errors
from tests.unit.controllers.replicaset.fakes import (
    Fixture,
    make_pod,
    make_rc,
    make_rs,
)

KEY = "ns/web"


async def test_new_replica_set_creates_pods_then_waits_for_the_cache() -> None:
    f = Fixture()
    f.add_owner(make_rs(replicas=3))
    assert await f.sync() is None
    assert f.pod_control.creates == 3
    (status,) = f.status_writes()
    assert (status.replicas, status.observed_generation) == (0, 1)
    # The cache has not seen the pods yet: another sync creates nothing more.
    await f.sync()
    assert f.pod_control.creates == 3
    # The informer delivers them: expectations are met, the status follows.
    for pod in f.pod_control.created:
        pod.metadata.namespace = "ns"
        f.add_pods(pod)
        f.controller.add_pod(pod)
    assert f.controller.expectations.satisfied(KEY)
    await f.sync()
    assert f.pod_control.creates == 3
    assert f.status_writes()[-1].replicas == 3


async def test_status_is_not_written_when_unchanged() -> None:
    f = Fixture()
    rs = f.add_owner(make_rs(replicas=1))
    f.add_pods(make_pod("a", owner=rs))
    await f.sync()
    written = f.status_updates()[-1]
    f.add_owner(written)
    f.client.actions.clear()
    await f.sync()
    assert f.client.actions == []


async def test_terminal_and_terminating_pods_do_not_count() -> None:
    f = Fixture()
    rs = f.add_owner(make_rs(replicas=3))
    f.add_pods(
        make_pod("ok", owner=rs),
        make_pod("failed", owner=rs, phase="Failed"),
        make_pod("done", owner=rs, phase="Succeeded"),
        make_pod("going", owner=rs, deleting=True),
    )
    await f.sync()
    assert f.pod_control.creates == 2
    assert f.pod_control.deleted == []  # failed pods are left to pod GC
    status = f.status_writes()[-1]
    assert (status.replicas, status.terminating_replicas) == (1, 1)


async def test_deleted_owner_forgets_expectations() -> None:
    f = Fixture()
    f.controller.expectations.expect_creations(KEY, 5)
    assert await f.sync() is None
    assert f.controller.expectations.satisfied(KEY)
    assert f.client.actions == []


async def test_orphans_are_adopted_and_counted() -> None:
    f = Fixture()
    f.add_owner(make_rs(replicas=2))
    f.add_pods(make_pod("orphan", labels={"app": "web"}))
    await f.sync()
    assert [a.name for a in f.client.verbs("patch")] == ["orphan"]
    assert f.pod_control.creates == 1


async def test_release_then_replace() -> None:
    f = Fixture()
    rs = f.add_owner(make_rs(replicas=1))
    f.add_pods(make_pod("moved", owner=rs, labels={"app": "elsewhere"}))
    await f.sync()
    assert [a.name for a in f.client.verbs("patch")] == ["moved"]
    assert f.pod_control.creates == 1


async def test_pod_controlled_by_another_owner_is_ignored() -> None:
    f = Fixture()
    f.add_owner(make_rs(replicas=1))
    other = make_rs("other", labels={"app": "web"})
    f.add_pods(make_pod("theirs", owner=other))
    await f.sync()
    assert f.client.verbs("patch") == []
    assert f.pod_control.creates == 1


async def test_create_failure_sets_replica_failure_and_requeues() -> None:
    f = Fixture()
    f.add_owner(make_rs(replicas=2))
    f.pod_control.fail_create_after = 0
    with pytest.raises(errors.Forbidden):
        await f.sync()
    cond = f.status_writes()[-1].conditions[0]
    assert (cond.type, cond.reason) == ("ReplicaFailure", "FailedCreate")
    # the skipped creations are no longer expected: the retry acts at once
    assert f.controller.expectations.satisfied(KEY)
    f.add_owner(f.status_updates()[-1])
    f.pod_control.fail_create_after = None
    await f.sync()
    assert f.pod_control.creates == 2
    assert list(f.status_writes()[-1].conditions) == []


async def test_min_ready_seconds_requeue() -> None:
    f = Fixture()
    rs = f.add_owner(make_rs(replicas=2, min_ready=10))
    # now is T0; ready 4 s and 8 s ago: available in 6 s and 2 s
    f.clock.set(f.clock.now().replace(second=20))
    f.add_pods(
        make_pod("a", owner=rs, ready=True, ready_at=16),
        make_pod("b", owner=rs, ready=True, ready_at=12),
    )
    delay = await f.sync()
    assert delay == pytest.approx(2.05)
    assert f.status_writes()[-1].available_replicas == 0
    f.clock.advance(2.1)
    await f.sync()
    assert f.status_writes()[-1].available_replicas == 1


async def test_replication_controller_uses_its_map_selector() -> None:
    f = Fixture(rc=True)
    rc = f.add_owner(make_rc(replicas=2))
    f.add_pods(make_pod("a", owner=rc), make_pod("orphan", labels={"app": "web"}))
    await f.sync()
    assert [a.name for a in f.client.verbs("patch")] == ["orphan"]
    assert f.pod_control.creates == 0
    (action,) = f.client.verbs("update")
    assert (action.resource, action.subresource) == ("replicationcontrollers", "status")
    assert action.object.status.replicas == 2


# ---- handlers ------------------------------------------------------------------------


async def test_pod_events_map_to_the_controlling_owner_only() -> None:
    f = Fixture()
    rs = f.add_owner(make_rs())
    f.add_owner(make_rs("other", labels={"app": "other"}))
    pod = make_pod("a", owner=rs)
    f.controller.add_pod(pod)
    assert await f.queued() == {"ns/web"}
    # a controllerRef to a namesake with another uid resolves to nothing
    stale = make_pod("b", owner=rs)
    stale.metadata.owner_references[0].uid = "uid-old"
    f.controller.add_pod(stale)
    # a controllerRef of another kind is not ours
    dep = make_pod("c", labels={"app": "web"})
    dep.metadata.owner_references.append(owner_reference(make_rc("web")))
    f.controller.add_pod(dep)
    assert await f.queued() == set()


async def test_orphan_events_wake_every_matching_owner() -> None:
    f = Fixture()
    f.add_owner(make_rs("web", labels={"app": "web"}))
    f.add_owner(make_rs("wide", labels={"app": "web", "x": "y"}, selector={"app": "web"}))
    f.add_owner(make_rs("other", labels={"app": "other"}))
    f.controller.add_pod(make_pod("o", labels={"app": "web"}))
    assert await f.queued() == {"ns/web", "ns/wide"}


async def test_pod_add_and_delete_feed_expectations() -> None:
    f = Fixture()
    rs = f.add_owner(make_rs())
    exp = f.controller.expectations
    exp.expect_creations(KEY, 1)
    f.controller.add_pod(make_pod("a", owner=rs))
    assert exp.satisfied(KEY)
    exp.expect_deletions(KEY, ["uid-a"])
    going = make_pod("a", owner=rs, deleting=True)
    going.metadata.resource_version = "2"
    f.controller.update_pod(make_pod("a", owner=rs), going)  # graceful delete starts
    assert exp.satisfied(KEY)
    f.controller.delete_pod(going)  # and ends: not counted twice
    assert exp.satisfied(KEY)


async def test_resync_updates_are_ignored_and_ref_changes_wake_both_owners() -> None:
    f = Fixture()
    old_owner = f.add_owner(make_rs("web"))
    new_owner = f.add_owner(make_rs("new", labels={"app": "web"}))
    pod = make_pod("a", owner=old_owner)
    f.controller.update_pod(pod, pod)
    assert await f.queued() == set()
    moved = make_pod("a", owner=new_owner)
    moved.metadata.resource_version = "2"
    f.controller.update_pod(pod, moved)
    assert await f.queued() == {"ns/web", "ns/new"}


async def test_deleting_an_owner_forgets_its_expectations() -> None:
    f = Fixture()
    rs = f.add_owner(make_rs())
    f.controller.expectations.expect_creations(KEY, 3)
    f.controller.delete_owner(rs)
    assert f.controller.expectations.satisfied(KEY)
    assert await f.queued() == {KEY}
