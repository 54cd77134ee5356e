"""``PodWorker``: the task that drives one pod, and its level-triggered sync.

``update(pod)`` hands the worker the newest API object (None when the pod
is gone from the API) and wakes it. The task loops on ``sync()``, which
looks at the pod and at every container's instance and decides what to do
now, from scratch, each time (the steps are listed in the package
docstring). ``sync()`` returns how long the worker may sleep at most (the
next restart, the deadline, ...); any change (an exit, a probe result, a
new pod object) wakes it earlier.

A sync that fails (an error, or a pod whose volumes cannot be set up yet:
``SyncError``) is retried after a per-pod back-off, ``--sync-retry-base``
(0.5 s) doubling to ``--sync-retry-max`` (10 s, the kubelet's own pod
worker back-off period), and a sync that succeeds resets it: 0.5, 1, 2, 4,
8, 10, 10, ... s, never a hot loop. A wake (a new pod object, an exit)
still syncs at once.

``stop()`` ends the task on kubelet shutdown and leaves the containers
running: the next kubelet re-adopts them (readopt.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from kubelet.admission import Rejection
from kubelet.context import Context
from kubelet.env import Environment
from kubelet.podworker.containers import sync_containers
from kubelet.podworker.prepare import prepare
from kubelet.podworker.readopt import readopt
from kubelet.podworker.report import views, write_status
from kubelet.podworker.sandbox import setup_sandbox
from kubelet.podworker.state import ContainerState, PodState
from kubelet.podworker.stopping import sync_gone, sync_stopping
from kubelet.status import PodOutcome, Waiting
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import errors
from pinnace.machinery.backoff import Backoff
from pinnace.machinery.timeutil import format_rfc3339, parse_rfc3339

__all__ = ["PodWorker", "SyncError"]

log = logging.getLogger(__name__)


class SyncError(Exception):
    """A sync that could not do its work (reported already); retried with back-off."""


class PodWorker:
    """Drives one pod (see the module docstring)."""

    def __init__(
        self,
        ctx: Context,
        pod: pod_pb2.Pod,
        *,
        rejection: Rejection | None = None,
        on_done: Callable[[str], None] | None = None,
    ) -> None:
        self.state = PodState.new(ctx, pod, rejection=rejection, wake=self.wake)
        cfg = ctx.config
        self.retry = Backoff(cfg.sync_retry_base, cfg.sync_retry_max, clock=ctx.clock.monotonic)
        self._wake = asyncio.Event()
        self._on_done = on_done
        self.task: asyncio.Task[None] | None = None

    # ---- what the pod manager and the kubelet server read ------------------------------

    @property
    def uid(self) -> str:
        return self.state.uid

    @property
    def key(self) -> str:
        return self.state.key

    @property
    def last_pod(self) -> pod_pb2.Pod:
        """The newest object seen (kept after the pod is gone from the API)."""
        return self.state.last_pod

    @property
    def containers(self) -> dict[str, ContainerState]:
        return self.state.containers

    @property
    def done(self) -> bool:
        return self.state.done

    @property
    def active(self) -> bool:
        """Counts against the node's resources (admitted and not finished)."""
        ps = self.state
        return ps.rejection is None and not ps.terminal and not ps.done

    def environment(self, cs: ContainerState) -> Environment:
        """What an exec session in the container runs with (state.py)."""
        return self.state.environment(cs)

    # ---- wiring ------------------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"pod-{self.key}")

    def update(self, pod: pod_pb2.Pod | None) -> None:
        """The newest API object (None: the pod was deleted from the API)."""
        self.state.update(pod)

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop the worker task (kubelet shutdown); containers keep running."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        for cs in self.containers.values():
            cs.cancel_tasks()

    async def _run(self) -> None:
        try:
            while True:
                self._wake.clear()
                delay = await self.run_once()
                if self.done:
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
        finally:
            if self.done and self._on_done is not None:
                self._on_done(self.uid)

    async def run_once(self) -> float:
        """One sync; how long to sleep after it (see the module docstring)."""
        try:
            delay = await self.sync()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.retry.next(self.uid)
            retry = self.retry.get(self.uid)
            if isinstance(e, (SyncError, errors.ApiError)):
                # Expected: a container that cannot start yet, the apiserver
                # away or a stale write (the next sync reads afresh).
                log.warning("pod %s: %s; retrying in %gs", self.key, e, retry)
            else:
                log.exception("pod %s: sync failed; retrying in %gs", self.key, retry)
            return retry
        self.retry.reset(self.uid)
        return delay

    # ---- sync --------------------------------------------------------------------------

    async def sync(self) -> float:
        """One level-triggered pass; returns the longest time to sleep."""
        ps = self.state
        if not ps.loaded:
            await readopt(ps)
        pod = ps.pod
        if pod is None:
            return await sync_gone(ps)
        if ps.rejection is not None:
            rejected = PodOutcome(
                phase="Failed", reason=ps.rejection.reason, message=ps.rejection.message
            )
            await write_status(ps, [], [], rejected)
            return ps.resync * 6
        if not ps.start_time:
            ps.start_time = format_rfc3339(ps.ctx.clock.now())
        if not ps.prepared and not ps.terminal:
            error = await prepare(ps, pod)
            if error:
                ps.event("Warning", "FailedMount", error)
                for cs in ps.containers.values():
                    cs.waiting = Waiting("ContainerCreating", error)
                await write_status(ps, *views(ps))
                raise SyncError(f"setting up the pod failed: {error}")
        if not ps.sandboxed and not ps.terminal and not pod.metadata.deletion_timestamp:
            error = await setup_sandbox(ps, pod)
            if error:
                ps.event(
                    "Warning", "FailedCreatePodSandBox", f"Failed to create pod sandbox: {error}"
                )
                for cs in ps.containers.values():
                    cs.waiting = Waiting("ContainerCreating", error)
                await write_status(ps, *views(ps))
                raise SyncError(f"creating the pod sandbox failed: {error}")
        deadline_in = self._deadline_remaining(pod)
        if deadline_in is not None and deadline_in <= 0 and ps.outcome is None and not ps.terminal:
            ps.outcome = PodOutcome(
                phase="Failed",
                reason="DeadlineExceeded",
                message="Pod was active on the node longer than the specified deadline",
            )
            ps.event("Normal", "DeadlineExceeded", ps.outcome.message)
        stopping = bool(pod.metadata.deletion_timestamp) or ps.outcome is not None
        if stopping or ps.terminal:
            return await sync_stopping(ps, pod)
        delay = await sync_containers(ps, pod)
        await write_status(ps, *views(ps))
        if deadline_in is not None:
            delay = min(delay, max(deadline_in, 0.05))
        return delay

    def _deadline_remaining(self, pod: pod_pb2.Pod) -> float | None:
        """Seconds until activeDeadlineSeconds (counted from the start time) is up."""
        if not pod.spec.HasField("active_deadline_seconds") or not self.state.start_time:
            return None
        started = parse_rfc3339(self.state.start_time).timestamp()
        now = self.state.ctx.clock.now().timestamp()
        return started + pod.spec.active_deadline_seconds - now
