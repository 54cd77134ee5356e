"""Pod predicates the controllers, the scheduler and the kubelet share
(Kubernetes' pkg/controller/controller_utils.go and pkg/api/v1/pod: IsPodActive,
IsPodTerminating, IsPodReady, IsPodAvailable), and the time parsing they use.

* terminal: phase Succeeded or Failed;
* active: not terminal and not being deleted (counts as a replica);
* terminating: being deleted but not terminal (its processes may still run);
* available: Ready for more than minReadySeconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.conditions import find_condition, is_true
from pinnace.machinery.timeutil import parse_rfc3339
from pinnace.machinery.wellknown import POD_READY

# Phases a pod never leaves (its containers will not run again).
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


def is_pod_terminal(pod: pod_pb2.Pod) -> bool:
    return pod.status.phase in TERMINAL_PHASES


def is_pod_active(pod: pod_pb2.Pod) -> bool:
    """Counts as a replica: not terminal and not being deleted."""
    return not is_pod_terminal(pod) and not pod.metadata.deletion_timestamp


def is_pod_terminating(pod: pod_pb2.Pod) -> bool:
    """Being deleted but still running (status.terminatingReplicas)."""
    return not is_pod_terminal(pod) and bool(pod.metadata.deletion_timestamp)


def ready_condition(pod: pod_pb2.Pod) -> pod_pb2.PodCondition | None:
    return find_condition(pod.status.conditions, POD_READY)


def is_pod_ready(pod: pod_pb2.Pod) -> bool:
    return is_true(pod.status.conditions, POD_READY)


def ready_since(pod: pod_pb2.Pod) -> datetime | None:
    """When a ready pod became ready (its Ready condition's transition time)."""
    cond = ready_condition(pod)
    if cond is None or cond.status != "True":
        return None
    return parse_time(cond.last_transition_time)


def is_pod_available(pod: pod_pb2.Pod, min_ready_seconds: int, now: datetime) -> bool:
    """Ready for at least min_ready_seconds (Kubernetes' IsPodAvailable)."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    since = ready_since(pod)
    return since is not None and since + timedelta(seconds=min_ready_seconds) < now


def available_in(pod: pod_pb2.Pod, min_ready_seconds: int, now: datetime) -> float | None:
    """Seconds until a ready, not yet available pod becomes available; None
    if it is not ready, already available, or has no transition time."""
    if min_ready_seconds == 0 or not is_pod_ready(pod):
        return None
    since = ready_since(pod)
    if since is None:
        return None
    left = (since + timedelta(seconds=min_ready_seconds) - now).total_seconds()
    return left if left >= 0 else None


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time, or None when empty or malformed (a zero time)."""
    if not text:
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


def max_container_restarts(pod: pod_pb2.Pod) -> int:
    """The most restarts of any container (sidecar init containers included)."""
    sidecars = {c.name for c in pod.spec.init_containers if c.restart_policy == "Always"}
    counts = [c.restart_count for c in pod.status.container_statuses]
    counts += [c.restart_count for c in pod.status.init_container_statuses if c.name in sidecars]
    return max(counts, default=0)


# Pending < Unknown < Running, the phase order of Kubernetes' pod rankings.
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def phase_ordinal(pod: pod_pb2.Pod) -> int:
    """The pod's phase in the rankings' order: 0 Pending (or any other), 1
    Unknown, 2 Running."""
    return _PHASE_ORDINAL.get(pod.status.phase, 0)


def less_active_by_state(a: pod_pb2.Pod, b: pod_pb2.Pod) -> bool | None:
    """The first criteria Kubernetes' pod orderings share (controller_utils.go
    ActivePods, and ActivePodsWithRanks for scale-down): unassigned before
    assigned, Pending before Unknown before Running, not ready before ready.
    Whether a comes before b, or None when these criteria tie."""
    node_a, node_b = a.spec.node_name, b.spec.node_name
    if node_a != node_b and (not node_a or not node_b):
        return not node_a
    phase_a, phase_b = phase_ordinal(a), phase_ordinal(b)
    if phase_a != phase_b:
        return phase_a < phase_b
    ready_a, ready_b = is_pod_ready(a), is_pod_ready(b)
    if ready_a != ready_b:
        return not ready_a
    return None
