"""Scale-down victim order: each of Kubernetes' ActivePodsWithRanks rules,
one pair of pods per rule, and the rules' precedence."""

from __future__ import annotations

import pytest

from controllers.replicaset.plan import deleted_before, pods_to_delete, rank_for_deletion
from controllers.replicaset.util import deletion_cost
from tests.unit.controllers.replicaset.fakes import T0, make_pod, make_rs

NOW = T0.replace(hour=1)  # an hour after T0: ages of seconds to minutes

RS = make_rs()


def p(name: str, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("node", "n1")
    kw.setdefault("phase", "Running")
    kw.setdefault("ready", True)
    return make_pod(name, owner=RS, **kw)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(p("a", node=""), p("b"), id="unassigned-before-assigned"),
        pytest.param(p("a", phase="Pending"), p("b", phase="Unknown"), id="pending-before-unknown"),
        pytest.param(p("a", phase="Unknown"), p("b", phase="Running"), id="unknown-before-running"),
        pytest.param(p("a", ready=False), p("b", ready=True), id="unready-before-ready"),
        pytest.param(p("a", ready=None), p("b", ready=True), id="no-condition-before-ready"),
        pytest.param(p("a", cost=-5), p("b"), id="lower-cost-first"),
        pytest.param(p("a", cost=10), p("b", cost=200), id="lower-cost-first-both-set"),
        pytest.param(p("a", cost=0, ready=False), p("b", cost=-100), id="readiness-beats-cost"),
        pytest.param(p("a", ready_at=3000), p("b", ready_at=10), id="ready-more-recently-first"),
        pytest.param(p("a", restarts=3), p("b", restarts=1), id="more-restarts-first"),
        pytest.param(
            p("a", created_at=3000, ready_at=0),
            p("b", created_at=10, ready_at=0),
            id="newer-first",
        ),
        pytest.param(
            p("a", restarts=9, created_at=0, ready_at=0),
            p("b", restarts=0, created_at=3000, ready_at=0),
            id="restarts-beat-age",
        ),
        pytest.param(p("a", phase="Pending", node=""), p("b", ready=False), id="unassigned-first"),
    ],
)
def test_rule(first, second) -> None:  # type: ignore[no-untyped-def]
    assert deleted_before(first, 0, second, 0, now=NOW)
    assert not deleted_before(second, 0, first, 0, now=NOW)


def test_more_colocated_pods_first() -> None:
    a, b = p("a", node="crowded"), p("b", node="alone")
    assert deleted_before(a, 3, b, 1, now=NOW)
    assert not deleted_before(b, 1, a, 3, now=NOW)
    # the deletion cost is looked at before the rank
    cheap = p("c", node="alone", cost=-1)
    assert deleted_before(cheap, 1, a, 3, now=NOW)


def test_times_in_the_same_log2_bucket_tie_break_on_uid() -> None:
    """Created 10 s and 12 s before now: both in bucket floor(log2(age ns)) = 33,
    so the uid decides (not the creation time)."""
    now = T0.replace(second=30)
    older = p("older", created_at=18, ready_at=0, uid="uid-a")  # 12 s old
    newer = p("newer", created_at=20, ready_at=0, uid="uid-b")  # 10 s old
    assert deleted_before(older, 0, newer, 0, now=now)
    assert not deleted_before(newer, 0, older, 0, now=now)
    # without a reference time the newer one simply comes first
    assert deleted_before(newer, 0, older, 0, now=None)
    # 20 s old is bucket 34: after both
    oldest = p("oldest", created_at=10, ready_at=0, uid="uid-0")
    assert deleted_before(older, 0, oldest, 0, now=now)


def test_missing_creation_time_first() -> None:
    a, b = p("a"), p("b")
    a.metadata.creation_timestamp = ""
    assert deleted_before(a, 0, b, 0, now=NOW)
    assert not deleted_before(b, 0, a, 0, now=NOW)


def test_equal_pods_are_not_before_each_other() -> None:
    a, b = p("a", uid="x"), p("b", uid="x")
    assert not deleted_before(a, 0, b, 0, now=NOW)


def test_rank_orders_by_all_rules() -> None:
    pods = [
        p("ready-old", created_at=0, ready_at=0),
        p("ready-new", created_at=1800, ready_at=1800),
        p("unready", ready=False),
        p("pending", phase="Pending", ready=None),
        p("unscheduled", node="", phase="Pending", ready=None),
    ]
    order = [x.metadata.name for x in rank_for_deletion(pods, [], now=NOW)]
    assert order == ["unscheduled", "pending", "unready", "ready-new", "ready-old"]


def test_rank_counts_related_active_pods_per_node() -> None:
    a = p("a", node="n1")
    b = p("b", node="n2")
    related = [a, b, p("x", node="n2"), p("y", node="n2", deleting=True)]
    # n2 holds two active related pods, n1 one: b goes first
    assert [x.metadata.name for x in rank_for_deletion([a, b], related, now=NOW)] == ["b", "a"]


@pytest.mark.parametrize(("count", "want"), [(0, []), (1, ["u"]), (2, ["r", "u"]), (5, ["r", "u"])])
def test_pods_to_delete(count: int, want: list[str]) -> None:
    pods = [p("r"), p("u", ready=False)]
    # all of them: returned as given, without ranking
    assert [x.metadata.name for x in pods_to_delete(pods, [], count, now=NOW)] == want


@pytest.mark.parametrize(
    ("annotation", "cost"),
    [("7", 7), ("-3", -3), ("+4", 4), (" 4", 0), ("1_0", 0), ("x", 0), ("2147483648", 0), ("", 0)],
)
def test_deletion_cost_annotation(annotation: str, cost: int) -> None:
    pod = p("a")
    pod.metadata.annotations["controller.kubernetes.io/pod-deletion-cost"] = annotation
    assert deletion_cost(pod) == cost
