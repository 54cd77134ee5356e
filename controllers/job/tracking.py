"""Counting finished pods exactly once (Kubernetes' trackJobStatusAndRemoveFinalizers).

Every pod the controller creates carries the finalizer
``batch.kubernetes.io/job-tracking``, so it cannot disappear from the API
before the Job has counted it, whoever deletes it. Counting is two-phase and
survives a controller restart at any point:

1. a terminal pod that still has the finalizer, and whose uid is not yet in
   ``status.uncountedTerminatedPods``, is added there (succeeded or failed),
   and that status is written;
2. the finalizer is removed from every pod listed there;
3. uids whose pod has lost its finalizer (or is gone) move from the
   uncounted lists into ``succeeded`` / ``failed``, written again.

A pod without the finalizer is never added (it is counted already, or the
controller deleted it on purpose and removed the finalizer first: pods of a
suspended or scaled-down Job are not failures). ``skip`` holds uids whose
finalizer this process removed but the cache may still show: a stale pod is
never counted a second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from controllers.job import indexed, pod_failure_policy
from controllers.job.util import MAX_UNCOUNTED_PODS, completions, has_finalizer, is_indexed
from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.podutil import is_pod_terminal


@dataclass
class Tracking:
    """What the terminal pods of one sync add to the Job's status."""

    succeeded: list[str] = field(default_factory=list)  # uids newly uncounted succeeded
    failed: list[str] = field(default_factory=list)  # uids newly uncounted failed
    finalize_only: list[str] = field(default_factory=list)  # ignored or duplicate: no count
    completed_indexes: set[int] = field(default_factory=set)
    failed_indexes: set[int] = field(default_factory=set)
    fail_job_message: str = ""  # a FailJob rule matched

    @property
    def changed(self) -> bool:
        return bool(self.succeeded or self.failed or self.completed_indexes or self.failed_indexes)


def classify(
    job: job_pb2.Job, pods: Iterable[pod_pb2.Pod], *, skip: set[str] | frozenset = frozenset()
) -> Tracking:
    """Sort the terminal pods still carrying the finalizer into what they add."""
    status = job.status
    uncounted = set(status.uncounted_terminated_pods.succeeded) | set(
        status.uncounted_terminated_pods.failed
    )
    n = completions(job)
    completed = indexed.parse_indexes(status.completed_indexes, n)
    failed_ix = indexed.parse_indexes(status.failed_indexes, n)
    per_index = job.spec.HasField("backoff_limit_per_index")
    out = Tracking()
    room_s = MAX_UNCOUNTED_PODS - len(status.uncounted_terminated_pods.succeeded)
    room_f = MAX_UNCOUNTED_PODS - len(status.uncounted_terminated_pods.failed)
    for pod in sorted(pods, key=lambda p: p.metadata.creation_timestamp):
        uid = pod.metadata.uid
        if not has_finalizer(pod) or not is_pod_terminal(pod) or uid in uncounted or uid in skip:
            continue
        ix = indexed.pod_index(pod) if is_indexed(job) else None
        if pod.status.phase == "Succeeded":
            if is_indexed(job):
                if ix is None or n is None or ix >= n or ix in completed or ix in failed_ix:
                    out.finalize_only.append(uid)
                    continue
                completed.add(ix)
                out.completed_indexes.add(ix)
            if len(out.succeeded) < room_s:
                out.succeeded.append(uid)
            continue
        verdict = pod_failure_policy.match(job, pod)
        if verdict.action == pod_failure_policy.IGNORE:
            out.finalize_only.append(uid)
            continue
        if len(out.failed) >= room_f:
            continue
        out.failed.append(uid)
        if verdict.action == pod_failure_policy.FAIL_JOB and not out.fail_job_message:
            out.fail_job_message = verdict.message
        if per_index and ix is not None and ix not in completed:
            exhausted = indexed.failure_count(pod) + 1 > job.spec.backoff_limit_per_index
            if verdict.action == pod_failure_policy.FAIL_INDEX or exhausted:
                failed_ix.add(ix)
                out.failed_indexes.add(ix)
    return out


def with_uncounted(job: job_pb2.Job, tracking: Tracking) -> job_pb2.JobStatus:
    """Phase 1: the Job's status with the new uids listed as uncounted and
    the new completed / failed indexes recorded."""
    status = job_pb2.JobStatus()
    status.CopyFrom(job.status)
    status.uncounted_terminated_pods.succeeded.extend(tracking.succeeded)
    status.uncounted_terminated_pods.failed.extend(tracking.failed)
    n = completions(job)
    if tracking.completed_indexes:
        done = indexed.parse_indexes(status.completed_indexes, n) | tracking.completed_indexes
        status.completed_indexes = indexed.format_indexes(done)
    if tracking.failed_indexes or job.spec.HasField("backoff_limit_per_index"):
        failed = indexed.parse_indexes(status.failed_indexes, n) | tracking.failed_indexes
        status.failed_indexes = indexed.format_indexes(failed)
    return status


def pods_to_finalize(
    status: job_pb2.JobStatus, pods: Iterable[pod_pb2.Pod], extra: Iterable[str] = ()
) -> list[pod_pb2.Pod]:
    """Phase 2: pods listed as uncounted (or in ``extra``) that still have the finalizer."""
    wanted = (
        set(status.uncounted_terminated_pods.succeeded)
        | set(status.uncounted_terminated_pods.failed)
        | set(extra)
    )
    return [p for p in pods if p.metadata.uid in wanted and has_finalizer(p)]


def flush_uncounted(status: job_pb2.JobStatus, still_finalized: set[str]) -> bool:
    """Phase 3: move uncounted uids whose pod no longer has the finalizer into
    the counters (in place). Returns whether anything moved."""
    moved = False
    for phase in ("succeeded", "failed"):
        lst = getattr(status.uncounted_terminated_pods, phase)
        keep = [uid for uid in lst if uid in still_finalized]
        gone = len(lst) - len(keep)
        if gone:
            setattr(status, phase, getattr(status, phase) + gone)
            del lst[:]
            lst.extend(keep)
            moved = True
    return moved
