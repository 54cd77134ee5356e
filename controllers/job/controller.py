"""The Job controller: informer wiring, handlers, and the sync of one key.

Handlers only map objects to Job keys: a Job event → its key; a pod event →
the Job its controllerRef names (if cached with that uid), or for an orphan
every Job whose selector matches it (to adopt it). A pod add is a creation
observed, a pod delete (or deletionTimestamp) a deletion observed. The sync
claims pods as every controller does (controllers/claim.py): matching
orphans are adopted with the tracking finalizer added, owned pods whose
labels stop matching are released.

``sync(key)`` re-reads the caches and runs the steps of sync.py's module
docstring. It keeps, per Job, the last status it wrote (the cache may lag
behind our own write; the newer resourceVersion wins) and the uids whose
tracking finalizer it removed (a stale cached pod is never counted twice).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from controllers.base import Controller, ControllerContext, key_of, split_key, unwrap
from controllers.claim import claim_pods
from controllers.controllerref import controller_ref
from controllers.expectations import Expectations
from controllers.job import backoff, indexed, tracking
from controllers.job import status as jobstatus
from controllers.job.plan import counts_of, index_failures, plan_pods, pod_counts
from controllers.job.sync import remove_finalizers
from controllers.job.util import CONTROLLER_NAME, has_finalizer, is_finished, is_suspended
from controllers.podcontrol import ApiPodControl, PodControl, slow_start_batch
from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.client.informer import NAMESPACE_INDEX
from pinnace.machinery import errors
from pinnace.machinery.conditions import is_true
from pinnace.machinery.labels import selector_from_label_selector
from pinnace.machinery.podutil import is_pod_active
from pinnace.machinery.timeutil import format_rfc3339
from pinnace.machinery.wellknown import (
    FINALIZER_JOB_TRACKING,
    JOB_FAILURE_TARGET,
    JOB_SUCCESS_CRITERIA_MET,
    JOB_SUSPENDED,
)


class JobController(Controller):
    """Runs every Job's pods to completion and keeps its status."""

    name: ClassVar[str] = "job"

    def __init__(self, ctx: ControllerContext, *, pod_control: PodControl | None = None) -> None:
        self.expectations = Expectations(clock=ctx.clock.monotonic)
        self.pod_control: PodControl = pod_control or ApiPodControl(ctx.client, ctx.recorder)
        opts = ctx.options
        self.backoff_base = float(
            getattr(opts, "job_pod_failure_backoff", None) or backoff.DEFAULT_BACKOFF
        )
        self.backoff_cap = float(
            getattr(opts, "job_pod_failure_backoff_max", None) or backoff.MAX_BACKOFF
        )
        self._written: dict[str, job_pb2.Job] = {}
        self._finalized: dict[str, set[str]] = {}
        super().__init__(ctx)

    # ---- wiring ----------------------------------------------------------------

    def setup(self) -> None:
        self.jobs = self.ctx.informer(job_pb2.Job)
        self.pods = self.ctx.informer(pod_pb2.Pod)
        self.jobs.add_handler(
            on_add=self.enqueue, on_update=self.update_job, on_delete=self.delete_job
        )
        self.pods.add_handler(
            on_add=self.add_pod, on_update=self.update_pod, on_delete=self.delete_pod
        )

    def update_job(self, old: Any, cur: Any) -> None:
        if old.metadata.uid != cur.metadata.uid:
            self.delete_job(old)
        self.enqueue(cur)

    def delete_job(self, obj: Any) -> None:
        key = key_of(obj)
        self.expectations.forget(key)
        self._written.pop(key, None)
        self._finalized.pop(key, None)
        self.queue.add(key)

    def add_pod(self, pod: pod_pb2.Pod) -> None:
        job = self.resolve(pod)
        if job is None:
            self._enqueue_adopters(pod)
            return
        key = key_of(job)
        if pod.metadata.deletion_timestamp:
            self.expectations.deletion_observed(key, pod.metadata.uid)
        else:
            self.expectations.creation_observed(key)
        self.queue.add(key)

    def update_pod(self, old: pod_pb2.Pod, cur: pod_pb2.Pod) -> None:
        if old.metadata.resource_version == cur.metadata.resource_version:
            return
        job = self.resolve(cur) or self.resolve(old)
        if job is None:
            self._enqueue_adopters(cur)
            return
        key = key_of(job)
        if cur.metadata.deletion_timestamp:
            self.expectations.deletion_observed(key, cur.metadata.uid)
        self.queue.add(key)

    def delete_pod(self, obj: Any) -> None:
        pod = unwrap(obj)
        job = self.resolve(pod)
        if job is None:
            return
        key = key_of(job)
        self.expectations.deletion_observed(key, pod.metadata.uid)
        self.queue.add(key)

    def _enqueue_adopters(self, pod: pod_pb2.Pod) -> None:
        """An orphan: wake every Job whose selector matches it."""
        if controller_ref(pod) is not None or pod.metadata.deletion_timestamp:
            return
        for job in self.jobs.store.by_index(NAMESPACE_INDEX, pod.metadata.namespace):
            if job.spec.HasField("selector") and selector_from_label_selector(
                job.spec.selector
            ).matches(pod.metadata.labels):
                self.queue.add(key_of(job))

    def resolve(self, pod: pod_pb2.Pod) -> job_pb2.Job | None:
        ref = controller_ref(pod)
        if ref is None or ref.kind != "Job":
            return None
        job = self.jobs.store.get_by_name(pod.metadata.namespace, ref.name)
        if job is None or job.metadata.uid != ref.uid:
            return None
        return job

    # ---- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        cached = self.jobs.store.get(key)
        if cached is None:
            self.expectations.forget(key)
            self._written.pop(key, None)
            self._finalized.pop(key, None)
            return None
        job = job_pb2.Job()
        job.CopyFrom(self._latest(key, cached))
        if job.spec.HasField("managed_by") and job.spec.managed_by != CONTROLLER_NAME:
            return None  # another controller's Job
        pods = await self.claim(job)
        skip = self._skip_set(key, pods)
        if is_finished(job):
            # Counted already: only let the pods go.
            left = [p for p in pods if has_finalizer(p) and p.metadata.uid not in skip]
            if left:
                await self._finalize(key, namespace=job.metadata.namespace, pods=left)
            return None
        return await self._sync_running(key, job, pods, skip)

    async def _sync_running(
        self, key: str, job: job_pb2.Job, pods: list[pod_pb2.Pod], skip: set[str]
    ) -> float | None:
        now = self.ctx.clock.now()
        found = tracking.classify(job, pods, skip=skip)
        status = tracking.with_uncounted(job, found)
        if found.changed:
            job = await self._write(key, job, status)  # phase 1: listed as uncounted
            status = job_pb2.JobStatus()
            status.CopyFrom(job.status)
        self._resume_or_start(job, status, now)
        verdict = jobstatus.interim(
            job, status, counts_of(status, pods), now=now, fail_job=found.fail_job_message
        )
        requeue: float | None = None
        deleted: list[pod_pb2.Pod] = []
        if verdict is not None:
            if jobstatus.set_condition(
                status, verdict.type, "True", verdict.reason, verdict.message, now
            ):
                self._verdict_event(job, verdict)
            deleted = await self._delete(
                key, job, [p for p in pods if is_pod_active(p)], count=True
            )
        elif is_suspended(job):
            if jobstatus.set_condition(
                status, JOB_SUSPENDED, "True", "JobSuspended", "Job suspended", now
            ):
                self.recorder.event(job, "Normal", "Suspended", "Job suspended")
            deleted = await self._delete(
                key, job, [p for p in pods if is_pod_active(p)], count=False
            )
        elif self.expectations.satisfied(key):
            requeue, deleted = await self._manage(key, job, status, pods, now)
        # phase 2 and 3: let counted pods go, move them into the counters
        to_finalize = tracking.pods_to_finalize(status, pods, found.finalize_only)
        failed_uids = await self._finalize(key, namespace=job.metadata.namespace, pods=to_finalize)
        tracking.flush_uncounted(status, failed_uids)
        active, ready, terminating = pod_counts(pods)
        gone = len([p for p in deleted if is_pod_active(p)])
        status.active, status.ready, status.terminating = (
            active - gone,
            max(0, ready - gone),
            terminating + gone,
        )
        if (
            verdict is not None
            and status.active == 0
            and status.terminating == 0
            and not (
                status.uncounted_terminated_pods.succeeded
                or status.uncounted_terminated_pods.failed
            )
        ):
            jobstatus.finish(status, verdict, now)
            if verdict.type == JOB_SUCCESS_CRITERIA_MET:
                self.recorder.event(job, "Normal", "Completed", "Job completed")
        if status != job.status:
            await self._write(key, job, status)
        if verdict is None and not is_suspended(job):
            left = jobstatus.past_deadline(job_with(job, status), now)
            if left is not None and left > 0:
                requeue = left if requeue is None else min(requeue, left)
        return requeue

    def _resume_or_start(self, job: job_pb2.Job, status: job_pb2.JobStatus, now: Any) -> None:
        if is_suspended(job):
            return
        suspended = is_true(status.conditions, JOB_SUSPENDED)
        if suspended:
            jobstatus.set_condition(
                status, JOB_SUSPENDED, "False", "JobResumed", "Job resumed", now
            )
            self.recorder.event(job, "Normal", "Resumed", "Job resumed")
            status.start_time = format_rfc3339(now)  # the deadline starts again
        elif not status.start_time:
            status.start_time = format_rfc3339(now)

    def _verdict_event(self, job: job_pb2.Job, verdict: jobstatus.Verdict) -> None:
        if verdict.type == JOB_FAILURE_TARGET:
            self.recorder.event(job, "Warning", verdict.reason, verdict.message)

    async def _manage(
        self,
        key: str,
        job: job_pb2.Job,
        status: job_pb2.JobStatus,
        pods: list[pod_pb2.Pod],
        now: datetime,
    ) -> tuple[float | None, list[pod_pb2.Pod]]:
        plan = plan_pods(
            job, status, pods, now=now, backoff_base=self.backoff_base, backoff_cap=self.backoff_cap
        )
        if plan.delete:
            return plan.requeue, await self._delete(key, job, plan.delete, count=False)
        if plan.create:
            await self._create(key, job, pods, plan.create)
        return plan.requeue, []

    async def _create(
        self, key: str, job: job_pb2.Job, pods: list[pod_pb2.Pod], indexes: list[int | None]
    ) -> None:
        self.expectations.expect_creations(key, len(indexes))
        per_index = job.spec.HasField("backoff_limit_per_index")

        def mutate_for(ix: int | None) -> Any:
            def mutate(pod: pod_pb2.Pod) -> None:
                pod.metadata.finalizers.append(FINALIZER_JOB_TRACKING)
                if ix is not None:
                    indexed.decorate_pod(
                        pod,
                        job_name=job.metadata.name,
                        index=ix,
                        failures=index_failures(pods, ix) if per_index else None,
                    )

            return mutate

        async def create(i: int) -> None:
            ix = indexes[i]
            await self.pod_control.create_pod(
                job.metadata.namespace,
                job.spec.template,
                job,
                generate_name=f"{job.metadata.name}-{ix}-" if ix is not None else "",
                mutate=mutate_for(ix),
            )

        done, err = await slow_start_batch(len(indexes), create)
        for _ in range(len(indexes) - done):
            self.expectations.creation_observed(key)
        if err is not None:
            raise err

    async def _delete(
        self, key: str, job: job_pb2.Job, victims: list[pod_pb2.Pod], *, count: bool
    ) -> list[pod_pb2.Pod]:
        """Delete pods; unless ``count``, their tracking finalizer goes first
        so they are never counted (suspend, scale-down, duplicates)."""
        if not victims:
            return []
        self.expectations.expect_deletions(key, [p.metadata.uid for p in victims])
        if not count:
            await self._finalize(
                key, namespace=job.metadata.namespace, pods=[p for p in victims if has_finalizer(p)]
            )
        deleted = []
        failures: list[Exception] = []
        for pod in victims:
            try:
                await self.pod_control.delete_pod(
                    pod.metadata.namespace, pod.metadata.name, job, uid=pod.metadata.uid
                )
                deleted.append(pod)
            except Exception as e:
                self.expectations.deletion_observed(key, pod.metadata.uid)
                failures.append(e)
        errors.raise_aggregate(failures)
        return deleted

    async def _finalize(self, key: str, *, namespace: str, pods: list[pod_pb2.Pod]) -> set[str]:
        if not pods:
            return set()
        failed = await remove_finalizers(self.client.pods(namespace).patch, pods)
        self._finalized.setdefault(key, set()).update(
            p.metadata.uid for p in pods if p.metadata.uid not in failed
        )
        return failed

    async def _write(self, key: str, job: job_pb2.Job, status: job_pb2.JobStatus) -> job_pb2.Job:
        out = job_with(job, status)
        written = await self.client.jobs(job.metadata.namespace).update_status(out)
        self._written[key] = written
        return written

    # ---- cache views ---------------------------------------------------------------

    def _latest(self, key: str, cached: job_pb2.Job) -> job_pb2.Job:
        """The cached Job, or our own last write if the cache has not seen it yet."""
        mine = self._written.get(key)
        if mine is None or mine.metadata.uid != cached.metadata.uid:
            self._written.pop(key, None)
            return cached
        if _rv(mine) > _rv(cached):
            return mine
        self._written.pop(key, None)
        return cached

    def _skip_set(self, key: str, pods: list[pod_pb2.Pod]) -> set[str]:
        """Uids whose finalizer we removed and the cache still shows."""
        removed = self._finalized.get(key)
        if not removed:
            return set()
        still = {p.metadata.uid for p in pods if has_finalizer(p)}
        removed &= still
        return set(removed)

    async def claim(self, job: job_pb2.Job) -> list[pod_pb2.Pod]:
        """The Job's pods after adopting matching orphans (with the tracking
        finalizer, so they are counted exactly once) and releasing owned pods
        whose labels no longer match. A finished Job adopts nothing."""
        if is_finished(job) or not job.spec.HasField("selector"):
            return self.owned_pods(job)
        ns, name = job.metadata.namespace, job.metadata.name
        pods = self.ctx.client.pods(ns)
        return await claim_pods(
            job,
            self.pods.store.by_index(NAMESPACE_INDEX, ns),
            selector=selector_from_label_selector(job.spec.selector),
            patch_pod=lambda pod_name, patch: pods.patch(pod_name, patch),
            recheck_owner=lambda: self.ctx.client.jobs(ns).get(name),
            adopt_finalizers=(FINALIZER_JOB_TRACKING,),
        )

    def owned_pods(self, job: job_pb2.Job) -> list[pod_pb2.Pod]:
        _, _ = split_key(key_of(job))
        uid = job.metadata.uid
        return [
            p
            for p in self.pods.store.by_index(NAMESPACE_INDEX, job.metadata.namespace)
            if (ref := controller_ref(p)) is not None and ref.uid == uid
        ]


def job_with(job: job_pb2.Job, status: job_pb2.JobStatus) -> job_pb2.Job:
    out = job_pb2.Job()
    out.CopyFrom(job)
    out.status.CopyFrom(status)
    return out


def _rv(obj: Any) -> int:
    text = obj.metadata.resource_version
    return int(text) if text.isdigit() else 0
