"""The CronJob controller: creates a Job for each scheduled time.

Handlers: a CronJob event → its key; a Job event → the CronJob its
controllerRef names. ``sync(key)`` (never concurrent for one key):

1. reconcile ``status.active`` with the owned Jobs (finished ones leave,
   ``lastSuccessfulTime``; listed ones that are gone leave after an API get);
2. a CronJob being deleted, with a bad schedule or time zone (event), or
   suspended only gets its status written;
3. the single most recent unmet time is found (schedule.py); too late for
   ``startingDeadlineSeconds`` → MissSchedule; Forbid with an active Job →
   JobAlreadyActive (not marked scheduled: it may still start within the
   deadline); Replace deletes the active Jobs first;
4. the Job ``<name>-<unix minutes>`` is created (AlreadyExists: the lock),
   ``lastScheduleTime`` set; finished Jobs past the history limits deleted;
5. the status is written once, if changed, and the key requeued at the next
   schedule time (+100 ms).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from controllers.base import Controller, ControllerContext, key_of
from controllers.controllerref import controller_ref
from controllers.cronjob import schedule as cron
from controllers.cronjob.plan import (
    NEXT_SCHEDULE_DELTA,
    finished_type,
    history_victims,
    job_for,
    reconcile_active,
    reference,
    stamp,
)
from pinnace.api.batch.v1 import cronjob_pb2, job_pb2
from pinnace.client.informer import NAMESPACE_INDEX
from pinnace.machinery import errors
from pinnace.machinery.timeutil import parse_rfc3339


class CronJobController(Controller):
    name: ClassVar[str] = "cronjob"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)

    def setup(self) -> None:
        self.cronjobs = self.ctx.informer(cronjob_pb2.CronJob)
        self.jobs = self.ctx.informer(job_pb2.Job)
        self.cronjobs.add_handler(
            on_add=self.enqueue, on_update=lambda _o, c: self.enqueue(c), on_delete=self.enqueue
        )
        self.jobs.add_handler(
            on_add=self.job_changed,
            on_update=lambda _o, c: self.job_changed(c),
            on_delete=self.job_changed,
        )

    def job_changed(self, obj: Any) -> None:
        job = getattr(obj, "obj", obj)
        ref = controller_ref(job)
        if ref is None or ref.kind != "CronJob":
            return
        cj = self.cronjobs.store.get_by_name(job.metadata.namespace, ref.name)
        if cj is not None and cj.metadata.uid == ref.uid:
            self.enqueue(cj)

    def owned_jobs(self, cj: cronjob_pb2.CronJob) -> list[job_pb2.Job]:
        return [
            j
            for j in self.jobs.store.by_index(NAMESPACE_INDEX, cj.metadata.namespace)
            if (ref := controller_ref(j)) is not None and ref.uid == cj.metadata.uid
        ]

    async def sync(self, key: str) -> float | None:
        cached = self.cronjobs.store.get(key)
        if cached is None:
            return None
        cj = cronjob_pb2.CronJob()
        cj.CopyFrom(cached)
        jobs = self.owned_jobs(cj)
        status = cronjob_pb2.CronJobStatus()
        status.CopyFrom(cj.status)
        await self._reconcile(cj, status, jobs)
        requeue: float | None = None
        if not cj.metadata.deletion_timestamp:
            requeue = await self._schedule(cj, status)
            await self._cleanup(cj)
        if status != cj.status:
            cj.status.CopyFrom(status)
            await self.client.cron_jobs(cj.metadata.namespace).update_status(cj)
        return requeue

    async def _reconcile(self, cj: Any, status: Any, jobs: list[job_pb2.Job]) -> None:
        result = reconcile_active(status, jobs)
        for kind, reason, message in result.events:
            self.recorder.event(cj, kind, reason, message)
        for ref in result.missing:
            try:
                job = await self.client.jobs(cj.metadata.namespace).get(ref.name)
                if job.metadata.uid == ref.uid and finished_type(job) is None:
                    continue  # the cache is behind
            except errors.NotFound:
                pass
            self.recorder.event(cj, "Normal", "MissingJob", f"Active job went missing: {ref.name}")
            kept = [r for r in status.active if r.uid != ref.uid]
            del status.active[:]
            status.active.extend(kept)

    async def _schedule(self, cj: Any, status: Any) -> float | None:
        """Start the Job for the most recent unmet time; the delay to the next."""
        spec = cj.spec
        try:
            sched = cron.parse(
                spec.schedule, spec.time_zone if spec.HasField("time_zone") else None
            )
        except cron.ScheduleError as e:
            reason = "UnknownTimeZone" if "time zone" in str(e) else "InvalidSchedule"
            self.recorder.event(cj, "Warning", reason, f"invalid schedule {spec.schedule!r}: {e}")
            return None
        if spec.HasField("suspend") and spec.suspend:
            return None
        now = self.ctx.clock.now()
        earliest = (
            parse_rfc3339(status.last_schedule_time)
            if status.last_schedule_time
            else parse_rfc3339(cj.metadata.creation_timestamp)
        )
        deadline = (
            spec.starting_deadline_seconds if spec.HasField("starting_deadline_seconds") else None
        )
        missed = cron.most_recent(sched, earliest=earliest, now=now, starting_deadline=deadline)
        nxt = self._next_delay(sched, earliest, now)
        if nxt is None and missed is None:
            self.recorder.event(
                cj, "Warning", "InvalidSchedule", f"schedule {spec.schedule!r} never fires"
            )
        if missed is None:
            return nxt
        if missed.too_many:
            self.recorder.event(
                cj,
                "Warning",
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
            )
        scheduled = missed.time
        if (
            spec.HasField("starting_deadline_seconds")
            and (now - scheduled).total_seconds() > spec.starting_deadline_seconds
        ):
            self.recorder.event(
                cj,
                "Warning",
                "MissSchedule",
                f"Missed scheduled time to start a job: {scheduled.isoformat()}",
            )
            return nxt
        name = cron.job_name(cj.metadata.name, scheduled)
        if any(r.name == name for r in status.active) or status.last_schedule_time == stamp(
            scheduled
        ):
            return nxt
        if status.active and spec.concurrency_policy == "Forbid":
            self.recorder.event(
                cj,
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            )
            return nxt
        if status.active and spec.concurrency_policy == "Replace":
            await self._replace(cj, status)
        await self._create(cj, status, name, scheduled.astimezone(sched.zone))
        status.last_schedule_time = stamp(scheduled)
        return nxt

    def _next_delay(self, sched: cron.Schedule, earliest: datetime, now: datetime) -> float | None:
        """Seconds until just after the next scheduled time (None: never).

        As Kubernetes' nextScheduleTimeDuration: the time after the most
        recent one (startingDeadlineSeconds aside), else after ``earliest``;
        for an ``@every`` schedule that keeps the rhythm of its first run."""
        recent = cron.most_recent(sched, earliest=earliest, now=now, starting_deadline=None)
        nxt = sched.next_after(recent.time if recent else earliest)
        if nxt is None:
            return None
        return (nxt - now).total_seconds() + NEXT_SCHEDULE_DELTA

    async def _replace(self, cj: Any, status: Any) -> None:
        for ref in list(status.active):
            try:
                await self.client.jobs(cj.metadata.namespace).delete(
                    ref.name, propagation_policy="Background", uid=ref.uid
                )
            except errors.NotFound:
                pass
            self.recorder.event(cj, "Normal", "SuccessfulDelete", f"Deleted job {ref.name}")
        del status.active[:]

    async def _create(self, cj: Any, status: Any, name: str, scheduled: datetime) -> None:
        jobs = self.client.jobs(cj.metadata.namespace)
        try:
            made = await jobs.create(job_for(cj, name, scheduled))
        except errors.AlreadyExists:
            made = await jobs.get(name)
            ref = controller_ref(made)
            if ref is None or ref.uid != cj.metadata.uid:
                raise
            if finished_type(made) is None and all(
                r.uid != made.metadata.uid for r in status.active
            ):
                status.active.append(reference(made))
            return
        except errors.ApiError as e:
            self.recorder.event(cj, "Warning", "FailedCreate", f"Error creating job: {e.message}")
            raise
        self.recorder.event(cj, "Normal", "SuccessfulCreate", f"Created job {made.metadata.name}")
        status.active.append(reference(made))

    async def _cleanup(self, cj: Any) -> None:
        spec = cj.spec
        victims = history_victims(
            [j for j in self.owned_jobs(cj) if not j.metadata.deletion_timestamp],
            succeeded_limit=spec.successful_jobs_history_limit
            if spec.HasField("successful_jobs_history_limit")
            else None,
            failed_limit=spec.failed_jobs_history_limit
            if spec.HasField("failed_jobs_history_limit")
            else None,
        )
        for job in victims:
            try:
                await self.client.jobs(cj.metadata.namespace).delete(
                    job.metadata.name, propagation_policy="Background", uid=job.metadata.uid
                )
            except errors.NotFound:
                continue
            self.recorder.event(
                cj, "Normal", "SuccessfulDelete", f"Deleted job {job.metadata.name}"
            )


__all__ = ["CronJobController", "key_of"]
