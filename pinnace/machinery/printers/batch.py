"""Printers of Job and CronJob (Kubernetes' printJob and printCronJob).

A Job's STATUS is the first that holds of: Complete, Failed, being deleted
(Terminating), Suspended, FailureTarget; else Running. COMPLETIONS is
``succeeded/completions``, or for a work queue (no completions)
``succeeded/1 of parallelism`` when parallelism > 1, else ``succeeded/1``.
DURATION runs from startTime to completionTime, or to now while running.
"""

from __future__ import annotations

from datetime import datetime

from pinnace.api.batch.v1 import cronjob_pb2, job_pb2
from pinnace.machinery.printers.columns import (
    AGE,
    CONTAINERS,
    IMAGES,
    NAME,
    Cell,
    Printer,
    age,
    column,
    containers_and_images,
    format_label_selector,
    human_duration,
    parse_time,
    since,
)
from pinnace.machinery.wellknown import JOB_COMPLETE, JOB_FAILED, JOB_FAILURE_TARGET, JOB_SUSPENDED

__all__ = ["CRON_JOB", "JOB"]


def _has_condition(job: job_pb2.Job, type: str) -> bool:
    """hasJobCondition: the first condition of ``type`` decides."""
    for cond in job.status.conditions:
        if cond.type == type:
            return cond.status == "True"
    return False


def _job_status(job: job_pb2.Job) -> str:
    if _has_condition(job, JOB_COMPLETE):
        return "Complete"
    if _has_condition(job, JOB_FAILED):
        return "Failed"
    if job.metadata.deletion_timestamp:
        return "Terminating"
    if _has_condition(job, JOB_SUSPENDED):
        return "Suspended"
    if _has_condition(job, JOB_FAILURE_TARGET):
        return "FailureTarget"
    return "Running"


def _completions(job: job_pb2.Job) -> str:
    spec, succeeded = job.spec, job.status.succeeded
    if spec.HasField("completions"):
        return f"{succeeded}/{spec.completions}"
    if spec.parallelism > 1:
        return f"{succeeded}/1 of {spec.parallelism}"
    return f"{succeeded}/1"


def _duration(job: job_pb2.Job, now: datetime) -> str:
    started = parse_time(job.status.start_time)
    if started is None:
        return ""
    completed = parse_time(job.status.completion_time)
    return human_duration(((completed or now) - started).total_seconds())


def _job_cells(job: job_pb2.Job, now: datetime) -> list[Cell]:
    names, images = containers_and_images(job.spec.template.spec.containers)
    selector = job.spec.selector if job.spec.HasField("selector") else None
    return [
        job.metadata.name,
        _job_status(job),
        _completions(job),
        _duration(job, now),
        age(job, now),
        names,
        images,
        format_label_selector(selector),
    ]


JOB = Printer(
    columns=(
        NAME,
        column("Status", doc="Status of the job."),
        column("Completions", doc="JobStatus.succeeded"),
        column("Duration", doc="Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", doc="JobSpec.selector", priority=1),
    ),
    cells=_job_cells,
)


def _cron_job_cells(cj: cronjob_pb2.CronJob, now: datetime) -> list[Cell]:
    spec = cj.spec
    job_spec = spec.job_template.spec
    names, images = containers_and_images(job_spec.template.spec.containers)
    last = cj.status.last_schedule_time
    suspend = ("True" if spec.suspend else "False") if spec.HasField("suspend") else "<unset>"
    return [
        cj.metadata.name,
        spec.schedule,
        spec.time_zone if spec.HasField("time_zone") else "<none>",
        suspend,
        len(cj.status.active),
        since(last, now) if last else "<none>",
        age(cj, now),
        names,
        images,
        format_label_selector(job_spec.selector if job_spec.HasField("selector") else None),
    ]


CRON_JOB = Printer(
    columns=(
        NAME,
        column("Schedule", doc="CronJobSpec.schedule"),
        column("Timezone", doc="CronJobSpec.timeZone"),
        column("Suspend", "boolean", "CronJobSpec.suspend"),
        column("Active", "integer", "CronJobStatus.active"),
        column("Last Schedule", doc="CronJobStatus.lastScheduleTime"),
        AGE,
        CONTAINERS,
        IMAGES,
        column("Selector", doc="JobSpec.selector", priority=1),
    ),
    cells=_cron_job_cells,
)
