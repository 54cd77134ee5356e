"""Stopping containers: preStop, the stop signal, SIGKILL after the grace period.

``kill_container`` stops one running instance as Kubernetes does: its
preStop hook (bounded by the grace period), then its stop signal
(``lifecycle.stopSignal``, default SIGTERM) to the container's process
group, then SIGKILL once the grace period is over. The grace period is at
least ``MIN_KILL_GRACE`` seconds (Kubernetes' minimumGracePeriodInSeconds).

Which grace period (``pod_grace``): for a deletion the pod's
``deletionGracePeriodSeconds``, else its ``terminationGracePeriodSeconds``,
else 30 s; a probe may set its own (``probe.terminationGracePeriodSeconds``,
supervise.py).

``sync_stopping`` drives a pod that will run nothing more (deleting, or
its activeDeadlineSeconds passed): it stops every running container,
writes the status until all have stopped, then the terminal phase and,
for a deletion, deletes the pod with grace 0 and a uid precondition (the
kubelet's last word, after which the pod is gone from the API).
``sync_gone`` stops what still runs of a pod already gone from the API and
removes its directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal

from kubelet.podworker.report import views, write_status
from kubelet.podworker.sandbox import teardown_sandbox
from kubelet.podworker.state import ContainerState, PodState, Watch
from kubelet.probes import Result, run_handler
from kubelet.status import PodOutcome
from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.machinery import errors

__all__ = ["kill_container", "pod_grace", "sync_gone", "sync_stopping"]

log = logging.getLogger(__name__)

MIN_KILL_GRACE = 2  # seconds; Kubernetes' minimumGracePeriodInSeconds
DEFAULT_GRACE = 30


def pod_grace(pod: pod_pb2.Pod, *, deleting: bool) -> int:
    """The pod's grace period in seconds (see the module docstring)."""
    meta, spec = pod.metadata, pod.spec
    if deleting and meta.HasField("deletion_grace_period_seconds"):
        return int(meta.deletion_grace_period_seconds)
    if spec.HasField("termination_grace_period_seconds"):
        return int(spec.termination_grace_period_seconds)
    return DEFAULT_GRACE


def stop_signal(lifecycle: container_pb2.Lifecycle) -> int:
    """``lifecycle.stopSignal`` as a number (SIGTERM when unset or unknown)."""
    if lifecycle.HasField("stop_signal"):
        with contextlib.suppress(AttributeError):
            return int(getattr(signal, lifecycle.stop_signal))
    return int(signal.SIGTERM)


async def kill_container(
    ps: PodState, cs: ContainerState, watch: Watch, grace: float, *, run_pre_stop: bool
) -> None:
    """preStop, the stop signal, then SIGKILL when ``grace`` seconds are up."""
    inst = watch.instance
    if inst.exit is not None:
        return
    grace = max(float(grace), MIN_KILL_GRACE)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    rt = ps.ctx.runtime
    lifecycle = cs.spec.lifecycle
    if run_pre_stop and lifecycle.HasField("pre_stop") and rt.name != "hollow":
        environment = ps.environment(cs)
        try:
            async with asyncio.timeout(grace):
                out = await run_handler(
                    lifecycle.pre_stop,
                    container=cs.spec,
                    env=environment.env,
                    cwd=environment.workdir,
                    pod_ip=ps.ip,
                    timeout=grace,
                    netns=environment.netns,
                    user=environment.user_prefix,
                    cgroups=inst.cgroups,
                )
            if out.result is Result.FAILURE:
                ps.event("Warning", "FailedPreStopHook", f"PreStopHook failed: {out.message}")
        except TimeoutError:
            ps.event(
                "Warning", "FailedPreStopHook", "PreStopHook did not finish in the grace period"
            )
    rt.signal(inst, stop_signal(lifecycle))
    try:
        async with asyncio.timeout(max(deadline - loop.time(), 0.0)):
            await watch.exited.wait()
    except TimeoutError:
        rt.signal(inst, signal.SIGKILL)
    ps.wake()


def kill_all(ps: PodState, grace: int) -> bool:
    """Start stopping every running container; True once none runs."""
    all_stopped = True
    for cs in ps.containers.values():
        if not cs.running:
            continue
        all_stopped = False
        watch = cs.watch  # every running instance has one (supervise.py)
        if watch is not None and (cs.killing is None or cs.killing.done()):
            if not cs.kill_reason:
                ps.event("Normal", "Killing", f"Stopping container {cs.name}")
            cs.kill_reason = cs.kill_reason or "stop"
            cs.killing = asyncio.create_task(
                kill_container(ps, cs, watch, grace, run_pre_stop=True)
            )
    return all_stopped


async def sync_stopping(ps: PodState, pod: pod_pb2.Pod) -> float:
    """Stop everything, then write the terminal status (and delete the pod)."""
    deleting = bool(pod.metadata.deletion_timestamp)
    stopped = kill_all(ps, pod_grace(pod, deleting=deleting))
    for cs in ps.containers.values():
        if cs.instance is None or cs.instance.exit is not None:
            if cs.waiting is not None and cs.waiting.reason == "CrashLoopBackOff":
                cs.waiting = None
    outcome = ps.outcome or PodOutcome(stopping=True)
    if not stopped:
        await write_status(ps, *views(ps), outcome)
        return ps.resync
    await write_status(ps, *views(ps, stopping=True), outcome)
    await teardown_sandbox(ps)
    if deleting and not ps.deleted_sent:
        await _delete_from_api(ps, pod)
    return ps.resync * 6


async def _delete_from_api(ps: PodState, pod: pod_pb2.Pod) -> None:
    """The last step of a graceful deletion: remove the object (grace 0)."""
    meta = pod.metadata
    try:
        await ps.ctx.client.pods(meta.namespace).delete(
            meta.name, grace_period_seconds=0, uid=meta.uid
        )
        ps.deleted_sent = True
    except (errors.NotFound, errors.Conflict):
        ps.deleted_sent = True
    except errors.ApiError as e:
        log.warning("pod %s: final delete failed: %s", ps.key, e)


async def sync_gone(ps: PodState) -> float:
    """The pod left the API: stop what runs, clean up, finish."""
    if not kill_all(ps, pod_grace(ps.last_pod, deleting=True)):
        return ps.resync
    for cs in ps.containers.values():
        cs.cancel_tasks()
    await teardown_sandbox(ps)
    await asyncio.to_thread(shutil.rmtree, ps.paths.dir, True)
    log.info("pod %s (%s) is gone; cleaned up", ps.key, ps.uid)
    ps.done = True
    return 0
