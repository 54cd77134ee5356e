"""manage_replicas and claim_pods against a recording PodControl and client."""

from __future__ import annotations

import pytest

from controllers.claim import OwnerGone, claim_pods
from controllers.expectations import Expectations
from controllers.replicaset.sync import manage_replicas
from controllers.replicaset.util import REPLICA_SET
from pinnace.client.fake import Action, FakeClient
from pinnace.machinery import errors
from pinnace.machinery.labels import selector_from_map
from pinnace.machinery.timeutil import FakeClock
from tests.unit.controllers.replicaset.fakes import (
    T0,
    FakePodControl,
    make_pod,
    make_rs,
)

KEY = "ns/web"


async def manage(rs, pods, *, control=None, exp=None, burst=500):  # type: ignore[no-untyped-def]
    control = control or FakePodControl()
    exp = exp or Expectations(clock=FakeClock().monotonic)
    await manage_replicas(
        rs,
        pods,
        key=KEY,
        kind=REPLICA_SET,
        pod_control=control,
        expectations=exp,
        now=T0,
        burst=burst,
    )
    return control, exp


@pytest.mark.parametrize(
    ("replicas", "have", "creates", "deletes"),
    [
        pytest.param(3, 0, 3, 0, id="create-all"),
        pytest.param(3, 2, 1, 0, id="create-missing"),
        pytest.param(3, 3, 0, 0, id="steady"),
        pytest.param(1, 3, 0, 2, id="delete-extra"),
        pytest.param(0, 2, 0, 2, id="scale-to-zero"),
        pytest.param(None, 0, 1, 0, id="replicas-default-to-one"),
    ],
)
async def test_diff(replicas: int | None, have: int, creates: int, deletes: int) -> None:
    rs = make_rs(replicas=replicas)
    pods = [make_pod(owner=rs) for _ in range(have)]
    control, exp = await manage(rs, pods)
    assert control.creates == creates
    assert len(control.deleted) == deletes
    assert not exp.satisfied(KEY) if creates or deletes else exp.satisfied(KEY)


async def test_created_pods_come_from_the_template_and_are_owned() -> None:
    rs = make_rs(replicas=1)
    control, _ = await manage(rs, [])
    pod = control.created[0]
    assert dict(pod.metadata.labels) == {"app": "web"}
    assert pod.metadata.generate_name == "web-"
    ref = pod.metadata.owner_references[0]
    assert (ref.kind, ref.name, ref.uid, ref.controller) == ("ReplicaSet", "web", "uid-web", True)


async def test_burst_limit() -> None:
    rs = make_rs(replicas=20)
    control, exp = await manage(rs, [], burst=7)
    assert control.creates == 7
    for _ in range(6):
        exp.creation_observed(KEY)
    assert not exp.satisfied(KEY)
    exp.creation_observed(KEY)
    assert exp.satisfied(KEY)


async def test_expectations_block_until_every_creation_is_observed() -> None:
    rs = make_rs(replicas=3)
    _, exp = await manage(rs, [])
    for _ in range(2):
        exp.creation_observed(KEY)
        assert not exp.satisfied(KEY)
    exp.creation_observed(KEY)
    assert exp.satisfied(KEY)


@pytest.mark.parametrize(
    ("replicas", "fail_after", "calls", "pending"),
    [
        pytest.param(10, 0, 0, 0, id="first-fails-all-skipped"),
        pytest.param(10, 1, 1, 1, id="second-batch-fails"),
        pytest.param(10, 4, 4, 4, id="third-batch-partial"),
    ],
)
async def test_slow_start_failure_lowers_expectations(
    replicas: int, fail_after: int, calls: int, pending: int
) -> None:
    """Batches 1, 2, 4, 3: a failing batch stops the rest, and only the
    creations that succeeded stay expected."""
    rs = make_rs(replicas=replicas)
    control = FakePodControl()
    control.fail_create_after = fail_after
    exp = Expectations(clock=FakeClock().monotonic)
    with pytest.raises(errors.Forbidden):
        await manage(rs, [], control=control, exp=exp)
    assert control.creates == calls
    for _ in range(pending):
        assert not exp.satisfied(KEY)
        exp.creation_observed(KEY)
    assert exp.satisfied(KEY)


