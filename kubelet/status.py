"""Pod status from what the kubelet knows: pure functions, no I/O.

``compute_pod_status`` turns the pod (spec and the status last written)
and one ``ContainerView`` per container into the PodStatus Kubernetes would
report:

* phase (``pod_phase``), as the kubelet's getPhase: Pending while init
  containers run or a container has not started yet; Running once every
  container has started (a container waiting to restart counts as
  started, so CrashLoopBackOff under restartPolicy Always stays Running);
  Succeeded when every container exited 0 and none will restart; Failed
  when all have stopped, one failed and none will restart (or an init
  container failed under restartPolicy Never). ``PodOutcome`` overrides
  this for pods the kubelet stopped itself (deadline, admission,
  deletion). A terminal phase never changes again.
* conditions PodReadyToStartContainers, Initialized, Ready,
  ContainersReady and PodScheduled, each keeping its lastTransitionTime
  while its status is unchanged; conditions the kubelet does not own
  (DisruptionTarget, readiness gates, ...) are kept as they were.
* containerStatuses and initContainerStatuses in spec order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.podutil import TERMINAL_PHASES
from pinnace.machinery.wellknown import (
    POD_CONTAINERS_READY,
    POD_INITIALIZED,
    POD_READY,
    POD_READY_TO_START_CONTAINERS,
    POD_SCHEDULED,
)

__all__ = [
    "ContainerView",
    "PodOutcome",
    "Terminated",
    "Waiting",
    "compute_pod_status",
    "container_status",
    "pod_phase",
]

OWN_CONDITIONS = (
    POD_READY_TO_START_CONTAINERS,
    POD_INITIALIZED,
    POD_READY,
    POD_CONTAINERS_READY,
    POD_SCHEDULED,
)
TERMINAL = TERMINAL_PHASES


@dataclass(frozen=True)
class Waiting:
    reason: str
    message: str = ""


@dataclass(frozen=True)
class Terminated:
    exit_code: int
    reason: str  # Completed, Error, StartError, ContainerStatusUnknown, ...
    started_at: str = ""
    finished_at: str = ""
    message: str = ""
    container_id: str = ""
    signal: int = 0


@dataclass(frozen=True)
class ContainerView:
    """One container as the runtime sees it: exactly one of ``waiting``,
    ``running_since`` (the RFC 3339 start) and ``terminated`` is set."""

    name: str
    image: str = ""
    waiting: Waiting | None = None
    running_since: str | None = None
    terminated: Terminated | None = None
    last_terminated: Terminated | None = None
    restart_count: int = 0
    ready: bool = False
    started: bool = False
    container_id: str = ""

    @property
    def ever_ran(self) -> bool:
        return (
            self.running_since is not None
            or self.terminated is not None
            or (self.last_terminated is not None)
        )


@dataclass(frozen=True)
class PodOutcome:
    """A decision the kubelet took for the whole pod: ``phase`` is set for
    an outright verdict (admission rejection, DeadlineExceeded);
    ``stopping`` means no container will be (re)started any more, so the
    phase becomes terminal once they have all stopped."""

    phase: str = ""
    reason: str = ""
    message: str = ""
    stopping: bool = False


@dataclass(frozen=True)
class _Counts:
    running: int = 0
    waiting: int = 0
    stopped: int = 0
    succeeded: int = 0
    names_unready: list[str] = field(default_factory=list)


def _count(views: Iterable[ContainerView]) -> _Counts:
    running = waiting = stopped = succeeded = 0
    for v in views:
        if v.running_since is not None:
            running += 1
        elif v.terminated is not None:
            stopped += 1
            succeeded += v.terminated.exit_code == 0
        elif v.last_terminated is not None:
            stopped += 1  # waiting to restart: it has run
        else:
            waiting += 1
    return _Counts(running, waiting, stopped, succeeded)


def init_state(init: Sequence[ContainerView], restart_policy: str) -> tuple[bool, bool]:
    """(all init containers succeeded, an init container failed for good)."""
    done = all(v.terminated is not None and v.terminated.exit_code == 0 for v in init)
    failed = restart_policy == "Never" and any(
        v.terminated is not None and v.terminated.exit_code != 0 for v in init
    )
    return done, failed


def pod_phase(
    restart_policy: str,
    init: Sequence[ContainerView],
    containers: Sequence[ContainerView],
    *,
    stopping: bool = False,
) -> str:
    """The phase from container states (Kubernetes' getPhase)."""
    init_done, init_failed = init_state(init, restart_policy)
    if init_failed:
        return "Failed"
    c = _count(containers)
    if stopping and c.running == 0:
        # Nothing runs and nothing will: terminal now.
        ok = init_done and c.stopped == len(containers) and c.succeeded == c.stopped
        if ok and all(v.terminated is not None for v in containers):
            return "Succeeded"
        return "Failed"
    if not init_done or c.waiting > 0:
        return "Pending"
    if c.running > 0:
        return "Running"
    if c.stopped > 0:
        if restart_policy == "Always":
            return "Running"
        if c.stopped == c.succeeded and all(v.terminated is not None for v in containers):
            return "Succeeded"
        if restart_policy == "Never":
            return "Failed"
        return "Running"  # OnFailure: a failed container is restarting
    return "Pending"


def _terminated_pb(t: Terminated) -> container_pb2.ContainerStateTerminated:
    return container_pb2.ContainerStateTerminated(
        exit_code=t.exit_code,
        signal=t.signal,
        reason=t.reason,
        message=t.message,
        started_at=t.started_at,
        finished_at=t.finished_at,
        container_id=t.container_id,
    )


def container_status(v: ContainerView) -> container_pb2.ContainerStatus:
    """The ContainerStatus message of one view."""
    cs = container_pb2.ContainerStatus(
        name=v.name,
        image=v.image,
        image_id="",
        container_id=v.container_id,
        restart_count=v.restart_count,
        ready=v.ready,
        started=v.started,
    )
    if v.running_since is not None:
        cs.state.running.started_at = v.running_since
    elif v.terminated is not None:
        cs.state.terminated.CopyFrom(_terminated_pb(v.terminated))
    else:
        w = v.waiting or Waiting("ContainerCreating")
        cs.state.waiting.reason = w.reason
        cs.state.waiting.message = w.message
    if v.last_terminated is not None:
        cs.last_state.terminated.CopyFrom(_terminated_pb(v.last_terminated))
    return cs


def _condition(
    old: Iterable[pod_pb2.PodCondition],
    ctype: str,
    ok: bool,
    now: str,
    reason: str = "",
    msg: str = "",
) -> pod_pb2.PodCondition:
    """The condition ``ctype``; its lastTransitionTime kept while its status is."""
    status = "True" if ok else "False"
    prev = find_condition(old, ctype)
    since = prev.last_transition_time if prev is not None and prev.status == status else now
    return pod_pb2.PodCondition(
        type=ctype, status=status, last_transition_time=since, reason=reason, message=msg
    )


def _names(views: Iterable[ContainerView]) -> str:
    return "[" + " ".join(v.name for v in views) + "]"


def compute_pod_status(
    pod: pod_pb2.Pod,
    init: Sequence[ContainerView],
    containers: Sequence[ContainerView],
    *,
    now: str,
    host_ip: str,
    pod_ip: str,
    start_time: str,
    sandbox_ready: bool = True,
    outcome: PodOutcome | None = None,
) -> pod_pb2.PodStatus:
    """The status to write for ``pod`` (see the module docstring)."""
    spec, old = pod.spec, pod.status
    outcome = outcome or PodOutcome()
    still_running = any(v.running_since is not None for v in (*init, *containers))
    if old.phase in TERMINAL:
        phase = old.phase
    elif outcome.phase and not still_running:
        # A verdict (DeadlineExceeded) becomes the phase only once every
        # container has stopped, as the kubelet does since Kubernetes 1.27.
        phase = outcome.phase
    else:
        phase = pod_phase(
            spec.restart_policy, init, containers, stopping=outcome.stopping or bool(outcome.phase)
        )

    st = pod_pb2.PodStatus(phase=phase, host_ip=host_ip, pod_ip=pod_ip, start_time=start_time)
    st.observed_generation = pod.metadata.generation
    if host_ip:
        st.host_ips.add(ip=host_ip)
    if pod_ip:
        st.pod_ips.add(ip=pod_ip)
    st.qos_class = old.qos_class or qos_class(spec)
    if outcome.reason or outcome.message:
        st.reason, st.message = outcome.reason, outcome.message
    elif old.phase in TERMINAL:
        st.reason, st.message = old.reason, old.message
    st.nominated_node_name = old.nominated_node_name

    old_conds = old.conditions
    init_done, _ = init_state(init, spec.restart_policy)
    unready = [v for v in containers if not v.ready]
    conds = [
        _condition(
            old_conds, POD_READY_TO_START_CONTAINERS, sandbox_ready and phase not in TERMINAL, now
        )
    ]
    if phase == "Succeeded" or init_done:
        conds.append(
            _condition(
                old_conds,
                POD_INITIALIZED,
                True,
                now,
                "PodCompleted" if phase == "Succeeded" and init else "",
            )
        )
    else:
        pending = [v for v in init if v.terminated is None or v.terminated.exit_code != 0]
        conds.append(
            _condition(
                old_conds,
                POD_INITIALIZED,
                False,
                now,
                "ContainersNotInitialized",
                f"containers with incomplete status: {_names(pending)}",
            )
        )
    if phase in TERMINAL:
        reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        ready, ready_cond = False, (reason, "")
    elif unready:
        ready, ready_cond = (
            False,
            ("ContainersNotReady", f"containers with unready status: {_names(unready)}"),
        )
    else:
        ready, ready_cond = True, ("", "")
    gates_ok, gate_msg = _readiness_gates(spec, old_conds)
    if ready and not gates_ok:
        conds.append(
            _condition(old_conds, POD_READY, False, now, "ReadinessGatesNotReady", gate_msg)
        )
    else:
        conds.append(_condition(old_conds, POD_READY, ready, now, *ready_cond))
    conds.append(_condition(old_conds, POD_CONTAINERS_READY, ready, now, *ready_cond))
    scheduled = find_condition(old_conds, POD_SCHEDULED)
    if scheduled is not None:
        conds.append(scheduled)
    else:
        conds.append(_condition(old_conds, POD_SCHEDULED, True, now))
    conds += [c for c in old.conditions if c.type not in OWN_CONDITIONS]
    st.conditions.extend(conds)
    st.init_container_statuses.extend(container_status(v) for v in init)
    st.container_statuses.extend(container_status(v) for v in containers)
    return st


def _readiness_gates(
    spec: pod_pb2.PodSpec, conds: Iterable[pod_pb2.PodCondition]
) -> tuple[bool, str]:
    for gate in spec.readiness_gates:
        c = find_condition(conds, gate.condition_type)
        if c is None:
            return (
                False,
                f'corresponding condition of pod readiness gate "{gate.condition_type}" does not exist.',
            )
        if c.status != "True":
            return (
                False,
                f'the status of pod readiness gate "{gate.condition_type}" is not "True", but {c.status}',
            )
    return True, ""


def qos_class(spec: pod_pb2.PodSpec) -> str:
    """Guaranteed (every container has equal cpu and memory requests and
    limits), BestEffort (none has any), else Burstable."""
    ctrs = [*spec.init_containers, *spec.containers]
    if not any(c.resources.requests or c.resources.limits for c in ctrs):
        return "BestEffort"
    for c in ctrs:
        lim, req = c.resources.limits, c.resources.requests
        for name in ("cpu", "memory"):
            if name not in lim or req.get(name, lim[name]) != lim[name]:
                return "Burstable"
    return "Guaranteed"


def status_equal(a: pod_pb2.PodStatus, b: pod_pb2.PodStatus) -> bool:
    """Whether two statuses say the same (conditions compared in any order)."""
    if len(a.conditions) != len(b.conditions):
        return False
    ca = sorted(c.SerializeToString(deterministic=True) for c in a.conditions)
    cb = sorted(c.SerializeToString(deterministic=True) for c in b.conditions)
    if ca != cb:
        return False
    x, y = pod_pb2.PodStatus(), pod_pb2.PodStatus()
    x.CopyFrom(a)
    y.CopyFrom(b)
    x.ClearField("conditions")
    y.ClearField("conditions")
    return x.SerializeToString(deterministic=True) == y.SerializeToString(deterministic=True)
