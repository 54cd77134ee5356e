"""Deletes finished Jobs ``ttlSecondsAfterFinished`` after they finished.

Only Jobs with a TTL, a Complete or Failed condition and no
deletionTimestamp are handled. The finish time is the terminal condition's
lastTransitionTime; a Job not yet expired is requeued for the remaining
time through the work queue's ``add_after`` (a timer per Job, precise to
the scheduling of the event loop, not a polling loop). Before deleting, the
Job is read again from the API (the TTL is mutable) and the check repeated;
the delete uses Foreground propagation (its pods go first) and a uid
precondition (a re-created namesake is never deleted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from controllers.base import Controller, split_key
from pinnace.api.batch.v1 import job_pb2
from pinnace.machinery import errors
from pinnace.machinery.timeutil import parse_rfc3339
from pinnace.machinery.wellknown import JOB_COMPLETE, JOB_FAILED


def finish_time(job: job_pb2.Job) -> datetime | None:
    for c in job.status.conditions:
        if c.type in (JOB_COMPLETE, JOB_FAILED) and c.status == "True" and c.last_transition_time:
            return parse_rfc3339(c.last_transition_time)
    return None


def needs_cleanup(job: job_pb2.Job) -> bool:
    return (
        job.spec.HasField("ttl_seconds_after_finished")
        and not job.metadata.deletion_timestamp
        and finish_time(job) is not None
    )


def time_left(job: job_pb2.Job, now: datetime) -> float | None:
    """Seconds until the Job expires (<= 0: expired); None if it never does.
    A finish time in the future (clock skew) waits for it."""
    if not needs_cleanup(job):
        return None
    finished = finish_time(job)
    assert finished is not None
    expire = finished.timestamp() + job.spec.ttl_seconds_after_finished
    return expire - now.timestamp()


class TTLAfterFinishedController(Controller):
    name: ClassVar[str] = "ttl-after-finished"

    def setup(self) -> None:
        self.jobs = self.ctx.informer(job_pb2.Job)
        self.jobs.add_handler(on_add=self.job_changed, on_update=lambda _o, c: self.job_changed(c))

    def job_changed(self, job: Any) -> None:
        if needs_cleanup(job):
            self.enqueue(job)

    async def sync(self, key: str) -> float | None:
        job = self.jobs.store.get(key)
        if job is None:
            return None
        left = time_left(job, self.ctx.clock.now())
        if left is None:
            return None
        if left > 0:
            return left
        namespace, name = split_key(key)
        client = self.client.jobs(namespace)
        try:
            fresh = await client.get(name)  # the TTL may have changed
        except errors.NotFound:
            return None
        left = time_left(fresh, self.ctx.clock.now())
        if left is None or fresh.metadata.uid != job.metadata.uid:
            return None
        if left > 0:
            return left
        self.log.info(
            "deleting job %s: finished more than %ss ago",
            key,
            fresh.spec.ttl_seconds_after_finished,
        )
        try:
            await client.delete(name, propagation_policy="Foreground", uid=fresh.metadata.uid)
        except (errors.NotFound, errors.Conflict):
            pass
        return None
