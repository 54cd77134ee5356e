"""The Pod printer (Kubernetes' printPod): READY, STATUS, RESTARTS and the
wide IP / NODE / NOMINATED NODE / READINESS GATES.

STATUS, worked through in the order Kubernetes decides it:

1. ``status.reason`` if set, else the phase; ``SchedulingGated`` when the
   PodScheduled condition says so.
2. Init containers, in order, until the first one not done: a sidecar
   (restartPolicy Always) that has started counts toward READY and is
   passed; one that failed gives ``Init:<reason>`` (or ``Init:ExitCode:N``
   / ``Init:Signal:N``), one waiting with a reason ``Init:<reason>``,
   otherwise ``Init:i/n``.
3. Once initialized, the regular containers from last to first: a waiting
   or terminated reason (or ``ExitCode:N`` / ``Signal:N``) wins, and a
   ready running one counts toward READY. ``Completed`` with a container
   still running becomes ``Running`` (``NotReady`` if the pod is not Ready).
4. A pod being deleted shows ``Terminating`` (``Unknown`` when its node was
   lost), unless it already finished.

RESTARTS is ``n`` or ``n (5m ago)``: the latest finishedAt of any counted
container's last termination.
"""

from __future__ import annotations

from datetime import datetime

from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.machinery.printers.columns import (
    AGE,
    NAME,
    Cell,
    Printer,
    age,
    column,
    human_duration,
    parse_time,
)
from pinnace.machinery.wellknown import POD_INITIALIZED, POD_READY, POD_SCHEDULED

__all__ = ["POD"]

# Reasons Kubernetes' core/v1 and node packages name.
REASON_SCHEDULING_GATED = "SchedulingGated"
REASON_NODE_LOST = "NodeLost"  # node.NodeUnreachablePodReason

_TERMINAL = ("Succeeded", "Failed")
_COMPLETED = {
    "Succeeded": {
        "type": "Completed",
        "status": "True",
        "reason": "Succeeded",
        "message": "The pod has completed successfully.",
    },
    "Failed": {
        "type": "Completed",
        "status": "True",
        "reason": "Failed",
        "message": "The pod failed.",
    },
}


class _Tally:
    """What the container walk counts: ready containers and restarts, and
    when a counted container last restarted (None = never)."""

    def __init__(self) -> None:
        self.ready = 0
        self.restarts = 0
        self.last_restart: datetime | None = None
        self.sidecar_restarts = 0
        self.sidecar_last_restart: datetime | None = None


def _later(current: datetime | None, status: container_pb2.ContainerStatus) -> datetime | None:
    """The later of ``current`` and the container's last finishedAt."""
    last = status.last_state
    if not last.HasField("terminated"):
        return current
    finished = parse_time(last.terminated.finished_at)
    if finished is None or (current is not None and finished <= current):
        return current
    return finished


def _restartable(container: container_pb2.Container | None) -> bool:
    return container is not None and container.restart_policy == "Always"


def _terminated_reason(prefix: str, term: container_pb2.ContainerStateTerminated) -> str:
    if term.reason:
        return prefix + term.reason
    if term.signal:
        return f"{prefix}Signal:{term.signal}"
    return f"{prefix}ExitCode:{term.exit_code}"


def _walk_init(pod: pod_pb2.Pod, reason: str, tally: _Tally) -> tuple[str, bool]:
    """Step 2 of the module docstring: (reason, still initializing)."""
    spec_by_name = {c.name: c for c in pod.spec.init_containers}
    total = len(pod.spec.init_containers)
    for i, status in enumerate(pod.status.init_container_statuses):
        tally.restarts += status.restart_count
        tally.last_restart = _later(tally.last_restart, status)
        sidecar = _restartable(spec_by_name.get(status.name))
        if sidecar:
            tally.sidecar_restarts += status.restart_count
            tally.sidecar_last_restart = _later(tally.sidecar_last_restart, status)
        state = status.state
        if state.HasField("terminated") and state.terminated.exit_code == 0:
            continue
        if sidecar and status.HasField("started") and status.started:
            tally.ready += 1 if status.ready else 0
            continue
        if state.HasField("terminated"):
            return _terminated_reason("Init:", state.terminated), True
        if state.HasField("waiting") and state.waiting.reason not in ("", "PodInitializing"):
            return "Init:" + state.waiting.reason, True
        return f"Init:{i}/{total}", True
    return reason, False


