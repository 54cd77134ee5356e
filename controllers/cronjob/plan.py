"""Pure parts of a CronJob sync (Kubernetes' cronjob_controllerv2.go):
reconciling ``status.active`` with the Jobs it owns, building a Job for a
scheduled time, and choosing the finished Jobs past the history limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from controllers.controllerref import owner_reference
from pinnace.api.batch.v1 import cronjob_pb2, job_pb2
from pinnace.api.core.v1 import reference_pb2
from pinnace.machinery.timeutil import format_rfc3339, parse_rfc3339
from pinnace.machinery.wellknown import (
    ANNOTATION_CRONJOB_SCHEDULED_TIMESTAMP,
    JOB_COMPLETE,
    JOB_FAILED,
)

# Requeue a little after the next time so it is surely due (nextScheduleDelta).
NEXT_SCHEDULE_DELTA = 0.1


def finished_type(job: job_pb2.Job) -> str | None:
    for c in job.status.conditions:
        if c.type in (JOB_COMPLETE, JOB_FAILED) and c.status == "True":
            return c.type
    return None


def reference(job: job_pb2.Job) -> reference_pb2.ObjectReference:
    meta = job.metadata
    return reference_pb2.ObjectReference(
        api_version="batch/v1",
        kind="Job",
        name=meta.name,
        namespace=meta.namespace,
        uid=meta.uid,
        resource_version=meta.resource_version,
    )


@dataclass
class Reconciled:
    """The active list as it should be, and what to tell the user."""

    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)
    missing: list[reference_pb2.ObjectReference] = field(default_factory=list)


def reconcile_active(status: cronjob_pb2.CronJobStatus, jobs: Sequence[job_pb2.Job]) -> Reconciled:
    """Update ``status`` in place: finished Jobs leave ``active`` (and set
    lastSuccessfulTime), running Jobs it owns but does not list join it.
    Listed Jobs absent from ``jobs`` are returned as ``missing`` for the
    caller to confirm with the API before dropping them."""
    out = Reconciled()
    by_uid = {j.metadata.uid: j for j in jobs}
    listed = {ref.uid for ref in status.active}
    for job in jobs:
        done = finished_type(job)
        if done is None and job.metadata.uid not in listed:
            status.active.append(reference(job))
            listed.add(job.metadata.uid)
        if done == JOB_COMPLETE and job.status.completion_time:
            if not status.last_successful_time or parse_rfc3339(
                job.status.completion_time
            ) > parse_rfc3339(status.last_successful_time):
                status.last_successful_time = job.status.completion_time
    keep = []
    for ref in status.active:
        active = by_uid.get(ref.uid)
        if active is None:
            out.missing.append(ref)
            keep.append(ref)
        elif finished_type(active) is not None:
            out.events.append(
                (
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {ref.name}, condition: {finished_type(active)}",
                )
            )
        else:
            keep.append(ref)
    del status.active[:]
    status.active.extend(keep)
    return out


def job_for(cj: cronjob_pb2.CronJob, name: str, scheduled: datetime) -> job_pb2.Job:
    """The Job to create for ``scheduled``: the jobTemplate's labels,
    annotations and spec, owned by the CronJob, with the scheduled-time
    annotation (in the schedule's zone)."""
    job = job_pb2.Job(api_version="batch/v1", kind="Job")
    tmpl = cj.spec.job_template
    job.metadata.name = name
    job.metadata.namespace = cj.metadata.namespace
    job.metadata.labels.update(tmpl.metadata.labels)
    job.metadata.annotations.update(tmpl.metadata.annotations)
    job.metadata.annotations[ANNOTATION_CRONJOB_SCHEDULED_TIMESTAMP] = scheduled.isoformat()
    job.metadata.owner_references.append(owner_reference(cj))
    job.spec.CopyFrom(tmpl.spec)
    return job


def history_victims(
    jobs: Sequence[job_pb2.Job], *, succeeded_limit: int | None, failed_limit: int | None
) -> list[job_pb2.Job]:
    """Finished Jobs beyond the history limits, oldest (by start time) first,
    separately for Complete and Failed."""
    victims: list[job_pb2.Job] = []
    for kind, limit in ((JOB_COMPLETE, succeeded_limit), (JOB_FAILED, failed_limit)):
        if limit is None:
            continue
        done = [j for j in jobs if finished_type(j) == kind]
        done.sort(key=lambda j: j.status.start_time or j.metadata.creation_timestamp)
        if len(done) > limit:
            victims += done[: len(done) - limit]
    return victims


def stamp(when: datetime) -> str:
    return format_rfc3339(when)
