"""The chaos invariants on small hand-made histories and final states: for
each, histories that keep it and at least one that breaks it, so every
check is shown able to fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.chaos import invariants
from tests.chaos.handmade import (
    Story,
    deployment,
    job,
    node,
    pod,
    replica_set,
    statefulset,
    tracked,
)
from tests.chaos.history import FaultRecord, History, PodProcess
from tests.chaos.state import CacheCheck, FinalState, Listed, Wrapper

Case = Callable[[], tuple[History, FinalState]]

N1, N1_DOWN = node("n1"), node("n1", ready=False)


def _story(story: Story) -> tuple[History, FinalState]:
    return story.history, FinalState()


# ---- deployment-bounds ---------------------------------------------------------------------
# web: replicas 2, maxSurge 1, maxUnavailable 0: its ReplicaSets may ask for
# 3 pods at most, and 2 must stay available.
WEB = deployment("web", 2, 1, 0)
OLD, NEW = replica_set("web-old", WEB, 2), replica_set("web-new", WEB, 0)
A, B, C, D = (pod(f"web-old-{x}", OLD) for x in "abcd")
N1_, N2_ = (pod(f"web-new-{x}", NEW) for x in "ab")


def scaled(rs: object, replicas: int) -> object:
    return replica_set(rs.metadata.name, WEB, replicas)  # type: ignore[attr-defined]


def _settled() -> Story:
    return Story().world(nodes=(N1,), deployments=(WEB,), replicasets=(OLD, NEW), pods=(A, B))


def _then(history: History) -> Story:
    s = Story()
    s.history, s.rv = history, history.events[-1].rv
    return s


def rollout_within_bounds() -> tuple[History, FinalState]:
    s = _settled().modified("replicasets", scaled(NEW, 1))  # asks for 3
    s.added("pods", pod("web-new-a", NEW, ready=False)).modified("pods", N1_)
    s.modified("replicasets", scaled(OLD, 1)).modified("pods", pod("web-old-a", OLD, deleting=True))
    s.modified("replicasets", scaled(NEW, 2)).added("pods", N2_)
    s.modified("replicasets", scaled(OLD, 0))
    return _story(s.modified("pods", pod("web-old-b", OLD, deleting=True)))


def pods_outnumber_the_spec_for_a_moment() -> tuple[History, FinalState]:
    s = _settled().modified("replicasets", scaled(NEW, 1)).added("pods", N1_)
    s.modified("replicasets", scaled(OLD, 1)).modified("replicasets", scaled(NEW, 2))
    s.added("pods", N2_)  # 4 pods while the old ReplicaSet has yet to delete one: allowed
    return _story(s.modified("pods", pod("web-old-a", OLD, deleting=True)))


def surge_exceeded() -> tuple[History, FinalState]:
    return _story(_settled().modified("replicasets", scaled(NEW, 2)))  # 2 + 2 > 2 + 1


def availability_dropped() -> tuple[History, FinalState]:
    return _story(_settled().modified("pods", pod("web-old-a", OLD, ready=False)))  # 1 < 2 - 0


def scale_down_surplus_is_not_a_surge() -> tuple[History, FinalState]:
    big = deployment("web", 4, 1, 0)
    s = Story().world(
        nodes=(N1,), deployments=(big,), replicasets=(scaled(OLD, 4), NEW), pods=(A, B, C, D)
    )
    s.modified("deployments", WEB)  # scaled to 2: 4 asked for > 3 until the old RS shrinks
    s.modified("replicasets", scaled(OLD, 2))
    return _story(s.modified("replicasets", scaled(NEW, 1)))  # 3: armed, fine


def surge_after_scale_down_settled() -> tuple[History, FinalState]:
    history, _ = scale_down_surplus_is_not_a_surge()
    return _story(_then(history).modified("replicasets", scaled(NEW, 2)))  # 4 > 3, armed


def scale_down_and_straight_back() -> tuple[History, FinalState]:
    s = _settled().modified("deployments", deployment("web", 1, 1, 0, generation=2, observed=1))
    s.modified("replicasets", replica_set("web-old", WEB, 1, generation=2, observed=1))
    s.modified("deployments", deployment("web", 2, 1, 0, generation=3, observed=1))
    s.modified("pods", pod("web-old-a", OLD, deleting=True))  # decided for 1: lands now
    s.modified("replicasets", replica_set("web-old", WEB, 2, generation=3, observed=2))
    s.modified("deployments", deployment("web", 2, 1, 0, generation=3))
    s.modified("replicasets", replica_set("web-old", WEB, 2, generation=3))
    return _story(s.added("pods", C))  # caught up, 2 available again: armed


def drop_after_catching_up() -> tuple[History, FinalState]:
    history, _ = scale_down_and_straight_back()
    return _story(_then(history).modified("pods", pod("web-old-b", OLD, ready=False)))


def scale_up_is_not_unavailability() -> tuple[History, FinalState]:
    one = deployment("web", 1, 1, 0)
    s = Story().world(nodes=(N1,), deployments=(one,), replicasets=(OLD,), pods=(A,))
    s.modified("deployments", deployment("web", 3, 1, 0))  # 1 available < 3 until they start
    return _story(s.added("pods", pod("web-old-b", OLD, ready=False)).modified("pods", B))


def node_down_suspends_the_window() -> tuple[History, FinalState]:
    s = _settled().modified("nodes", N1_DOWN).modified("pods", pod("web-old-a", OLD, ready=False))
    s.modified("nodes", N1)  # back, one pod still unavailable: not armed again until 2
    return _story(s.modified("pods", A))


def drop_after_node_recovery() -> tuple[History, FinalState]:
    history, _ = node_down_suspends_the_window()
    return _story(_then(history).modified("pods", pod("web-old-b", OLD, ready=False)))


def node_controller_verdict_after_recovery() -> tuple[History, FinalState]:
    s = _settled().modified("nodes", N1_DOWN).modified("nodes", N1)
    s.modified("pods", pod("web-old-a", OLD, marked=True))  # MarkPodsNotReady, landing late
    return _story(s.modified("pods", A))


def drop_after_the_verdict_was_undone() -> tuple[History, FinalState]:
    history, _ = node_controller_verdict_after_recovery()
    return _story(_then(history).modified("pods", pod("web-old-b", OLD, ready=False)))


def surge_while_a_node_is_down() -> tuple[History, FinalState]:
    s = _settled().modified("nodes", N1_DOWN)
    return _story(s.modified("replicasets", scaled(NEW, 2)))  # a node down excuses no surge


# ---- replicaset-creations ---------------------------------------------------------------------


def _replica_set_story() -> Story:
    return Story().world(nodes=(N1,), deployments=(WEB,), replicasets=(OLD,), pods=(A,))


def creation_within_spec() -> tuple[History, FinalState]:
    return _story(_replica_set_story().added("pods", B))  # 2 of 2


def creation_beyond_spec() -> tuple[History, FinalState]:
    return _story(_replica_set_story().added("pods", B).added("pods", C))  # 3 of 2


def creation_beyond_spec_as_an_apiserver_died() -> tuple[History, FinalState]:
    history, final = creation_beyond_spec()
    history.faults.append(FaultRecord("kill apiserver", "apiserver", 1.0, 5.5))
    return history, final  # the lost answer of the first create: made again


def creation_beyond_spec_as_a_controller_manager_resumed() -> tuple[History, FinalState]:
    history, final = creation_beyond_spec()
    history.faults.append(FaultRecord("pause controller-manager", "controller-manager", 1.0, 5.5))
    return history, final


def creation_racing_a_scale_down() -> tuple[History, FinalState]:
    s = _replica_set_story().modified("replicasets", scaled(OLD, 1))
    return _story(s.added("pods", B))  # decided before the scale-down, landed after


def relist_gap_restarts_the_window() -> tuple[History, FinalState]:
    return _story(_settled().relist("pods", A).added("pods", B))  # 1 available after the gap


# ---- node-verdicts --------------------------------------------------------------------------


def _verdicts(*faults: FaultRecord, at: float) -> tuple[History, FinalState]:
    s = Story().list("nodes", N1).modified("nodes", N1_DOWN).modified("nodes", N1)
    history = s.history
    history.events[1] = replace(history.events[1], at=at)
    history.faults.extend(faults)
    return history, FinalState()


def verdict_during_its_kubelet_fault() -> tuple[History, FinalState]:
    return _verdicts(FaultRecord("pause kubelet", "kubelet-n1", 10.0, 14.0), at=13.0)


def verdict_after_its_partition() -> tuple[History, FinalState]:
    return _verdicts(FaultRecord("partition node", "n1", 10.0, 14.0), at=16.0)


def verdict_during_an_apiserver_fault() -> tuple[History, FinalState]:
    return _verdicts(FaultRecord("pause apiserver", "apiserver", 10.0, 14.0), at=12.0)


def verdict_during_a_controller_manager_fault() -> tuple[History, FinalState]:
    return _verdicts(
        FaultRecord("pause controller-manager", "controller-manager", 10.0, 14.0), at=14.1
    )


def verdict_during_another_nodes_fault() -> tuple[History, FinalState]:
    return _verdicts(FaultRecord("kill kubelet", "kubelet-n2", 10.0, 14.0), at=12.0)


def verdict_long_after_its_fault() -> tuple[History, FinalState]:
    return _verdicts(FaultRecord("kill kubelet", "kubelet-n1", 10.0, 14.0), at=30.0)


# ---- statefulset-identity -------------------------------------------------------------------
DB = statefulset("db")
DB0, DB0_AGAIN = pod("db-0", DB), pod("db-0", DB, uid="uid-db-0-again")


def _with_pods(*pods: object) -> Story:
    return Story().list("pods", *pods)


def one_process_per_identity() -> tuple[History, FinalState]:
    s = _with_pods(DB0, DB0_AGAIN, pod("db-1", DB)).sample((DB0, "n1"), (pod("db-1", DB), "n2"))
    return _story(s.sample((DB0_AGAIN, "n2")))  # replaced after the old one was gone: fine


def two_pods_of_one_identity() -> tuple[History, FinalState]:
    return _story(_with_pods(DB0, DB0_AGAIN).sample((DB0, "n1"), (DB0_AGAIN, "n2")))


# ---- job-counting -----------------------------------------------------------------------------
J = job("j", succeeded=0, finished="")


def _job_story(final_job: object, *pods: object) -> tuple[History, FinalState]:
    s = Story().list("jobs", J).list("pods")
    for p in pods:
        s.added("pods", p)
    return _story(s.modified("jobs", final_job))


def each_pod_counted_once() -> tuple[History, FinalState]:
    return _job_story(
        job("j", succeeded=2, failed=1),
        tracked("j-a", J, "Succeeded"),
        tracked("j-b", J, "Succeeded"),
        tracked("j-c", J, "Failed"),
        tracked("j-d", J, "Failed", finalizer=False),  # stopped on purpose: not a failure
    )


def a_pod_counted_twice() -> tuple[History, FinalState]:
    return _job_story(job("j", succeeded=3), *(tracked(f"j-{x}", J, "Succeeded") for x in "ab"))


def a_failure_not_counted() -> tuple[History, FinalState]:
    return _job_story(
        job("j", succeeded=1), tracked("j-a", J, "Succeeded"), tracked("j-b", J, "Failed")
    )


def counters_went_down() -> tuple[History, FinalState]:
    s = Story().list("jobs", job("j", succeeded=1, finished="")).list("pods")
    s.added("pods", tracked("j-a", J, "Succeeded"))
    return _story(
        s.modified("jobs", job("j", succeeded=0, finished="")).modified(
            "jobs", job("j", succeeded=1)
        )
    )


def unfinished_job_is_undecided() -> tuple[History, FinalState]:
    return _job_story(
        job("j", succeeded=0, finished="", uncounted=("uid-j-a",)), tracked("j-a", J, "Failed")
    )


# ---- watch-order and history-matches-final -----------------------------------------------------


def watch_in_order() -> tuple[History, FinalState]:
    return _story(Story().list("pods").added("pods", A).modified("pods", A).relist("pods", A))


def repeated_event() -> tuple[History, FinalState]:
    history, _ = watch_in_order()
    history.events.append(history.events[1])  # ADDED again, at an old resourceVersion
    return history, FinalState()


def relist_behind() -> tuple[History, FinalState]:
    history, _ = watch_in_order()
    ev = history.events[-1]
    history.events[-1] = type(ev)(ev.seq, ev.at, ev.resource, ev.type, 1, ev.obj, ev.objects)
    return history, FinalState()


def _final_pods(story: Story, *pods: object) -> tuple[History, FinalState]:
    return story.history, FinalState(listed={"pods": Listed(story.rv, _current(story, pods))})


def _current(story: Story, pods: tuple[object, ...]) -> tuple[object, ...]:
    """The pods as the history last showed them (same uid and resourceVersion)."""
    last = {}
    for ev in story.history.events:
        for o in ev.objects if ev.is_list else (ev.obj,):
            last[o.metadata.uid] = o
    return tuple(last[p.metadata.uid] for p in pods)  # type: ignore[attr-defined]


def history_reaches_final() -> tuple[History, FinalState]:
    s = Story().list("pods", A).added("pods", B).deleted("pods", A)
    return _final_pods(s, B)


def history_lost_a_delete() -> tuple[History, FinalState]:
    s = Story().list("pods", A).added("pods", B)
    history, final = _final_pods(s, B)
    s.rv += 1  # A was deleted at rv 3, and the recorder never saw it
    final.listed["pods"] = Listed(s.rv, final.listed["pods"].objects)
    return history, final


# ---- final state ----------------------------------------------------------------------------------
RUNNING = pod("p", on="n1", running=(("c", 2),))


def _final(**fields: object) -> tuple[History, FinalState]:
    return History(), FinalState(**fields)  # type: ignore[arg-type]


def processes_have_pods() -> tuple[History, FinalState]:
    return _final(all_pods=[RUNNING], processes=[PodProcess("n1", "ns", "p", "uid-p", 7)])


def process_without_pod() -> tuple[History, FinalState]:
    return _final(all_pods=[RUNNING], processes=[PodProcess("n1", "ns", "gone", "uid-gone", 7)])


def process_on_another_node() -> tuple[History, FinalState]:
    return _final(all_pods=[RUNNING], processes=[PodProcess("n2", "ns", "p", "uid-p", 7)])


def running_with_process() -> tuple[History, FinalState]:
    return _final(all_pods=[RUNNING], wrappers=[Wrapper("n1", "uid-p", "c", 2)])


def running_without_process() -> tuple[History, FinalState]:
    return _final(all_pods=[RUNNING], wrappers=[Wrapper("n1", "uid-p", "c", 1)])  # an old attempt


def nodes_whole() -> tuple[History, FinalState]:
    return _final(nodes=[N1])


def node_left_down() -> tuple[History, FinalState]:
    return _final(nodes=[N1_DOWN])


def caches_equal() -> tuple[History, FinalState]:
    return _final(caches=[CacheCheck("scheduler", "pods", "9", 2, "d1", 2, "d1")])


def cache_differs() -> tuple[History, FinalState]:
    return _final(caches=[CacheCheck("scheduler", "pods", "9", 2, "d1", 3, "d2")])


def cache_unreadable() -> tuple[History, FinalState]:
    return _final(caches=[CacheCheck("scheduler", "pods", "9", 2, "d1", error="stale")])


CASES = [
    # (invariant, case, violations expected)
    (invariants.deployment_bounds, rollout_within_bounds, 0),
    (invariants.deployment_bounds, pods_outnumber_the_spec_for_a_moment, 0),
    (invariants.replicaset_creations, creation_within_spec, 0),
    (invariants.replicaset_creations, creation_beyond_spec, 1),
    (invariants.replicaset_creations, creation_racing_a_scale_down, 0),
    (invariants.replicaset_creations, creation_beyond_spec_as_an_apiserver_died, 0),
    (invariants.replicaset_creations, creation_beyond_spec_as_a_controller_manager_resumed, 1),
    (invariants.deployment_bounds, surge_exceeded, 1),
    (invariants.deployment_bounds, availability_dropped, 1),
    (invariants.deployment_bounds, scale_down_surplus_is_not_a_surge, 0),
    (invariants.deployment_bounds, surge_after_scale_down_settled, 1),
    (invariants.deployment_bounds, scale_up_is_not_unavailability, 0),
    (invariants.deployment_bounds, scale_down_and_straight_back, 0),
    (invariants.deployment_bounds, drop_after_catching_up, 1),
    (invariants.deployment_bounds, node_down_suspends_the_window, 0),
    (invariants.deployment_bounds, drop_after_node_recovery, 1),
    (invariants.deployment_bounds, relist_gap_restarts_the_window, 0),
    (invariants.deployment_bounds, surge_while_a_node_is_down, 1),
    (invariants.deployment_bounds, node_controller_verdict_after_recovery, 0),
    (invariants.deployment_bounds, drop_after_the_verdict_was_undone, 1),
    (invariants.node_verdicts, verdict_during_its_kubelet_fault, 0),
    (invariants.node_verdicts, verdict_after_its_partition, 0),
    (invariants.node_verdicts, verdict_during_an_apiserver_fault, 0),
    (invariants.node_verdicts, verdict_during_a_controller_manager_fault, 1),
    (invariants.node_verdicts, verdict_during_another_nodes_fault, 1),
    (invariants.node_verdicts, verdict_long_after_its_fault, 1),
    (invariants.statefulset_identity, one_process_per_identity, 0),
    (invariants.statefulset_identity, two_pods_of_one_identity, 1),
    (invariants.job_counting, each_pod_counted_once, 0),
    (invariants.job_counting, a_pod_counted_twice, 1),
    (invariants.job_counting, a_failure_not_counted, 1),
    (invariants.job_counting, counters_went_down, 1),
    (invariants.job_counting, unfinished_job_is_undecided, 0),
    (invariants.watch_order, watch_in_order, 0),
    (invariants.watch_order, repeated_event, 1),
    (invariants.watch_order, relist_behind, 1),
    (invariants.history_matches_final, history_reaches_final, 0),
    (invariants.history_matches_final, history_lost_a_delete, 1),
    (invariants.no_orphan_processes, processes_have_pods, 0),
    (invariants.no_orphan_processes, process_without_pod, 1),
    (invariants.no_orphan_processes, process_on_another_node, 1),
    (invariants.running_has_process, running_with_process, 0),
    (invariants.running_has_process, running_without_process, 1),
    (invariants.converged, nodes_whole, 0),
    (invariants.converged, node_left_down, 1),
    (invariants.caches_equal_etcd, caches_equal, 0),
    (invariants.caches_equal_etcd, cache_differs, 1),
    (invariants.caches_equal_etcd, cache_unreadable, 1),
]


@pytest.mark.parametrize(
    ("check", "case", "violations"),
    [pytest.param(c, case, v, id=f"{c.__name__}-{case.__name__}") for c, case, v in CASES],
)
def test_invariant(check: invariants.Check, case: Case, violations: int) -> None:
    history, final = case()
    verdict = check(history, final)
    assert len(verdict.violations) == violations, verdict.violations
    assert verdict.checks > 0 or verdict.inconclusive > 0, "nothing was checked"


def test_every_invariant_has_a_case_that_breaks_it() -> None:
    broken = {c.__name__ for c, _, v in CASES if v}
    assert broken >= {c.__name__ for c in invariants.INVARIANTS}


def test_undecided_jobs_are_counted_as_such() -> None:
    verdict = invariants.job_counting(*unfinished_job_is_undecided())
    assert (verdict.checks, verdict.inconclusive) == (0, 1)