async def test_namespace_terminating_is_not_an_error() -> None:
    class Terminating(FakePodControl):
        async def create_pod(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise errors.Forbidden(
                "unable to create new content in namespace ns because it is being terminated"
            )

    await manage(make_rs(replicas=2), [], control=Terminating())


async def test_scale_down_deletes_the_lowest_ranked() -> None:
    rs = make_rs(replicas=2)
    pods = [
        make_pod("ready-1", owner=rs, node="n", phase="Running", ready=True),
        make_pod("pending", owner=rs, phase="Pending"),
        make_pod("ready-2", owner=rs, node="n", phase="Running", ready=True),
        make_pod("unready", owner=rs, node="n", phase="Running", ready=False),
    ]
    control, exp = await manage(rs, pods)
    assert sorted(control.deleted) == ["pending", "unready"]
    exp.deletion_observed(KEY, "uid-pending")
    exp.deletion_observed(KEY, "uid-pending")  # counted once
    assert not exp.satisfied(KEY)
    exp.deletion_observed(KEY, "uid-unready")
    assert exp.satisfied(KEY)


async def test_failed_delete_lowers_its_expectation() -> None:
    rs = make_rs(replicas=0)
    pods = [make_pod("a", owner=rs), make_pod("b", owner=rs)]
    control = FakePodControl()
    control.fail_delete = {"a"}
    exp = Expectations(clock=FakeClock().monotonic)
    with pytest.raises(errors.InternalError):
        await manage(rs, pods, control=control, exp=exp)
    assert control.deleted == ["b"]
    exp.deletion_observed(KEY, "uid-b")
    assert exp.satisfied(KEY)


# ---- claim_pods ---------------------------------------------------------------------


async def claim(rs, pods, client=None, *, owner_now=None):  # type: ignore[no-untyped-def]
    client = client or FakeClient()
    client.tracker.add(*pods)
    fresh = owner_now if owner_now is not None else rs

    async def recheck():  # type: ignore[no-untyped-def]
        client.actions.append(Action("get", "replicasets", "ns", rs.metadata.name))
        if isinstance(fresh, Exception):
            raise fresh
        return fresh

    claimed = await claim_pods(
        rs,
        pods,
        selector=selector_from_map({"app": "web"}),
        patch_pod=client.pods("ns").patch,
        recheck_owner=recheck,
    )
    return [p.metadata.name for p in claimed], client


async def test_claim_keeps_owned_matching_pods_without_calls() -> None:
    rs = make_rs()
    names, client = await claim(rs, [make_pod("a", owner=rs)])
    assert names == ["a"]
    assert client.actions == []


async def test_claim_adopts_a_matching_orphan_after_rechecking_the_owner() -> None:
    rs = make_rs()
    orphan = make_pod("o", labels={"app": "web"})
    orphan.metadata.resource_version = "42"
    names, client = await claim(rs, [orphan, make_pod("o2", labels={"app": "web"})])
    assert names == ["o", "o2"]
    verbs = [a.verb for a in client.actions]
    assert verbs == ["get", "patch", "patch"]  # the owner is re-read once
    patch = client.actions[1].patch
    assert patch["metadata"]["uid"] == "uid-o"
    assert patch["metadata"]["resourceVersion"] == "42"
    (ref,) = patch["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["uid"], ref["controller"]) == ("ReplicaSet", "uid-web", True)


@pytest.mark.parametrize(
    "pod",
    [
        pytest.param(make_pod("o", labels={"app": "other"}), id="not-matching"),
        pytest.param(make_pod("o", labels={"app": "web"}, deleting=True), id="being-deleted"),
        pytest.param(
            make_pod("o", owner=make_rs("other", labels={"app": "web"})), id="owned-by-another"
        ),
    ],
)
async def test_claim_leaves_alone(pod) -> None:  # type: ignore[no-untyped-def]
    names, client = await claim(make_rs(), [pod])
    assert names == []
    assert client.actions == []


async def test_claim_releases_an_owned_pod_that_stopped_matching() -> None:
    rs = make_rs()
    pod = make_pod("a", owner=rs, labels={"app": "changed"})
    names, client = await claim(rs, [pod])
    assert names == []
    (action,) = client.actions
    assert action.verb == "patch"
    assert action.patch["metadata"]["ownerReferences"] is None
    assert action.patch["metadata"]["uid"] == "uid-a"


async def test_claim_does_not_release_or_adopt_while_the_owner_is_deleted() -> None:
    rs = make_rs()
    rs.metadata.deletion_timestamp = "2024-01-01T00:00:00Z"
    pods = [
        make_pod("a", owner=rs, labels={"app": "changed"}),
        make_pod("o", labels={"app": "web"}),
    ]
    names, client = await claim(rs, pods)
    assert names == []
    assert client.actions == []


@pytest.mark.parametrize(
    "owner_now",
    [
        pytest.param(errors.NotFound("gone"), id="deleted"),
        pytest.param(make_rs(), id="recreated"),
        pytest.param("deleting", id="being-deleted"),
    ],
)
async def test_claim_does_not_adopt_when_the_owner_changed(owner_now) -> None:  # type: ignore[no-untyped-def]
    rs = make_rs()
    if isinstance(owner_now, str):
        owner_now = make_rs()
        owner_now.metadata.deletion_timestamp = "2024-01-01T00:00:00Z"
    elif not isinstance(owner_now, Exception):
        owner_now.metadata.uid = "uid-new"
    with pytest.raises((errors.NotFound, OwnerGone)):
        await claim(rs, [make_pod("o", labels={"app": "web"})], owner_now=owner_now)


async def test_claim_skips_pods_gone_and_reports_other_errors_after_trying_all() -> None:
    rs = make_rs()
    client = FakeClient()
    client.fail("patch", "pods", errors.NotFound("gone"), name="gone")
    client.fail("patch", "pods", errors.Conflict("the object has been modified"), name="stale")
    pods = [make_pod(n, labels={"app": "web"}) for n in ("gone", "stale", "fine")]
    with pytest.raises(errors.Conflict):
        await claim(rs, pods, client)
    assert [a.name for a in client.verbs("patch")] == ["gone", "stale", "fine"]
