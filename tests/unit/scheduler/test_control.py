"""The PodScheduled=False condition the scheduler writes (only on change)."""

from __future__ import annotations

from scheduler.control import with_unschedulable_condition
from tests.unit.scheduler.builders import pod

NOW = "2026-01-01T00:00:00Z"


def test_adds_condition_without_mutating_input():
    p = pod()
    out = with_unschedulable_condition(p, "0/1 nodes are available: 1 Insufficient cpu.", NOW)
    assert not p.status.conditions
    (cond,) = out.status.conditions
    assert (cond.type, cond.status, cond.reason, cond.message, cond.last_transition_time) == (
        "PodScheduled",
        "False",
        "Unschedulable",
        "0/1 nodes are available: 1 Insufficient cpu.",
        NOW,
    )


def test_same_condition_is_not_rewritten():
    p = with_unschedulable_condition(pod(), "m", NOW)
    assert with_unschedulable_condition(p, "m", "later") is None


def test_new_message_keeps_transition_time():
    p = with_unschedulable_condition(pod(), "old", NOW)
    out = with_unschedulable_condition(p, "new", "later")
    (cond,) = out.status.conditions
    assert (cond.message, cond.last_transition_time) == ("new", NOW)
