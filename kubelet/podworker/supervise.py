"""Following a running container: its exit, its postStart hook, its probes.

``watch(ps, cs, instance)`` starts, for one running instance, the tasks of
a ``Watch`` (state.py):

* the exit watcher: waits for the runtime to report the exit, reads the
  termination message the container left (in a thread), then marks the
  container not ready and not started, cancels the instance's other
  tasks and wakes the worker (which restarts it or not, containers.py);
* the postStart hook, for an instance this kubelet started (not one it
  re-adopted): the container is reported waiting (ContainerCreating) until
  the hook has finished; a failed hook kills the container
  (FailedPostStartHook);
* the probes (not for init containers, nor for the hollow runtime): the
  startup probe first if there is one, then liveness and readiness once
  it has succeeded. Readiness sets ``ready``; a liveness or startup
  failure kills the container (grace: the probe's
  terminationGracePeriodSeconds, else the pod's), which then restarts as
  its restartPolicy says. Results about an instance that is no longer the
  current one, or that has exited, are ignored.

Probes and hooks run with the container's own environment and working
directory (``PodState.environment``, built in one place: env.py).
"""

from __future__ import annotations

import asyncio

from kubelet.podworker.report import add_termination_message
from kubelet.podworker.state import ContainerState, PodState, ProbeKind, Watch
from kubelet.podworker.stopping import kill_container, pod_grace
from kubelet.probes import Outcome, ProbeWorker, Result, run_handler
from kubelet.runtime import Instance
from pinnace.api.core.v1 import container_pb2

__all__ = ["watch"]


def watch(ps: PodState, cs: ContainerState, inst: Instance, *, fresh: bool) -> None:
    """Follow ``inst``, the container's current instance, while it runs.
    ``fresh``: this kubelet just started it (so its postStart hook runs)."""
    if cs.watch is not None:
        cs.watch.cancel()
    cs.kill_reason = ""
    hollow = ps.ctx.runtime.name == "hollow"
    ctr = cs.spec
    cs.post_start_done = not (fresh and ctr.lifecycle.HasField("post_start")) or hollow
    cs.started = hollow or not ctr.HasField("startup_probe")
    cs.ready = cs.started and (hollow or not ctr.HasField("readiness_probe") or cs.init)
    w = cs.watch = Watch(inst)
    w.exit_watcher = asyncio.create_task(_wait_exit(ps, cs, w), name=f"wait-{ps.key}-{cs.name}")
    if not cs.post_start_done:
        w.post_start = asyncio.create_task(_post_start(ps, cs, w))
    if hollow or cs.init:
        return
    if ctr.HasField("startup_probe"):
        _add_probe(ps, cs, w, ProbeKind.STARTUP)
    else:
        _start_probes(ps, cs, w)


async def _wait_exit(ps: PodState, cs: ContainerState, w: Watch) -> None:
    inst = w.instance
    try:
        await ps.ctx.runtime.wait(inst)
        await asyncio.to_thread(add_termination_message, cs.spec, inst)
    finally:
        w.exited.set()
        if inst.exit is not None and cs.instance is inst:
            cs.exited_at = ps.ctx.clock.monotonic()
            cs.ready = False
            cs.started = False
            w.cancel()
            ps.wake()


def _start_probes(ps: PodState, cs: ContainerState, w: Watch) -> None:
    if cs.spec.HasField("liveness_probe"):
        _add_probe(ps, cs, w, ProbeKind.LIVENESS)
    if cs.spec.HasField("readiness_probe"):
        _add_probe(ps, cs, w, ProbeKind.READINESS)


def _probe_spec(cs: ContainerState, kind: ProbeKind) -> container_pb2.Probe:
    match kind:
        case ProbeKind.STARTUP:
            return cs.spec.startup_probe
        case ProbeKind.LIVENESS:
            return cs.spec.liveness_probe
        case ProbeKind.READINESS:
            return cs.spec.readiness_probe


def _add_probe(ps: PodState, cs: ContainerState, w: Watch, kind: ProbeKind) -> None:
    probe = _probe_spec(cs, kind)
    environment = ps.environment(cs)

    async def run(timeout: float) -> Outcome:
        return await run_handler(
            probe,
            container=cs.spec,
            env=environment.env,
            cwd=environment.workdir,
            pod_ip=ps.ip,
            timeout=timeout,
            netns=environment.netns,
            user=environment.user_prefix,
            cgroups=w.instance.cgroups,
        )

    def changed(_: str, ok: bool, message: str) -> None:
        _probe_changed(ps, cs, w, kind, ok, message)

    worker = ProbeWorker(kind, probe, run, changed)
    w.probes[kind] = asyncio.create_task(worker.run(), name=f"{kind}-{ps.key}-{cs.name}")


def _probe_changed(
    ps: PodState, cs: ContainerState, w: Watch, kind: ProbeKind, ok: bool, message: str
) -> None:
    inst = w.instance
    if cs.instance is not inst or inst.exit is not None:
        return
    if not ok:
        label = kind.value.capitalize()
        ps.event("Warning", "Unhealthy", f"{label} probe failed: {message}".strip())
    if kind is ProbeKind.READINESS:
        cs.ready = ok and cs.started
    elif kind is ProbeKind.STARTUP:
        if ok:
            cs.started = True
            cs.ready = not cs.spec.HasField("readiness_probe")
            w.cancel_probe(ProbeKind.STARTUP)  # this very task: it ends at its next await
            _start_probes(ps, cs, w)
        else:
            _kill_for_probe(ps, cs, w, kind)
    elif kind is ProbeKind.LIVENESS and not ok:
        _kill_for_probe(ps, cs, w, kind)
    ps.wake()


def _kill_for_probe(ps: PodState, cs: ContainerState, w: Watch, kind: ProbeKind) -> None:
    if cs.killing is not None and not cs.killing.done():
        return
    probe = _probe_spec(cs, kind)
    grace = (
        probe.termination_grace_period_seconds
        if probe.HasField("termination_grace_period_seconds")
        else pod_grace(ps.last_pod, deleting=False)
    )
    ps.event("Normal", "Killing", f"Container {cs.name} failed {kind} probe, will be restarted")
    cs.kill_reason = kind.value
    cs.killing = asyncio.create_task(kill_container(ps, cs, w, grace, run_pre_stop=True))


async def _post_start(ps: PodState, cs: ContainerState, w: Watch) -> None:
    environment = ps.environment(cs)
    grace = pod_grace(ps.last_pod, deleting=False)
    out = await run_handler(
        cs.spec.lifecycle.post_start,
        container=cs.spec,
        env=environment.env,
        cwd=environment.workdir,
        pod_ip=ps.ip,
        timeout=float(grace),
        netns=environment.netns,
        user=environment.user_prefix,
        cgroups=w.instance.cgroups,
    )
    cs.post_start_done = True
    if out.result is Result.FAILURE and w.instance.exit is None:
        ps.event("Warning", "FailedPostStartHook", f"PostStartHook failed: {out.message}")
        cs.killing = asyncio.create_task(kill_container(ps, cs, w, grace, run_pre_stop=False))
    ps.wake()
