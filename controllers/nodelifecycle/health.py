"""Node health from heartbeats, and the taints that follow from it
(Kubernetes' node_lifecycle_controller.go tryUpdateNodeHealth,
doNoExecuteTaintingPass and TaintNodesByCondition).

A node's heartbeat is its Lease in ``kube-node-lease`` (renewTime) and the
heartbeat time of its Ready condition. The controller does not compare
those times with its own clock (clocks differ between machines): it notes,
on its own monotonic clock, when it last saw either of them *change* (the
"probe time"). A node whose probe time is older than the grace period gets
every condition set to Unknown (reason ``NodeStatusUnknown``, "Kubelet
stopped posting node status."); a node that never reported Ready gets
``NodeStatusNeverUpdated`` after the startup grace period.

Taints the controller manages (and only these; others are the user's):

* NoExecute: ``not-ready`` while Ready is False, ``unreachable`` while it is
  Unknown, neither while it is True (added through the zone's rate limiter,
  removed at once);
* NoSchedule: the same two, plus ``memory-pressure``, ``disk-pressure``,
  ``pid-pressure`` while those conditions are True,
  ``network-unavailable`` while NetworkUnavailable is True, and
  ``unschedulable`` while ``spec.unschedulable`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controllers import nodeutil
from pinnace.api.core.v1 import affinity_pb2, node_pb2
from pinnace.machinery.wellknown import (
    NODE_DISK_PRESSURE,
    NODE_MEMORY_PRESSURE,
    NODE_NETWORK_UNAVAILABLE,
    NODE_PID_PRESSURE,
    NODE_READY,
    TAINT_EFFECT_NO_EXECUTE,
    TAINT_EFFECT_NO_SCHEDULE,
    TAINT_NODE_DISK_PRESSURE,
    TAINT_NODE_MEMORY_PRESSURE,
    TAINT_NODE_NETWORK_UNAVAILABLE,
    TAINT_NODE_NOT_READY,
    TAINT_NODE_PID_PRESSURE,
    TAINT_NODE_UNREACHABLE,
    TAINT_NODE_UNSCHEDULABLE,
)

UNKNOWN_REASON = "NodeStatusUnknown"
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
NEVER_REASON = "NodeStatusNeverUpdated"
NEVER_MESSAGE = "Kubelet never posted node status."
# Conditions a kubelet reports; all go Unknown with Ready.
KUBELET_CONDITIONS = (NODE_READY, NODE_MEMORY_PRESSURE, NODE_DISK_PRESSURE, NODE_PID_PRESSURE)

_READY_NO_EXECUTE = {"False": TAINT_NODE_NOT_READY, "Unknown": TAINT_NODE_UNREACHABLE}
_CONDITION_NO_SCHEDULE = {
    NODE_MEMORY_PRESSURE: TAINT_NODE_MEMORY_PRESSURE,
    NODE_DISK_PRESSURE: TAINT_NODE_DISK_PRESSURE,
    NODE_PID_PRESSURE: TAINT_NODE_PID_PRESSURE,
    NODE_NETWORK_UNAVAILABLE: TAINT_NODE_NETWORK_UNAVAILABLE,
}
MANAGED = {
    (TAINT_NODE_NOT_READY, TAINT_EFFECT_NO_EXECUTE),
    (TAINT_NODE_UNREACHABLE, TAINT_EFFECT_NO_EXECUTE),
    (TAINT_NODE_NOT_READY, TAINT_EFFECT_NO_SCHEDULE),
    (TAINT_NODE_UNREACHABLE, TAINT_EFFECT_NO_SCHEDULE),
    (TAINT_NODE_UNSCHEDULABLE, TAINT_EFFECT_NO_SCHEDULE),
    *((key, TAINT_EFFECT_NO_SCHEDULE) for key in _CONDITION_NO_SCHEDULE.values()),
}


@dataclass
class _Probe:
    marker: tuple[str, str]
    seen: float


class HealthTracker:
    """When each node's heartbeat last changed, on the controller's clock."""

    def __init__(self) -> None:
        self._probes: dict[str, _Probe] = {}

    def observe(self, name: str, marker: tuple[str, str], now: float) -> float:
        """Record the node's current heartbeat marker; returns its probe time."""
        probe = self._probes.get(name)
        if probe is None or probe.marker != marker:
            probe = _Probe(marker, now)
            self._probes[name] = probe
        return probe.seen

    def forget(self, name: str) -> None:
        self._probes.pop(name, None)


def heartbeat_marker(node: node_pb2.Node, lease_renew_time: str) -> tuple[str, str]:
    ready = nodeutil.node_condition(node, NODE_READY)
    return (lease_renew_time, ready.last_heartbeat_time if ready is not None else "")


def unknown_status(node: node_pb2.Node, now_rfc3339: str) -> node_pb2.NodeStatus | None:
    """The node's status with every kubelet condition Unknown; None if it
    already is (nothing to write)."""
    status = node_pb2.NodeStatus()
    status.CopyFrom(node.status)
    changed = False
    ready = nodeutil.node_condition(node, NODE_READY)
    if ready is None:
        status.conditions.add(
            type=NODE_READY,
            status="Unknown",
            reason=NEVER_REASON,
            message=NEVER_MESSAGE,
            last_heartbeat_time=now_rfc3339,
            last_transition_time=now_rfc3339,
        )
        changed = True
    for cond in status.conditions:
        if cond.type not in KUBELET_CONDITIONS or cond.status == "Unknown":
            continue
        cond.status = "Unknown"
        cond.reason = UNKNOWN_REASON
        cond.message = UNKNOWN_MESSAGE
        cond.last_transition_time = now_rfc3339
        changed = True
    return status if changed else None


def desired_taints(node: node_pb2.Node) -> list[tuple[str, str]]:
    """The (key, effect) of every managed taint the node should have."""
    want: list[tuple[str, str]] = []
    ready = nodeutil.ready_status(node)
    if ready in _READY_NO_EXECUTE:
        key = _READY_NO_EXECUTE[ready]
        want += [(key, TAINT_EFFECT_NO_EXECUTE), (key, TAINT_EFFECT_NO_SCHEDULE)]
    for ctype, key in _CONDITION_NO_SCHEDULE.items():
        cond = nodeutil.node_condition(node, ctype)
        if cond is not None and cond.status == "True":
            want.append((key, TAINT_EFFECT_NO_SCHEDULE))
    if node.spec.unschedulable:
        want.append((TAINT_NODE_UNSCHEDULABLE, TAINT_EFFECT_NO_SCHEDULE))
    return want


def reconcile_taints(
    taints: Sequence[affinity_pb2.Taint],
    want: Sequence[tuple[str, str]],
    *,
    now_rfc3339: str,
    may_add_no_execute: bool,
) -> tuple[list[affinity_pb2.Taint], bool]:
    """The node's taints with the managed ones made to match ``want``
    (user taints kept, in order). NoExecute taints are only added when
    ``may_add_no_execute``. Returns (taints, whether a wanted NoExecute taint
    had to wait)."""
    wanted = set(want)
    out = [t for t in taints if (t.key, t.effect) not in MANAGED or (t.key, t.effect) in wanted]
    have = {(t.key, t.effect) for t in out}
    waiting = False
    for key, effect in want:
        if (key, effect) in have:
            continue
        if effect == TAINT_EFFECT_NO_EXECUTE:
            if not may_add_no_execute:
                waiting = True
                continue
            out.append(affinity_pb2.Taint(key=key, effect=effect, time_added=now_rfc3339))
        else:
            out.append(affinity_pb2.Taint(key=key, effect=effect))
        have.add((key, effect))
    return out, waiting
