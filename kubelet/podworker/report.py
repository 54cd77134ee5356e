"""The pod's status as its worker reports it: a view of every container,
and the status write.

``views`` turns each ``ContainerState`` into the ``ContainerView`` that
status.py (pure) makes a PodStatus from:

* never started: waiting, ContainerCreating (PodInitializing while init
  containers still run), or the reason it cannot start (a config error,
  CrashLoopBackOff);
* running: running since its start, ready and started as its probes say;
  waiting ContainerCreating until its postStart hook has finished;
* exited: terminated, with the message the container left
  (``terminationMessagePolicy: FallbackToLogsOnError``: the tail of its
  log when it failed without one, read once when the exit is seen,
  ``add_termination_message``, in a thread); while it waits to restart,
  waiting with the exit as lastState.

``write_status`` writes the computed status only when it differs from the
one the pod has (status.py ``status_equal``), so an idle pod costs no
writes. On a conflict it re-reads the pod and syncs again on the fresh
object; a pod that is gone (or replaced by one with another uid) is not
written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging

from kubelet import logs as logmod
from kubelet.podworker.state import ContainerState, PodState, resource_version
from kubelet.runtime import Instance
from kubelet.status import (
    ContainerView,
    PodOutcome,
    Terminated,
    Waiting,
    compute_pod_status,
    init_state,
    status_equal,
)
from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.machinery import errors
from pinnace.machinery.timeutil import format_rfc3339

__all__ = ["add_termination_message", "views", "write_status"]

log = logging.getLogger(__name__)

TERMINATION_LOG_LINES = 80
TERMINATION_MESSAGE_MAX = 4096


def views(
    ps: PodState, *, stopping: bool = False
) -> tuple[list[ContainerView], list[ContainerView]]:
    """(init container views, container views), in spec order."""
    init_views = [_view(cs, stopping) for cs in ps.inits]
    done, _ = init_state(init_views, ps.last_pod.spec.restart_policy)
    init_done = done or any(cs.instance is not None for cs in ps.apps)
    app_views = [_view(cs, stopping, pending_init=not init_done) for cs in ps.apps]
    return init_views, app_views


def add_termination_message(container: container_pb2.Container, inst: Instance | None) -> None:
    """Give an exited instance the tail of its log as its message when
    ``FallbackToLogsOnError`` asks for it. Blocking file I/O: call it in a
    thread, once, when the exit is seen."""
    ex = inst.exit if inst is not None else None
    if (
        inst is None
        or ex is None
        or ex.message
        or ex.exit_code == 0
        or container.termination_message_policy != "FallbackToLogsOnError"
        or inst.log_path is None
    ):
        return
    with contextlib.suppress(OSError):
        data = logmod.read_log(inst.log_path, tail_lines=TERMINATION_LOG_LINES)
        message = data[-TERMINATION_MESSAGE_MAX:].decode(errors="replace")
        inst.exit = dataclasses.replace(ex, message=message)


def _terminated(inst: Instance) -> Terminated:
    ex = inst.exit
    assert ex is not None
    reason = ex.reason or ("Completed" if ex.exit_code == 0 else "Error")
    return Terminated(
        exit_code=ex.exit_code,
        reason=reason,
        started_at=inst.started_at,
        finished_at=ex.finished_at,
        message=ex.message,
        container_id=inst.container_id,
    )


def _view(cs: ContainerState, stopping: bool, *, pending_init: bool = False) -> ContainerView:
    inst = cs.instance
    if inst is None:
        reason = cs.waiting or Waiting("PodInitializing" if pending_init else "ContainerCreating")
        return ContainerView(name=cs.name, image=cs.spec.image, waiting=reason)
    view = functools.partial(
        ContainerView,
        name=cs.name,
        image=cs.spec.image,
        restart_count=inst.attempt,
        container_id=inst.container_id,
    )
    prev = cs.previous
    prev_term = _terminated(prev) if prev is not None and prev.exit else None
    if inst.exit is None:
        if not cs.post_start_done:
            return view(waiting=Waiting("ContainerCreating"), last_terminated=prev_term)
        return view(
            running_since=inst.started_at,
            last_terminated=prev_term,
            ready=cs.ready and cs.started,
            started=cs.started,
        )
    term = _terminated(inst)
    if cs.waiting is not None and not stopping:
        return view(waiting=cs.waiting, last_terminated=term)
    return view(terminated=term, last_terminated=prev_term, ready=cs.init and term.exit_code == 0)


async def write_status(
    ps: PodState,
    init: list[ContainerView],
    apps: list[ContainerView],
    outcome: PodOutcome | None = None,
) -> None:
    """Write the status these views give, if it changed (see the module docstring)."""
    pod = ps.pod
    if pod is None:
        return
    status = compute_pod_status(
        pod,
        init,
        apps,
        now=format_rfc3339(ps.ctx.clock.now()),
        host_ip=ps.ctx.host_ip,
        pod_ip=ps.ip,
        start_time=pod.status.start_time or ps.start_time,
        sandbox_ready=ps.prepared,
        outcome=outcome,
    )
    if status_equal(status, pod.status):
        return
    new = pod_pb2.Pod()
    new.CopyFrom(pod)
    new.status.CopyFrom(status)
    pods = ps.ctx.client.pods(pod.metadata.namespace)
    try:
        written = await pods.update_status(new)
    except errors.Conflict:
        try:
            fresh = await pods.get(pod.metadata.name)
        except errors.NotFound:
            return
        if fresh.metadata.uid != ps.uid:
            return
        ps.update(fresh)  # wakes the worker: the next sync writes on the fresh object
        return
    except errors.NotFound:
        return
    if resource_version(written) > resource_version(ps.pod or written):
        ps.pod = ps.last_pod = written
    if status.phase != pod.status.phase:
        log.info("pod %s: phase %s", ps.key, status.phase)