def _walk_containers(pod: pod_pb2.Pod, reason: str, tally: _Tally) -> str:
    """Step 3 of the module docstring."""
    tally.restarts = tally.sidecar_restarts
    tally.last_restart = tally.sidecar_last_restart
    running = False
    for status in reversed(pod.status.container_statuses):
        tally.restarts += status.restart_count
        tally.last_restart = _later(tally.last_restart, status)
        state = status.state
        if state.HasField("waiting") and state.waiting.reason:
            reason = state.waiting.reason
        elif state.HasField("terminated"):
            reason = _terminated_reason("", state.terminated)
        elif status.ready and state.HasField("running"):
            running = True
            tally.ready += 1
    if reason == "Completed" and running:
        ready = _condition_true(pod, POD_READY)
        reason = "Running" if ready else "NotReady"
    return reason


def _condition_true(pod: pod_pb2.Pod, type: str) -> bool:
    """isPodInitializedConditionTrue / hasPodReadyCondition: the first
    condition of ``type`` decides."""
    for cond in pod.status.conditions:
        if cond.type == type:
            return cond.status == "True"
    return False


def _status(pod: pod_pb2.Pod, tally: _Tally) -> str:
    phase = pod.status.phase
    reason = pod.status.reason or phase
    for cond in pod.status.conditions:
        if cond.type == POD_SCHEDULED and cond.reason == REASON_SCHEDULING_GATED:
            reason = REASON_SCHEDULING_GATED
    reason, initializing = _walk_init(pod, reason, tally)
    if not initializing or _condition_true(pod, POD_INITIALIZED):
        reason = _walk_containers(pod, reason, tally)
    if pod.metadata.deletion_timestamp:
        if pod.status.reason == REASON_NODE_LOST:
            return "Unknown"
        if phase not in _TERMINAL:
            return "Terminating"
    return reason


def _readiness_gates(pod: pod_pb2.Pod) -> str:
    gates = pod.spec.readiness_gates
    if not gates:
        return "<none>"
    true = 0
    for gate in gates:
        for cond in pod.status.conditions:
            if cond.type == gate.condition_type:
                true += cond.status == "True"
                break
    return f"{true}/{len(gates)}"


def _total_containers(pod: pod_pb2.Pod) -> int:
    sidecars = sum(1 for c in pod.spec.init_containers if _restartable(c))
    return len(pod.spec.containers) + sidecars


def _cells(pod: pod_pb2.Pod, now: datetime) -> list[Cell]:
    tally = _Tally()
    status = _status(pod, tally)
    restarts = str(tally.restarts)
    if tally.restarts and tally.last_restart is not None:
        ago = human_duration((now - tally.last_restart).total_seconds())
        restarts = f"{tally.restarts} ({ago} ago)"
    # podIPs[0]; a status with only podIP reads as Kubernetes converts it.
    ips = pod.status.pod_ips
    ip = ips[0].ip if ips else pod.status.pod_ip
    return [
        pod.metadata.name,
        f"{tally.ready}/{_total_containers(pod)}",
        status,
        restarts,
        age(pod, now),
        ip or "<none>",
        pod.spec.node_name or "<none>",
        pod.status.nominated_node_name or "<none>",
        _readiness_gates(pod),
    ]


def _conditions(pod: pod_pb2.Pod) -> list[dict[str, str]]:
    completed = _COMPLETED.get(pod.status.phase)
    return [dict(completed)] if completed else []


POD = Printer(
    columns=(
        NAME,
        column("Ready", doc="The aggregate readiness state of this pod for accepting traffic."),
        column("Status", doc="The aggregate status of the containers in this pod."),
        column(
            "Restarts",
            doc="The number of times the containers in this pod have been restarted and when"
            " the last container in this pod has restarted.",
        ),
        AGE,
        column("IP", doc="PodStatus.podIP", priority=1),
        column("Node", doc="PodSpec.nodeName", priority=1),
        column("Nominated Node", doc="PodStatus.nominatedNodeName", priority=1),
        column("Readiness Gates", doc="PodSpec.readinessGates", priority=1),
    ),
    cells=_cells,
    conditions=_conditions,
)
