"""The Job's conditions and counters, computed purely (Kubernetes'
syncJob status part, after 1.31).

A Job that meets its success criteria first gets ``SuccessCriteriaMet``, a
failing one ``FailureTarget``; its remaining pods are then terminated, and
only once no pod of it is running or terminating (and every finished pod
is counted) does it get the terminal ``Complete`` (with ``completionTime``)
or ``Failed`` condition with the same reason. Failures take precedence
over success: a FailJob rule, then too many failed indexes, then the
backoff limit, then the active deadline, then failed indexes; success is a
met successPolicy rule or the completions reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from controllers.job import indexed, success_policy
from controllers.job.util import completions, condition, is_indexed, is_suspended, parallelism
from pinnace.api.batch.v1 import job_pb2
from pinnace.machinery import conditions
from pinnace.machinery.timeutil import format_rfc3339, parse_rfc3339
from pinnace.machinery.wellknown import (
    JOB_COMPLETE,
    JOB_FAILED,
    JOB_FAILURE_TARGET,
    JOB_SUCCESS_CRITERIA_MET,
    JOB_SUSPENDED,
)

BACKOFF_LIMIT_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")
FAILED_INDEXES = ("FailedIndexes", "Job has failed indexes")
MAX_FAILED_INDEXES_EXCEEDED = (
    "MaxFailedIndexesExceeded",
    "Job has exceeded the specified maximal number of failed indexes",
)
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")


@dataclass(frozen=True)
class Counts:
    """What the sync saw: counters include uncounted pods; ``restarts`` are
    container restarts of active pods (they count as failures under OnFailure)."""

    succeeded: int
    failed: int
    active: int
    restarts: int = 0


@dataclass(frozen=True)
class Verdict:
    type: str  # FailureTarget or SuccessCriteriaMet
    reason: str
    message: str


def past_deadline(job: job_pb2.Job, now: datetime) -> float | None:
    """Seconds left before activeDeadlineSeconds (<= 0: past), None if no deadline applies."""
    if not job.spec.HasField("active_deadline_seconds") or not job.status.start_time:
        return None
    started = parse_rfc3339(job.status.start_time)
    return job.spec.active_deadline_seconds - (now - started).total_seconds()


def interim(
    job: job_pb2.Job, status: job_pb2.JobStatus, counts: Counts, *, now: datetime, fail_job: str
) -> Verdict | None:
    """The interim condition the Job should carry (an existing one is kept)."""
    for kind in (JOB_FAILURE_TARGET, JOB_SUCCESS_CRITERIA_MET):
        c = conditions.find_condition(status.conditions, kind)
        if c is not None and c.status == "True":
            return Verdict(kind, c.reason, c.message)
    if fail_job:
        return Verdict(JOB_FAILURE_TARGET, "PodFailurePolicy", fail_job)
    n = completions(job)
    per_index = job.spec.HasField("backoff_limit_per_index")
    failed_ix = indexed.parse_indexes(status.failed_indexes, n) if per_index else set()
    if per_index and job.spec.HasField("max_failed_indexes"):
        if len(failed_ix) > job.spec.max_failed_indexes:
            return Verdict(JOB_FAILURE_TARGET, *MAX_FAILED_INDEXES_EXCEEDED)
    if not per_index:
        failures = counts.failed
        if job.spec.template.spec.restart_policy == "OnFailure":
            failures += counts.restarts
        if failures > job.spec.backoff_limit:
            return Verdict(JOB_FAILURE_TARGET, *BACKOFF_LIMIT_EXCEEDED)
    left = None if is_suspended(job) else past_deadline(job, now)
    if left is not None and left <= 0:
        return Verdict(JOB_FAILURE_TARGET, *DEADLINE_EXCEEDED)
    completed_ix = indexed.parse_indexes(status.completed_indexes, n) if is_indexed(job) else set()
    if per_index and failed_ix and n is not None and len(failed_ix | completed_ix) >= n:
        return Verdict(JOB_FAILURE_TARGET, *FAILED_INDEXES)
    message = success_policy.met(job, completed_ix)
    if message is not None:
        return Verdict(JOB_SUCCESS_CRITERIA_MET, success_policy.REASON, message)
    if _completions_reached(job, counts, completed_ix):
        return Verdict(JOB_SUCCESS_CRITERIA_MET, *COMPLETIONS_REACHED)
    return None


def _completions_reached(job: job_pb2.Job, counts: Counts, completed_ix: set[int]) -> bool:
    n = completions(job)
    if is_indexed(job):
        return n is not None and len(completed_ix) >= n
    if n is None:  # a work queue: one success and nothing else running
        return counts.succeeded > 0 and counts.active == 0
    return counts.succeeded >= n


def set_condition(
    status: job_pb2.JobStatus, kind: str, value: str, reason: str, message: str, now: datetime
) -> bool:
    """Add or update a condition in place (lastProbeTime now; lastTransitionTime
    now only when the status changes); returns whether anything changed."""
    stamp = format_rfc3339(now)
    cond = job_pb2.JobCondition(
        type=kind,
        status=value,
        reason=reason,
        message=message,
        last_probe_time=stamp,
        last_transition_time=stamp,
    )
    return conditions.set_condition(status.conditions, cond)


def finish(status: job_pb2.JobStatus, verdict: Verdict, now: datetime) -> None:
    """Turn the interim verdict into the terminal condition (in place); all
    pods are terminal and counted."""
    if verdict.type == JOB_SUCCESS_CRITERIA_MET:
        set_condition(status, JOB_COMPLETE, "True", verdict.reason, verdict.message, now)
        status.completion_time = format_rfc3339(now)
    else:
        set_condition(status, JOB_FAILED, "True", verdict.reason, verdict.message, now)
    status.active = 0
    status.ready = 0
    status.terminating = 0


def wanted_active(job: job_pb2.Job, succeeded: int, active: int) -> int:
    """How many pods a NonIndexed Job should be running now."""
    n = completions(job)
    if n is None:  # a work queue: after the first success no new pods
        return min(active, parallelism(job)) if succeeded > 0 else parallelism(job)
    return max(0, min(parallelism(job), n - succeeded))


def was_suspended(job: job_pb2.Job) -> bool:
    return condition(job, JOB_SUSPENDED) is not None
