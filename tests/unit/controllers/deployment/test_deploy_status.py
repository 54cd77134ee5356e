"""Status and conditions, computed on a FakeClock: availability, progress,
the progress deadline and when to look again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controllers.deployment import progress, util
from controllers.deployment.status import calculate_status, new_condition, set_condition
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.wellknown import (
    DEPLOYMENT_AVAILABLE,
    DEPLOYMENT_PROGRESSING,
    DEPLOYMENT_REPLICA_FAILURE,
)
from tests.unit.controllers.deployment.fakes import T0, at, make_deployment, make_rs


def test_calculate_status_counts() -> None:
    d = make_deployment(replicas=10, surge=3, unavailable=2, generation=4)
    d.status.collision_count = 2
    old = make_rs("web-old", image="v0", replicas=8, available=7)
    new = make_rs("web-new", replicas=5, available=1, actual=4)
    st = calculate_status(d, [old, new], new, now=T0)
    assert (st.replicas, st.updated_replicas, st.ready_replicas, st.available_replicas) == (
        12,
        4,
        8,
        8,
    )
    assert st.unavailable_replicas == 13 - 8
    assert st.observed_generation == 4 and st.collision_count == 2
    avail = find_condition(st.conditions, DEPLOYMENT_AVAILABLE)
    assert (avail.status, avail.reason) == ("True", util.MIN_AVAILABLE_REASON)  # 8 >= 10 - 2


def test_available_false_below_minimum() -> None:
    d = make_deployment(replicas=10, surge=3, unavailable=2)
    st = calculate_status(d, [make_rs("web-a", replicas=10, available=7)], None, now=T0)
    avail = find_condition(st.conditions, DEPLOYMENT_AVAILABLE)
    assert (avail.status, avail.reason) == ("False", util.MIN_UNAVAILABLE_REASON)


def test_set_condition_keeps_times_for_same_status_and_reason() -> None:
    d = make_deployment()
    set_condition(d.status, new_condition(DEPLOYMENT_AVAILABLE, "True", "A", "m1", now=T0))
    set_condition(
        d.status,
        new_condition(DEPLOYMENT_AVAILABLE, "True", "A", "m2", now=T0 + timedelta(seconds=5)),
    )
    c = find_condition(d.status.conditions, DEPLOYMENT_AVAILABLE)
    assert (c.message, c.last_update_time) == ("m1", at(0))
    set_condition(
        d.status,
        new_condition(DEPLOYMENT_AVAILABLE, "True", "B", "m3", now=T0 + timedelta(seconds=9)),
    )
    c = find_condition(d.status.conditions, DEPLOYMENT_AVAILABLE)
    assert (c.reason, c.last_update_time, c.last_transition_time) == ("B", at(9), at(0))
    assert len(d.status.conditions) == 1


def _progressing(d, reason: str, status: str = "True", updated: float = 0) -> None:
    cond = new_condition(
        DEPLOYMENT_PROGRESSING, status, reason, "", now=T0 + timedelta(seconds=updated)
    )
    set_condition(d.status, cond)


@pytest.mark.parametrize(
    ("elapsed", "want_reason", "want_status"),
    [
        (5, util.RS_UPDATED_REASON, "True"),  # before the deadline: unchanged
        (11, util.TIMED_OUT_REASON, "False"),
    ],
)
def test_progress_deadline(elapsed: float, want_reason: str, want_status: str) -> None:
    d = make_deployment(replicas=2, surge=1, unavailable=0, deadline=10)
    old = make_rs("web-old", image="v0", replicas=2)
    new = make_rs("web-new", replicas=1, available=0)
    # the stored status matches: no progress since
    d.status.CopyFrom(calculate_status(d, [old, new], new, now=T0))
    _progressing(d, util.RS_UPDATED_REASON)
    st = progress.rollout_status(d, [old, new], new, now=T0 + timedelta(seconds=elapsed))
    c = find_condition(st.conditions, DEPLOYMENT_PROGRESSING)
    assert (c.reason, c.status) == (want_reason, want_status)
    if want_reason == util.TIMED_OUT_REASON:
        assert c.message == 'ReplicaSet "web-new" has timed out progressing.'


def test_progress_refreshes_last_update_time() -> None:
    d = make_deployment(replicas=2, surge=1, unavailable=0, deadline=10)
    old = make_rs("web-old", image="v0", replicas=2)
    new = make_rs("web-new", replicas=1, available=0)
    d.status.CopyFrom(calculate_status(d, [old, new], new, now=T0))
    _progressing(d, util.RS_UPDATED_REASON)
    new.status.available_replicas = new.status.ready_replicas = 1  # progress at t=8
    st = progress.rollout_status(d, [old, new], new, now=T0 + timedelta(seconds=8))
    c = find_condition(st.conditions, DEPLOYMENT_PROGRESSING)
    assert (c.reason, c.last_update_time, c.last_transition_time) == (
        util.RS_UPDATED_REASON,
        at(8),
        at(0),
    )


def test_complete_rollout_is_new_replica_set_available_and_not_rechecked() -> None:
    d = make_deployment(replicas=2, surge=1, unavailable=0, deadline=10)
    new = make_rs("web-new", replicas=2)
    _progressing(d, util.RS_UPDATED_REASON)
    st = progress.rollout_status(d, [new], new, now=T0 + timedelta(seconds=100))
    c = find_condition(st.conditions, DEPLOYMENT_PROGRESSING)
    assert (c.reason, c.status) == (util.NEW_RS_AVAILABLE_REASON, "True")
    d.status.CopyFrom(st)
    assert progress.requeue_delay(d, st, now=T0 + timedelta(seconds=200)) is None


@pytest.mark.parametrize(
    ("elapsed", "want"),
    [(3, 8.0), (9.5, 0.5), (20, 0.5)],
    ids=["deadline-ahead", "under-a-second", "past"],
)
def test_requeue_at_the_deadline(elapsed: float, want: float) -> None:
    d = make_deployment(replicas=2, surge=1, unavailable=0, deadline=10)
    new = make_rs("web-new", replicas=2, available=0)
    _progressing(d, util.RS_UPDATED_REASON)
    st = calculate_status(d, [new], new, now=T0)
    assert progress.requeue_delay(d, st, now=T0 + timedelta(seconds=elapsed)) == want


def test_no_deadline_removes_progressing() -> None:
    d = make_deployment(deadline=None)
    _progressing(d, util.RS_UPDATED_REASON)
    st = progress.rollout_status(d, [], None, now=T0)
    assert find_condition(st.conditions, DEPLOYMENT_PROGRESSING) is None
    assert progress.requeue_delay(d, st, now=T0) is None


def test_replica_failure_is_copied_from_new_rs_first() -> None:
    d = make_deployment(replicas=2)
    old = make_rs("web-old", image="v0", replicas=1)
    new = make_rs("web-new", replicas=1)
    old.status.conditions.add(
        type="ReplicaFailure", status="True", reason="Old", last_transition_time=at(1)
    )
    new.status.conditions.add(
        type="ReplicaFailure",
        status="True",
        reason="FailedCreate",
        message="quota",
        last_transition_time=at(2),
    )
    st = progress.rollout_status(d, [old, new], new, now=T0)
    c = find_condition(st.conditions, DEPLOYMENT_REPLICA_FAILURE)
    assert (c.reason, c.message, c.last_update_time) == ("FailedCreate", "quota", at(2))
    new.status.ClearField("conditions")
    old.status.ClearField("conditions")
    d.status.CopyFrom(st)
    assert (
        find_condition(
            progress.rollout_status(d, [old, new], new, now=T0).conditions,
            DEPLOYMENT_REPLICA_FAILURE,
        )
        is None
    )
