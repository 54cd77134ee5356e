"""Which containers to start now, restarts with CrashLoopBackOff, and the start itself.

``sync_containers`` is level triggered: from the containers' states alone
it starts what should run now and says when to look again.

* Init containers run one at a time, in spec order; each must exit 0
  before the next starts (a failed one is restarted, unless the
  restartPolicy is Never: the pod then fails). Once all have succeeded, or
  once any app container has started (an earlier kubelet got that far),
  the app containers start, all at once.
* An exited container restarts when the restartPolicy says so (Always;
  OnFailure after a non-zero exit), after its CrashLoopBackOff delay:
  the first restart is immediate, each later one waits the current delay
  counted from the exit, doubling from ``--crashloop-backoff-base`` to
  ``--crashloop-backoff-max`` (pinnace.machinery.backoff; the kubelet
  uses client-go's ``flowcontrol.Backoff`` the same way). While it waits it
  is reported waiting with reason CrashLoopBackOff. An entry idle for
  twice the cap is forgotten, so a container that ran for 10 minutes
  (defaults 10 s / 300 s) starts again from the first step.
* Starting builds the container's environment (env.py; a bad one is
  CreateContainerConfigError and is retried at the next sync without
  counting as a restart), starts an instance through the runtime
  (RunContainerError if that fails) and follows it (supervise.py). Only
  the logs and state directories of the current and the previous attempt
  are kept.
* The file-system work of a start (the working directory, the state
  directory, the spawn, pruning old attempts) runs in a thread. A start
  under way is finished and recorded even if the worker is cancelled
  meanwhile (kubelet shutdown), so no process runs that the kubelet does
  not know of.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

from kubelet import env as envmod
from kubelet import logs as logmod
from kubelet.cgroups import limits_of
from kubelet.podfiles import make_workdir
from kubelet.podworker.state import ContainerState, PodState
from kubelet.podworker.supervise import watch
from kubelet.runtime import Instance, LaunchSpec
from kubelet.security import pod_group
from kubelet.status import Waiting
from pinnace.api.core.v1 import pod_pb2

__all__ = ["sync_containers"]


async def sync_containers(ps: PodState, pod: pod_pb2.Pod) -> float:
    """Start what should run now; the time until the next planned start."""
    delay = ps.resync
    policy = pod.spec.restart_policy or "Always"
    inits, apps = ps.inits, ps.apps
    init_done = all(cs.succeeded for cs in inits) or any(cs.instance is not None for cs in apps)
    if not init_done:
        for cs in inits:
            if cs.succeeded:
                continue
            if cs.running:
                break
            if cs.instance is None:
                await _start(ps, pod, cs)
                break
            if policy == "Never":
                break  # failed for good: the phase says Failed
            delay = min(delay, await _maybe_restart(ps, pod, cs))
            break
        return delay
    for cs in apps:
        if cs.running:
            continue
        if cs.instance is None:
            await _start(ps, pod, cs)
            continue
        code = cs.instance.exit.exit_code if cs.instance.exit else 0
        if policy == "Always" or (policy == "OnFailure" and code != 0):
            delay = min(delay, await _maybe_restart(ps, pod, cs))
    return delay


async def _maybe_restart(ps: PodState, pod: pod_pb2.Pod, cs: ContainerState) -> float:
    """Restart ``cs`` now, or say how long its back-off still holds it."""
    backoff = ps.crash_backoff
    counted = cs.restart_counted is cs.instance  # a retry of a counted restart waits no more
    wait = 0.0 if counted else backoff.remaining_since(cs.name, cs.exited_at)
    if wait > 0:
        who = f"pod={pod.metadata.name}_{pod.metadata.namespace}({ps.uid})"
        msg = f"back-off {backoff.get(cs.name):g}s restarting failed container={cs.name} {who}"
        if cs.waiting is None or cs.waiting.reason != "CrashLoopBackOff":
            ps.event(
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {cs.name} in pod "
                f"{pod.metadata.name}_{pod.metadata.namespace}({ps.uid})",
            )
        cs.waiting = Waiting("CrashLoopBackOff", msg)
        return wait
    if not counted:
        backoff.next(cs.name, cs.exited_at)
        cs.restart_counted = cs.instance
    await _start(ps, pod, cs)
    return ps.resync


async def _start(ps: PodState, pod: pod_pb2.Pod, cs: ContainerState) -> None:
    ctr = cs.spec
    try:
        environment = ps.build_environment(cs)
        argv = (
            envmod.command_line(ctr, environment.env)
            if ps.ctx.runtime.needs_command or ctr.command
            else []
        )
        await asyncio.to_thread(make_workdir, ps.paths.dir, environment.workdir, pod_group(pod))
    except (envmod.ConfigError, OSError) as e:
        if cs.waiting is None or cs.waiting.message != str(e):
            ps.event("Warning", "Failed", f"Error: {e}")
        cs.waiting = Waiting("CreateContainerConfigError", str(e))
        return
    attempt = cs.instance.attempt + 1 if cs.instance is not None else 0
    spec = LaunchSpec(
        pod_uid=ps.uid,
        container=cs.name,
        attempt=attempt,
        argv=argv,
        env=environment.env,
        workdir=environment.workdir,
        log_path=ps.paths.attempt_log(cs.name, attempt),
        state_dir=ps.paths.attempt_state(cs.name, attempt),
        netns=environment.netns,
        user=environment.user_prefix,
        limits=limits_of(ctr),
        annotations=dict(pod.metadata.annotations),
    )
    if attempt == 0:
        ps.event("Normal", "Pulled", f'Container image "{ctr.image}" already present on machine')
    launch = asyncio.ensure_future(asyncio.to_thread(ps.ctx.runtime.start, spec))
    try:
        inst = await asyncio.shield(launch)
    except asyncio.CancelledError:
        # The worker is being stopped: let the start finish and record it, so
        # that a kubelet stopping with --kill-pods-on-exit finds the process.
        with contextlib.suppress(Exception):
            _started(cs, await launch, environment)
        raise
    except OSError as e:
        ps.event("Warning", "Failed", f"Error: {e}")
        cs.waiting = Waiting("RunContainerError", str(e))
        return
    _started(cs, inst, environment)
    await asyncio.to_thread(_prune, ps, cs.name, attempt)
    if inst.exit is not None:
        ps.event("Warning", "Failed", f"Error: {inst.exit.message}")
        cs.exited_at = ps.ctx.clock.monotonic()
        return
    ps.event("Normal", "Created", f"Created container {cs.name}")
    ps.event("Normal", "Started", f"Started container {cs.name}")
    watch(ps, cs, inst, fresh=True)


def _started(cs: ContainerState, inst: Instance, environment: envmod.Environment) -> None:
    cs.previous, cs.instance = cs.instance, inst
    cs.environment = environment
    cs.waiting = None


def _prune(ps: PodState, name: str, attempt: int) -> None:
    """Remove the logs and state directories older than the previous attempt."""
    logmod.prune_attempts(ps.paths.container_logs(name), (attempt, attempt - 1))
    for old in ps.paths.attempts(name):
        if old < attempt - 1:
            shutil.rmtree(ps.paths.attempt_state(name, old), ignore_errors=True)
