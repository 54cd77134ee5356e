"""calculate_status (pure), the availability requeue and write-only-if-changed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controllers.replicaset.status import availability_requeue, calculate_status, write_status
from controllers.replicaset.util import REPLICA_SET, REPLICATION_CONTROLLER
from pinnace.client.fake import FakeClient
from pinnace.machinery import errors
from pinnace.machinery.conditions import find_condition
from tests.unit.controllers.replicaset.fakes import T0, at, make_pod, make_rc, make_rs

NOW = T0 + timedelta(seconds=100)


@pytest.mark.parametrize(
    ("min_ready", "pods", "want"),
    [
        pytest.param(0, [], (0, 0, 0, 0), id="no-pods"),
        pytest.param(
            0,
            [dict(), dict(ready=False), dict(ready=True)],
            (3, 3, 1, 1),
            id="ready-is-available-without-min-ready",
        ),
        pytest.param(
            30,
            [dict(ready=True, ready_at=50), dict(ready=True, ready_at=80), dict(ready=False)],
            (3, 3, 2, 1),
            id="min-ready-seconds",
        ),
        pytest.param(
            30, [dict(ready=True, ready_at=70)], (1, 1, 1, 0), id="exactly-min-ready-is-not-yet"
        ),
        pytest.param(
            0,
            [
                dict(labels={"app": "web"}),
                dict(labels={"app": "web", "extra": "x"}),
                dict(labels={}),
            ],
            (3, 1, 0, 0),
            id="fully-labeled-needs-every-template-label",
        ),
    ],
)
def test_counts(min_ready: int, pods: list[dict], want: tuple[int, int, int, int]) -> None:
    rs = make_rs(min_ready=min_ready, labels={"app": "web", "extra": "x"}, selector={"app": "web"})
    active = [make_pod(owner=rs, **kw) for kw in pods]
    status = calculate_status(rs, kind=REPLICA_SET, active=active, now=NOW)
    got = (
        status.replicas,
        status.fully_labeled_replicas,
        status.ready_replicas,
        status.available_replicas,
    )
    assert got == want


def test_observed_generation_and_terminating() -> None:
    rs = make_rs(generation=7)
    terminating = [make_pod(owner=rs, deleting=True)] * 2
    status = calculate_status(rs, kind=REPLICA_SET, active=[], terminating=terminating, now=NOW)
    assert status.observed_generation == 7
    assert status.HasField("terminating_replicas") and status.terminating_replicas == 2
    zero = calculate_status(rs, kind=REPLICA_SET, active=[], now=NOW)
    assert zero.HasField("terminating_replicas") and zero.terminating_replicas == 0


def test_replication_controller_status_has_no_terminating_replicas() -> None:
    rc = make_rc(replicas=2)
    status = calculate_status(rc, kind=REPLICATION_CONTROLLER, active=[make_pod(owner=rc)], now=NOW)
    assert status.replicas == 1
    assert status.observed_generation == 1


@pytest.mark.parametrize(
    ("replicas", "active", "reason"),
    [(3, 1, "FailedCreate"), (1, 3, "FailedDelete")],
)
def test_failure_condition_set_on_error(replicas: int, active: int, reason: str) -> None:
    rs = make_rs(replicas=replicas)
    pods = [make_pod(owner=rs) for _ in range(active)]
    err = errors.Forbidden('pods "x" is forbidden: exceeded quota')
    status = calculate_status(rs, kind=REPLICA_SET, active=pods, manage_error=err, now=NOW)
    cond = find_condition(status.conditions, "ReplicaFailure")
    assert cond is not None
    assert (cond.status, cond.reason, cond.message) == (
        "True",
        reason,
        'pods "x" is forbidden: exceeded quota',
    )
    assert cond.last_transition_time == at(100)


def test_existing_failure_condition_is_kept_then_removed() -> None:
    rs = make_rs(replicas=3)
    rs.status.conditions.add(
        type="ReplicaFailure",
        status="True",
        reason="FailedCreate",
        message="old",
        last_transition_time=at(1),
    )
    again = calculate_status(
        rs, kind=REPLICA_SET, active=[], manage_error=RuntimeError("new"), now=NOW
    )
    assert list(again.conditions) == list(rs.status.conditions)  # unchanged, not rewritten
    ok = calculate_status(rs, kind=REPLICA_SET, active=[], now=NOW)
    assert find_condition(ok.conditions, "ReplicaFailure") is None


def test_calculate_status_does_not_modify_the_owner() -> None:
    rs = make_rs()
    before = rs.SerializeToString()
    calculate_status(
        rs, kind=REPLICA_SET, active=[make_pod(owner=rs)], manage_error=RuntimeError("x"), now=NOW
    )
    assert rs.SerializeToString() == before


@pytest.mark.parametrize(
    ("pods", "want"),
    [
        pytest.param([], None, id="none"),
        pytest.param([dict(ready=False)], None, id="unready"),
        pytest.param([dict(ready=True, ready_at=50)], None, id="already-available"),
        pytest.param(
            [dict(ready=True, ready_at=90), dict(ready=True, ready_at=80)], 10.0, id="soonest"
        ),
    ],
)
def test_availability_requeue(pods: list[dict], want: float | None) -> None:
    rs = make_rs(min_ready=30)
    active = [make_pod(owner=rs, **kw) for kw in pods]
    assert availability_requeue(rs, active, NOW) == want


async def test_write_status_only_when_changed() -> None:
    rs = make_rs()
    client = FakeClient(rs)
    same = calculate_status(rs, kind=REPLICA_SET, active=[], now=NOW)
    rs.status.CopyFrom(same)
    assert await write_status(client, REPLICA_SET, rs, same) is rs
    assert client.actions == []
    changed = calculate_status(rs, kind=REPLICA_SET, active=[make_pod(owner=rs)], now=NOW)
    written = await write_status(client, REPLICA_SET, rs, changed)
    assert written.status.replicas == 1
    assert [(a.verb, a.subresource) for a in client.actions] == [("update", "status")]
    assert rs.status.replicas == 0  # the cached object is left alone


async def test_write_status_retries_once_after_a_conflict() -> None:
    rs = make_rs()
    client = FakeClient(rs)
    conflict = errors.Conflict("the object has been modified")
    client.fail("update", "replicasets", conflict, times=1)
    status = calculate_status(rs, kind=REPLICA_SET, active=[make_pod(owner=rs)], now=NOW)
    await write_status(client, REPLICA_SET, rs, status)
    assert [(a.verb, a.subresource) for a in client.actions] == [
        ("update", "status"),
        ("get", ""),
        ("update", "status"),
    ]
    client.actions.clear()
    client.fail("update", "replicasets", conflict, times=2)
    with pytest.raises(errors.Conflict):
        await write_status(client, REPLICA_SET, rs, status)
