"""What one sync of a Job should do with its pods, decided purely from the
Job, its status and its pods (Kubernetes' manageJob and
getNewFinishedPods arithmetic): ``plan_pods`` says which pods (indexes) to
create and which to delete toward parallelism, honouring the failure
backoff; the counting helpers feed status.py. The controller
(controller.py, ``JobController.sync``) carries the plan out; removing the
tracking finalizer is sync.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from controllers.job import backoff, indexed
from controllers.job import status as jobstatus
from controllers.job.util import (
    MAX_POD_CREATE_DELETE_PER_SYNC,
    completions,
    is_indexed,
    parallelism,
    restarts,
)
from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.podutil import (
    is_pod_active,
    is_pod_ready,
    is_pod_terminal,
    is_pod_terminating,
)
from pinnace.machinery.timeutil import format_rfc3339
from pinnace.machinery.wellknown import FINALIZER_JOB_TRACKING


@dataclass
class Plan:
    """Pods to create (index or None per pod) and to delete, and when to look again."""

    create: list[int | None] = field(default_factory=list)
    delete: list[pod_pb2.Pod] = field(default_factory=list)
    requeue: float | None = None


def plan_pods(
    job: job_pb2.Job,
    status: job_pb2.JobStatus,
    pods: list[pod_pb2.Pod],
    *,
    now: datetime,
    backoff_base: float,
    backoff_cap: float,
) -> Plan:
    """What to create and delete for a running (not suspended, no verdict) Job."""
    active = [p for p in pods if is_pod_active(p)]
    terminating = [p for p in pods if is_pod_terminating(p)]
    wait_terminating = job.spec.pod_replacement_policy == "Failed"
    if is_indexed(job):
        return _plan_indexed(
            job, status, pods, active, terminating, wait_terminating, now, backoff_base, backoff_cap
        )
    succeeded = status.succeeded + len(status.uncounted_terminated_pods.succeeded)
    want = jobstatus.wanted_active(job, succeeded, len(active))
    plan = Plan()
    if len(active) > want:
        # Not-ready and newest first: they have done the least work.
        ranked = sorted(active, key=lambda p: (is_pod_ready(p), p.metadata.creation_timestamp))
        plan.delete = ranked[: len(active) - want]
        return plan
    busy = len(active) + (len(terminating) if wait_terminating else 0)
    missing = min(want - busy, MAX_POD_CREATE_DELETE_PER_SYNC)
    if missing <= 0:
        return plan
    wait = backoff.remaining(backoff.record_of(pods), now, base=backoff_base, cap=backoff_cap)
    if wait > 0:
        plan.requeue = wait
        return plan
    plan.create = [None] * missing
    return plan


def _plan_indexed(
    job: job_pb2.Job,
    status: job_pb2.JobStatus,
    pods: list[pod_pb2.Pod],
    active: list[pod_pb2.Pod],
    terminating: list[pod_pb2.Pod],
    wait_terminating: bool,
    now: datetime,
    base: float,
    cap: float,
) -> Plan:
    n = completions(job) or 0
    completed = indexed.parse_indexes(status.completed_indexes, n)
    failed = indexed.parse_indexes(status.failed_indexes, n)
    plan = Plan()
    kept: dict[int, pod_pb2.Pod] = {}
    for pod in sorted(active, key=lambda p: p.metadata.creation_timestamp):
        ix = indexed.pod_index(pod)
        if ix is None or ix >= n or ix in completed or ix in failed or ix in kept:
            plan.delete.append(pod)  # a duplicate, out of range, or done already
        else:
            kept[ix] = pod
    if plan.delete:
        return plan
    busy = set(kept)
    if wait_terminating:
        busy |= {ix for p in terminating if (ix := indexed.pod_index(p)) is not None}
    want = min(parallelism(job) - len(busy), MAX_POD_CREATE_DELETE_PER_SYNC)
    if want <= 0:
        return plan
    candidates = indexed.indexes_to_create(
        completions=n, want=n, busy=busy, completed=completed, failed=failed
    )
    for ix in candidates:
        if len(plan.create) >= want:
            break
        of_index = [p for p in pods if indexed.pod_index(p) == ix]
        wait = backoff.remaining(backoff.record_of(of_index), now, base=base, cap=cap)
        if wait > 0:
            plan.requeue = wait if plan.requeue is None else min(plan.requeue, wait)
            continue
        plan.create.append(ix)
    return plan


def index_failures(pods: list[pod_pb2.Pod], ix: int) -> int:
    """Failures of index ``ix`` so far: one more than the last failed pod's count."""
    counts = [
        indexed.failure_count(p) + 1
        for p in pods
        if p.status.phase == "Failed" and indexed.pod_index(p) == ix
    ]
    return max(counts, default=0)


def pod_counts(pods: list[pod_pb2.Pod]) -> tuple[int, int, int]:
    """(active, ready, terminating)."""
    active = [p for p in pods if is_pod_active(p)]
    return (
        len(active),
        sum(1 for p in active if is_pod_ready(p)),
        sum(1 for p in pods if is_pod_terminating(p)),
    )


def counts_of(status: job_pb2.JobStatus, pods: list[pod_pb2.Pod]) -> jobstatus.Counts:
    active = [p for p in pods if is_pod_active(p)]
    return jobstatus.Counts(
        succeeded=status.succeeded + len(status.uncounted_terminated_pods.succeeded),
        failed=status.failed + len(status.uncounted_terminated_pods.failed),
        active=len(active),
        restarts=sum(restarts(p) for p in active),
    )


def finalizer_patch(pod: pod_pb2.Pod) -> dict:
    """A merge patch dropping the tracking finalizer, guarded by the pod's uid."""
    rest = [f for f in pod.metadata.finalizers if f != FINALIZER_JOB_TRACKING]
    return {"metadata": {"uid": pod.metadata.uid, "finalizers": rest or None}}


def terminal_uids(pods: list[pod_pb2.Pod]) -> set[str]:
    return {p.metadata.uid for p in pods if is_pod_terminal(p)}


def start_time_now(status: job_pb2.JobStatus, now: datetime) -> None:
    status.start_time = format_rfc3339(now)
