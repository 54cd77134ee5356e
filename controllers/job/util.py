"""Constants and small pure helpers shared by the Job controller's modules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.timeutil import parse_rfc3339
from pinnace.machinery.wellknown import FINALIZER_JOB_TRACKING, JOB_COMPLETE, JOB_FAILED, POD_READY

COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
CONTROLLER_NAME = "kubernetes.io/job-controller"
# Kubernetes' MaxUncountedPods: at most this many uids per uncounted list.
MAX_UNCOUNTED_PODS = 500
# At most this many pods created or deleted per sync (Kubernetes' MaxPodCreateDeletePerSync).
MAX_POD_CREATE_DELETE_PER_SYNC = 500


def is_indexed(job: job_pb2.Job) -> bool:
    return job.spec.completion_mode == "Indexed"


def completions(job: job_pb2.Job) -> int | None:
    """spec.completions, or None for a work-queue job."""
    return job.spec.completions if job.spec.HasField("completions") else None


def parallelism(job: job_pb2.Job) -> int:
    return job.spec.parallelism if job.spec.HasField("parallelism") else 1


def is_suspended(job: job_pb2.Job) -> bool:
    return job.spec.HasField("suspend") and job.spec.suspend


def has_finalizer(pod: pod_pb2.Pod) -> bool:
    return FINALIZER_JOB_TRACKING in pod.metadata.finalizers


def condition(job: job_pb2.Job, kind: str) -> job_pb2.JobCondition | None:
    """The job's condition of ``kind`` if it is True."""
    cond = find_condition(job.status.conditions, kind)
    return cond if cond is not None and cond.status == "True" else None


def is_finished(job: Any) -> bool:
    """Complete or Failed is True: nothing more will happen to it."""
    return any(
        c.type in (JOB_COMPLETE, JOB_FAILED) and c.status == "True" for c in job.status.conditions
    )


def finish_time(pod: pod_pb2.Pod) -> datetime | None:
    """When a terminal pod finished: the latest container finishedAt, else
    the Ready condition's last transition."""
    latest: datetime | None = None
    for cs in (*pod.status.container_statuses, *pod.status.init_container_statuses):
        t = cs.state.terminated.finished_at if cs.state.HasField("terminated") else ""
        if t:
            when = parse_rfc3339(t)
            latest = when if latest is None or when > latest else latest
    if latest is None:
        ready = find_condition(pod.status.conditions, POD_READY)
        if ready is not None and ready.last_transition_time:
            latest = parse_rfc3339(ready.last_transition_time)
    return latest


def restarts(pod: pod_pb2.Pod) -> int:
    return sum(
        cs.restart_count
        for cs in (*pod.status.container_statuses, *pod.status.init_container_statuses)
    )
