"""One pod worker per pod bound to this node: one asyncio task that drives the
pod's whole life on the node.

``PodWorker.update(pod)`` hands it the newest API object (None when the pod
is gone from the API) and wakes it. The task loops on ``sync()``, which is
level triggered: it looks at the pod and at every container's instance and
decides what to do now, from scratch, each time:

1. The pod is gone from the API: stop whatever runs, remove the pod
   directory, end.
2. Rejected at admission: write phase Failed once, run nothing.
3. Set up the pod directory and volumes (retried on failure).
4. Stopping (deletionTimestamp set, activeDeadlineSeconds exceeded): run
   preStop, SIGTERM, SIGKILL after the grace period, for every running
   container; once all have stopped, write the terminal phase and, for a
   deletion, delete the pod with grace 0 (uid precondition).
5. Otherwise init containers one by one (each must exit 0), then every
   container; exited containers restart as restartPolicy says, after the
   CrashLoopBackOff delay; a liveness or startup probe failure kills the
   container, which then restarts (or not) by the same rule.
6. Compute the status (status.py) and write it if it changed.

``sync()`` returns how long it may sleep at most (the next restart, the
deadline, ...); any change (an exit, a probe result, a new pod object)
wakes it earlier. Nothing here blocks the event loop: processes are
watched through pidfds, and file-system work that may be slow runs in a
thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubelet import env as envmod
from kubelet import logs as logmod
from kubelet.admission import Rejection
from kubelet.context import Context
from kubelet.paths import PathError, PodPaths, inside
from kubelet.probes import ProbeWorker, Result, run_handler
from kubelet.runtime import Instance, LaunchSpec
from kubelet.status import (
    TERMINAL,
    ContainerView,
    PodOutcome,
    Terminated,
    Waiting,
    compute_pod_status,
    init_state,
    pod_phase,
    status_equal,
)
from kubelet.volumes import VolumeError, resolve_claims, setup_volumes
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import errors
from pinnace.machinery.backoff import Backoff
from pinnace.machinery.timeutil import format_rfc3339, parse_rfc3339

__all__ = ["PodWorker"]

log = logging.getLogger(__name__)

MIN_KILL_GRACE = 2  # seconds; Kubernetes' minimumGracePeriodInSeconds
DEFAULT_GRACE = 30
IDLE_RESYNC = 10.0
RETRY_DELAY = 1.0
TERMINATION_LOG_LINES = 80
TERMINATION_MESSAGE_MAX = 4096


def _now() -> str:
    return format_rfc3339(datetime.now(UTC))


@dataclass
class ContainerState:
    """The kubelet's view of one container of the pod."""

    spec: Any
    init: bool
    instance: Instance | None = None
    previous: Instance | None = None
    waiting: Waiting | None = None  # why it is not running (config error, back-off)
    started: bool = False  # startup probe passed (or none)
    ready: bool = False
    post_start_done: bool = True
    exited_mono: float = 0.0  # monotonic time the current instance was seen exiting
    restart_counted: float | None = None  # the exited_mono whose restart the backoff counted
    tasks: list[asyncio.Task] = field(default_factory=list)  # watcher and probes
    probes: dict[str, ProbeWorker] = field(default_factory=dict)
    killing: asyncio.Task | None = None
    kill_reason: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def running(self) -> bool:
        return self.instance is not None and self.instance.exit is None

    @property
    def restart_count(self) -> int:
        return self.instance.attempt if self.instance is not None else 0


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
        self.ctx = ctx
        self.uid = pod.metadata.uid
        self.pod: pod_pb2.Pod | None = pod
        self.last_pod = pod  # the newest object seen, kept after the pod is gone
        self.rejection = rejection
        self.paths: PodPaths = ctx.paths.pod(self.uid)
        self.backoff = Backoff(ctx.config.backoff_base, ctx.config.backoff_max)
        self._wake = asyncio.Event()
        self._on_done = on_done
        self._prepared = False
        self._loaded = False
        self._outcome: PodOutcome | None = None  # DeadlineExceeded once decided
        self._deleted_sent = False
        self._start_time = pod.status.start_time
        self.containers: dict[str, ContainerState] = {}
        for c in pod.spec.init_containers:
            self.containers[c.name] = ContainerState(c, True)
        for c in pod.spec.containers:
            self.containers[c.name] = ContainerState(c, False)
        self.task: asyncio.Task | None = None
        self.done = False

    # ---- wiring ----------------------------------------------------------------

    @property
    def key(self) -> str:
        return f"{self.last_pod.metadata.namespace}/{self.last_pod.metadata.name}"

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"pod-{self.key}")

    def update(self, pod: pod_pb2.Pod | None) -> None:
        """The newest API object (None: the pod was deleted from the API)."""
        if pod is not None:
            if self.pod is not None and _rv(pod) < _rv(self.pod):
                return
            self.last_pod = pod
        self.pod = pod
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    @property
    def terminal(self) -> bool:
        return self.last_pod.status.phase in TERMINAL

    @property
    def active(self) -> bool:
        """Counts against the node's resources (admitted and not finished)."""
        return self.rejection is None and not self.terminal and not self.done

    async def stop(self) -> None:
        """Stop the worker task (kubelet shutdown); containers keep running."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self._cancel_all_tasks()

    def _cancel_all_tasks(self) -> None:
        for cs in self.containers.values():
            for t in cs.tasks:
                t.cancel()
            cs.tasks.clear()
            if cs.killing is not None:
                cs.killing.cancel()

    async def _run(self) -> None:
        try:
            while True:
                self._wake.clear()
                try:
                    delay = await self.sync()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("pod %s: sync failed; retrying", self.key)
                    delay = RETRY_DELAY
                if self.done:
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
        finally:
            if self.done and self._on_done is not None:
                self._on_done(self.uid)

    def event(self, type_: str, reason: str, message: str) -> None:
        try:
            self.ctx.recorder.event(self.last_pod, type_, reason, message)
        except Exception:
            log.exception("pod %s: recording event %s failed", self.key, reason)

    # ---- sync -------------------------------------------------------------------

    async def sync(self) -> float:
        """One level-triggered pass; returns the longest time to sleep."""
        if not self._loaded:
            self._load()
        pod = self.pod
        if pod is None:
            return await self._sync_gone()
        if self.rejection is not None:
            await self._write_status(
                [],
                [],
                PodOutcome(
                    phase="Failed", reason=self.rejection.reason, message=self.rejection.message
                ),
            )
            return IDLE_RESYNC * 6
        if not self._start_time:
            self._start_time = _now()
        if not self._prepared and not self.terminal:
            error = await self._prepare(pod)
            if error:
                self.event("Warning", "FailedMount", error)
                for cs in self.containers.values():
                    cs.waiting = Waiting("ContainerCreating", error)
                await self._write_status(*self._views())
                return RETRY_DELAY * 2
        deadline_in = self._deadline_remaining(pod)
        if (
            deadline_in is not None
            and deadline_in <= 0
            and self._outcome is None
            and not self.terminal
        ):
            self._outcome = PodOutcome(
                phase="Failed",
                reason="DeadlineExceeded",
                message="Pod was active on the node longer than the specified deadline",
            )
            self.event("Normal", "DeadlineExceeded", self._outcome.message)
        stopping = bool(pod.metadata.deletion_timestamp) or self._outcome is not None
        if stopping or self.terminal:
            return await self._sync_stopping(pod)
        delay = self._sync_containers(pod)
        await self._write_status(*self._views())
        if deadline_in is not None:
            delay = min(delay, max(deadline_in, 0.05))
        return delay

    def _deadline_remaining(self, pod: pod_pb2.Pod) -> float | None:
        if not pod.spec.HasField("active_deadline_seconds") or not self._start_time:
            return None
        started = parse_rfc3339(self._start_time).timestamp()
        return started + pod.spec.active_deadline_seconds - time.time()

    async def _prepare(self, pod: pod_pb2.Pod) -> str:
        """Create the pod dir and volumes; an error message, or ""."""
        try:
            claims = await resolve_claims(
                self.ctx.client,
                pod,
                node_name=self.ctx.config.node_name,
                node_labels=self.ctx.node_labels,
            )
            await asyncio.to_thread(self._prepare_blocking, pod, claims)
        except (VolumeError, OSError) as e:
            return str(e)
        except errors.ApiError as e:
            return f"reading the pod's claims failed: {e}"
        self._prepared = True
        return ""

    def _prepare_blocking(self, pod: pod_pb2.Pod, claims: dict[str, Any]) -> None:
        self.paths.dir.mkdir(parents=True, exist_ok=True)
        self.paths.write_info(pod.metadata.namespace, pod.metadata.name, self.uid)
        setup_volumes(pod, self.ctx.paths, self.paths, claims)

    # ---- re-adoption ---------------------------------------------------------------

    def _load(self) -> None:
        """Pick up the instances a previous kubelet started (runtime.py)."""
        self._loaded = True
        rt = self.ctx.runtime
        for cs in self.containers.values():
            attempts = self.paths.attempts(cs.name)
            if not attempts:
                continue
            cs.instance = rt.load(self.paths.attempt_state(cs.name, attempts[-1]))
            if len(attempts) > 1:
                cs.previous = rt.load(self.paths.attempt_state(cs.name, attempts[-2]))
            if cs.instance is None:
                continue
            if cs.instance.exit is None:
                log.info(
                    "pod %s: re-adopted container %s (pid %d)", self.key, cs.name, cs.instance.pid
                )
                self._watch(cs, cs.instance, fresh=False)
            else:
                cs.exited_mono = time.monotonic()

    # ---- running containers ------------------------------------------------------------

    def _sync_containers(self, pod: pod_pb2.Pod) -> float:
        """Start what should run now; the time until the next planned start."""
        delay = IDLE_RESYNC
        policy = pod.spec.restart_policy or "Always"
        inits = [cs for cs in self.containers.values() if cs.init]
        apps = [cs for cs in self.containers.values() if not cs.init]
        init_done = all(_succeeded(cs) for cs in inits) or any(
            cs.instance is not None for cs in apps
        )
        if not init_done:
            for cs in inits:
                if _succeeded(cs):
                    continue
                if cs.running:
                    break
                if cs.instance is None:
                    self._start(pod, cs)
                    break
                if policy == "Never":
                    break  # failed for good: the phase says Failed
                delay = min(delay, self._maybe_restart(pod, cs))
                break
            return delay
        for cs in apps:
            if cs.running:
                continue
            if cs.instance is None:
                self._start(pod, cs)
                continue
            code = cs.instance.exit.exit_code if cs.instance.exit else 0
            if policy == "Always" or (policy == "OnFailure" and code != 0):
                delay = min(delay, self._maybe_restart(pod, cs))
        return delay

    def _maybe_restart(self, pod: pod_pb2.Pod, cs: ContainerState) -> float:
        wait = 0.0
        if cs.restart_counted != cs.exited_mono:  # a retry of a counted restart waits no more
            wait = self.backoff.remaining_since(cs.name, cs.exited_mono)
        if wait > 0:
            delay_s = self.backoff.get(cs.name)
            msg = (
                f"back-off {delay_s:g}s restarting failed container={cs.name} "
                f"pod={pod.metadata.name}_{pod.metadata.namespace}({self.uid})"
            )
            if cs.waiting is None or cs.waiting.reason != "CrashLoopBackOff":
                self.event(
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {cs.name} in pod "
                    f"{pod.metadata.name}_{pod.metadata.namespace}({self.uid})",
                )
            cs.waiting = Waiting("CrashLoopBackOff", msg)
            return wait
        if cs.restart_counted != cs.exited_mono:
            self.backoff.next(cs.name, cs.exited_mono)
            cs.restart_counted = cs.exited_mono
        self._start(pod, cs)
        return IDLE_RESYNC

    def _start(self, pod: pod_pb2.Pod, cs: ContainerState) -> None:
        ctr = cs.spec
        try:
            env = envmod.container_env(
                pod,
                ctr,
                host_ip=self.ctx.host_ip,
                pod_ip=self.ctx.pod_ip,
                pod_dir=str(self.paths.dir),
                allocatable=self.ctx.allocatable,
            )
            argv = envmod.command_line(ctr, env)
            workdir = inside(self.paths.dir, ctr.working_dir) if ctr.working_dir else self.paths.dir
            workdir.mkdir(parents=True, exist_ok=True)
        except (envmod.ConfigError, PathError, OSError) as e:
            if cs.waiting is None or cs.waiting.message != str(e):
                self.event("Warning", "Failed", f"Error: {e}")
            cs.waiting = Waiting("CreateContainerConfigError", str(e))
            return
        attempt = cs.instance.attempt + 1 if cs.instance is not None else 0
        spec = LaunchSpec(
            pod_uid=self.uid,
            container=cs.name,
            attempt=attempt,
            argv=argv,
            env=env,
            workdir=workdir,
            log_path=self.paths.attempt_log(cs.name, attempt),
            state_dir=self.paths.attempt_state(cs.name, attempt),
        )
        if attempt == 0:
            self.event(
                "Normal", "Pulled", f'Container image "{ctr.image}" already present on machine'
            )
        try:
            inst = self.ctx.runtime.start(spec)
        except OSError as e:
            self.event("Warning", "Failed", f"Error: {e}")
            cs.waiting = Waiting("RunContainerError", str(e))
            return
        cs.previous, cs.instance = cs.instance, inst
        cs.waiting = None
        logmod.prune_attempts(self.paths.container_logs(cs.name), (attempt, attempt - 1))
        self._prune_states(cs.name, attempt)
        if inst.exit is not None:
            self.event("Warning", "Failed", f"Error: {inst.exit.message}")
            cs.exited_mono = time.monotonic()
            return
        self.event("Normal", "Created", f"Created container {cs.name}")
        self.event("Normal", "Started", f"Started container {cs.name}")
        self._watch(cs, inst, fresh=True)

    def _prune_states(self, name: str, attempt: int) -> None:
        for old in self.paths.attempts(name):
            if old < attempt - 1:
                shutil.rmtree(self.paths.attempt_state(name, old), ignore_errors=True)

    def _watch(self, cs: ContainerState, inst: Instance, *, fresh: bool) -> None:
        """Watch the instance's exit, run its postStart hook and probes."""
        for t in cs.tasks:
            t.cancel()
        cs.tasks = []
        cs.probes = {}
        cs.kill_reason = ""
        hollow = self.ctx.runtime.name == "hollow"
        ctr = cs.spec
        cs.post_start_done = not (fresh and ctr.lifecycle.HasField("post_start")) or hollow
        cs.started = hollow or not ctr.HasField("startup_probe")
        cs.ready = cs.started and (hollow or not ctr.HasField("readiness_probe") or cs.init)
        inst.extra["exited"] = asyncio.Event()
        cs.tasks.append(
            asyncio.create_task(self._wait_exit(cs, inst), name=f"wait-{self.key}-{cs.name}")
        )
        if not cs.post_start_done:
            cs.tasks.append(asyncio.create_task(self._post_start(cs, inst)))
        if hollow or cs.init:
            return
        if ctr.HasField("startup_probe"):
            self._add_probe(cs, inst, "startup", ctr.startup_probe)
        else:
            self._start_probes(cs, inst)

    def _start_probes(self, cs: ContainerState, inst: Instance) -> None:
        ctr = cs.spec
        if ctr.HasField("liveness_probe"):
            self._add_probe(cs, inst, "liveness", ctr.liveness_probe)
        if ctr.HasField("readiness_probe"):
            self._add_probe(cs, inst, "readiness", ctr.readiness_probe)

    def _add_probe(self, cs: ContainerState, inst: Instance, kind: str, probe: Any) -> None:
        pod = self.last_pod
        try:
            env = envmod.container_env(
                pod,
                cs.spec,
                host_ip=self.ctx.host_ip,
                pod_ip=self.ctx.pod_ip,
                pod_dir=str(self.paths.dir),
                allocatable=self.ctx.allocatable,
            )
        except envmod.ConfigError:
            env = {}
        cwd = self.paths.dir
        if cs.spec.working_dir:
            with contextlib.suppress(PathError):
                cwd = inside(self.paths.dir, cs.spec.working_dir)

        async def run(timeout: float) -> Any:
            return await run_handler(
                probe, container=cs.spec, env=env, cwd=cwd, pod_ip=self.ctx.pod_ip, timeout=timeout
            )

        def changed(kind: str, ok: bool, message: str) -> None:
            self._probe_changed(cs, inst, kind, ok, message)

        worker = ProbeWorker(kind, probe, run, changed)
        cs.probes[kind] = worker
        cs.tasks.append(asyncio.create_task(worker.run(), name=f"{kind}-{self.key}-{cs.name}"))

    def _probe_changed(
        self, cs: ContainerState, inst: Instance, kind: str, ok: bool, message: str
    ) -> None:
        if cs.instance is not inst or inst.exit is not None:
            return
        label = kind.capitalize()
        if not ok:
            self.event("Warning", "Unhealthy", f"{label} probe failed: {message}".strip())
        if kind == "readiness":
            cs.ready = ok and cs.started
        elif kind == "startup":
            if ok:
                cs.started = True
                cs.ready = not cs.spec.HasField("readiness_probe")
                worker = cs.probes.get("startup")
                for t in list(cs.tasks):
                    if worker is not None and t.get_name().startswith("startup-"):
                        t.cancel()
                        cs.tasks.remove(t)
                self._start_probes(cs, inst)
            else:
                self._kill_for_probe(cs, inst, "startup")
        elif kind == "liveness" and not ok:
            self._kill_for_probe(cs, inst, "liveness")
        self.wake()

    def _kill_for_probe(self, cs: ContainerState, inst: Instance, kind: str) -> None:
        if cs.killing is not None and not cs.killing.done():
            return
        probe = getattr(cs.spec, f"{kind}_probe")
        grace = (
            probe.termination_grace_period_seconds
            if probe.HasField("termination_grace_period_seconds")
            else self._pod_grace(self.last_pod, deleting=False)
        )
        self.event(
            "Normal", "Killing", f"Container {cs.name} failed {kind} probe, will be restarted"
        )
        cs.kill_reason = kind
        cs.killing = asyncio.create_task(self._kill(cs, inst, grace, run_pre_stop=True))

    async def _post_start(self, cs: ContainerState, inst: Instance) -> None:
        hook = cs.spec.lifecycle.post_start
        out = await run_handler(
            hook,
            container=cs.spec,
            env=self._env_for(cs),
            cwd=self._workdir_for(cs),
            pod_ip=self.ctx.pod_ip,
            timeout=float(self._pod_grace(self.last_pod, deleting=False)),
        )
        cs.post_start_done = True
        if out.result is Result.FAILURE and inst.exit is None:
            self.event("Warning", "FailedPostStartHook", f"PostStartHook failed: {out.message}")
            cs.killing = asyncio.create_task(
                self._kill(
                    cs, inst, self._pod_grace(self.last_pod, deleting=False), run_pre_stop=False
                )
            )
        self.wake()

    async def _wait_exit(self, cs: ContainerState, inst: Instance) -> None:
        try:
            await self.ctx.runtime.wait(inst)
        finally:
            inst.extra["exited"].set()
            if inst.exit is not None and cs.instance is inst:
                cs.exited_mono = time.monotonic()
                cs.ready = False
                cs.started = False
                for t in cs.tasks:
                    if t is not asyncio.current_task():
                        t.cancel()
                self.wake()

    async def _kill(
        self, cs: ContainerState, inst: Instance, grace: float, *, run_pre_stop: bool
    ) -> None:
        """preStop, the stop signal, then SIGKILL when ``grace`` seconds are up."""
        if inst.exit is not None:
            return
        grace = max(float(grace), MIN_KILL_GRACE)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        rt = self.ctx.runtime
        lifecycle = cs.spec.lifecycle
        if run_pre_stop and lifecycle.HasField("pre_stop") and rt.name != "hollow":
            try:
                async with asyncio.timeout(grace):
                    out = await run_handler(
                        lifecycle.pre_stop,
                        container=cs.spec,
                        env=self._env_for(cs),
                        cwd=self._workdir_for(cs),
                        pod_ip=self.ctx.pod_ip,
                        timeout=grace,
                    )
                if out.result is Result.FAILURE:
                    self.event("Warning", "FailedPreStopHook", f"PreStopHook failed: {out.message}")
            except TimeoutError:
                self.event(
                    "Warning", "FailedPreStopHook", "PreStopHook did not finish in the grace period"
                )
        rt.signal(inst, _stop_signal(lifecycle))
        exited: asyncio.Event = inst.extra["exited"]
        try:
            async with asyncio.timeout(max(deadline - loop.time(), 0.0)):
                await exited.wait()
        except TimeoutError:
            rt.signal(inst, signal.SIGKILL)
        self.wake()

    def _env_for(self, cs: ContainerState) -> dict[str, str]:
        try:
            return envmod.container_env(
                self.last_pod,
                cs.spec,
                host_ip=self.ctx.host_ip,
                pod_ip=self.ctx.pod_ip,
                pod_dir=str(self.paths.dir),
                allocatable=self.ctx.allocatable,
            )
        except envmod.ConfigError:
            return {"PATH": envmod.DEFAULT_PATH}

    def _workdir_for(self, cs: ContainerState) -> Any:
        if cs.spec.working_dir:
            with contextlib.suppress(PathError):
                return inside(self.paths.dir, cs.spec.working_dir)
        return self.paths.dir

    # ---- stopping ------------------------------------------------------------------

    def _pod_grace(self, pod: pod_pb2.Pod, *, deleting: bool) -> int:
        meta, spec = pod.metadata, pod.spec
        if deleting and meta.HasField("deletion_grace_period_seconds"):
            return int(meta.deletion_grace_period_seconds)
        if spec.HasField("termination_grace_period_seconds"):
            return int(spec.termination_grace_period_seconds)
        return DEFAULT_GRACE

    def _kill_all(self, grace: int) -> bool:
        """Start stopping every running container; True once none runs."""
        all_stopped = True
        for cs in self.containers.values():
            if not cs.running:
                continue
            all_stopped = False
            if cs.killing is None or cs.killing.done():
                if not cs.kill_reason:
                    self.event("Normal", "Killing", f"Stopping container {cs.name}")
                cs.kill_reason = cs.kill_reason or "stop"
                cs.killing = asyncio.create_task(
                    self._kill(cs, cs.instance, grace, run_pre_stop=True)
                )  # type: ignore[arg-type]
        return all_stopped

    async def _sync_stopping(self, pod: pod_pb2.Pod) -> float:
        deleting = bool(pod.metadata.deletion_timestamp)
        stopped = self._kill_all(self._pod_grace(pod, deleting=deleting))
        for cs in self.containers.values():
            if cs.instance is None or cs.instance.exit is not None:
                if cs.waiting is not None and cs.waiting.reason == "CrashLoopBackOff":
                    cs.waiting = None
        if not stopped:
            await self._write_status(*self._views(), self._outcome or PodOutcome(stopping=True))
            return IDLE_RESYNC
        outcome = self._outcome or PodOutcome(stopping=True)
        await self._write_status(*self._views(stopping=True), outcome)
        if deleting and not self._deleted_sent:
            await self._delete_from_api(pod)
        return IDLE_RESYNC * 6

    async def _delete_from_api(self, pod: pod_pb2.Pod) -> None:
        """The last step of a graceful deletion: remove the object (grace 0)."""
        meta = pod.metadata
        try:
            await self.ctx.client.pods(meta.namespace).delete(
                meta.name, grace_period_seconds=0, uid=meta.uid
            )
            self._deleted_sent = True
        except (errors.NotFound, errors.Conflict):
            self._deleted_sent = True
        except errors.ApiError as e:
            log.warning("pod %s: final delete failed: %s", self.key, e)

    async def _sync_gone(self) -> float:
        """The pod left the API: stop what runs, clean up, finish."""
        grace = self._pod_grace(self.last_pod, deleting=True)
        if not self._kill_all(grace):
            return IDLE_RESYNC
        self._cancel_all_tasks()
        await asyncio.to_thread(shutil.rmtree, self.paths.dir, True)
        log.info("pod %s (%s) is gone; cleaned up", self.key, self.uid)
        self.done = True
        return 0

    # ---- status -------------------------------------------------------------------

    def _views(self, *, stopping: bool = False) -> tuple[list[ContainerView], list[ContainerView]]:
        inits = [cs for cs in self.containers.values() if cs.init]
        apps = [cs for cs in self.containers.values() if not cs.init]
        init_views = [self._view(cs, stopping) for cs in inits]
        done, _ = init_state(init_views, self.last_pod.spec.restart_policy)
        init_done = done or any(cs.instance is not None for cs in apps)
        app_views = [self._view(cs, stopping, pending_init=not init_done) for cs in apps]
        return init_views, app_views

    def _terminated(self, cs: ContainerState, inst: Instance) -> Terminated:
        ex = inst.exit
        assert ex is not None
        reason = ex.reason or ("Completed" if ex.exit_code == 0 else "Error")
        message = ex.message
        if (
            not message
            and ex.exit_code != 0
            and cs.spec.termination_message_policy == "FallbackToLogsOnError"
            and inst.log_path is not None
        ):
            with contextlib.suppress(OSError):
                data = logmod.read_log(inst.log_path, tail_lines=TERMINATION_LOG_LINES)
                message = data[-TERMINATION_MESSAGE_MAX:].decode(errors="replace")
        return Terminated(
            exit_code=ex.exit_code,
            reason=reason,
            started_at=inst.started_at,
            finished_at=ex.finished_at,
            message=message,
            container_id=inst.container_id,
        )

    def _view(
        self, cs: ContainerState, stopping: bool, *, pending_init: bool = False
    ) -> ContainerView:
        inst = cs.instance
        base = dict(name=cs.name, image=cs.spec.image)
        prev_term = (
            self._terminated(cs, cs.previous)
            if cs.previous is not None and cs.previous.exit
            else None
        )
        if inst is None:
            reason = cs.waiting or Waiting(
                "PodInitializing" if pending_init else "ContainerCreating"
            )
            return ContainerView(**base, waiting=reason)
        if inst.exit is None:
            if not cs.post_start_done:
                return ContainerView(
                    **base,
                    waiting=Waiting("ContainerCreating"),
                    last_terminated=prev_term,
                    restart_count=inst.attempt,
                    container_id=inst.container_id,
                )
            return ContainerView(
                **base,
                running_since=inst.started_at,
                last_terminated=prev_term,
                restart_count=inst.attempt,
                ready=cs.ready and cs.started,
                started=cs.started,
                container_id=inst.container_id,
            )
        term = self._terminated(cs, inst)
        if cs.waiting is not None and not stopping:
            return ContainerView(
                **base,
                waiting=cs.waiting,
                last_terminated=term,
                restart_count=inst.attempt,
                container_id=inst.container_id,
            )
        return ContainerView(
            **base,
            terminated=term,
            last_terminated=prev_term,
            restart_count=inst.attempt,
            container_id=inst.container_id,
            ready=cs.init and term.exit_code == 0,
        )

    async def _write_status(
        self,
        init: list[ContainerView],
        apps: list[ContainerView],
        outcome: PodOutcome | None = None,
    ) -> None:
        pod = self.pod
        if pod is None:
            return
        status = compute_pod_status(
            pod,
            init,
            apps,
            now=_now(),
            host_ip=self.ctx.host_ip,
            pod_ip=self.ctx.pod_ip,
            start_time=pod.status.start_time or self._start_time,
            sandbox_ready=self._prepared,
            outcome=outcome,
        )
        if status_equal(status, pod.status):
            return
        new = pod_pb2.Pod()
        new.CopyFrom(pod)
        new.status.CopyFrom(status)
        pods = self.ctx.client.pods(pod.metadata.namespace)
        try:
            written = await pods.update_status(new)
        except errors.Conflict:
            try:
                fresh = await pods.get(pod.metadata.name)
            except errors.NotFound:
                return
            if fresh.metadata.uid != self.uid:
                return
            self.update(fresh)  # wakes the worker: the next sync writes on the fresh object
            return
        except errors.NotFound:
            return
        if _rv(written) > _rv(self.pod or written):
            self.pod = self.last_pod = written
        if status.phase != pod.status.phase:
            log.info("pod %s: phase %s", self.key, status.phase)


def _succeeded(cs: ContainerState) -> bool:
    return (
        cs.instance is not None and cs.instance.exit is not None and cs.instance.exit.exit_code == 0
    )


def _stop_signal(lifecycle: Any) -> int:
    if lifecycle.HasField("stop_signal"):
        with contextlib.suppress(AttributeError):
            return int(getattr(signal, lifecycle.stop_signal))
    return int(signal.SIGTERM)


def _rv(pod: pod_pb2.Pod) -> int:
    try:
        return int(pod.metadata.resource_version or 0)
    except ValueError:
        return 0


__all__ += ["pod_phase"]
