"""NodeUnschedulable: a cordoned node (spec.unschedulable) takes no new pods,
unless the pod tolerates ``node.kubernetes.io/unschedulable:NoSchedule``."""

from __future__ import annotations

from pinnace.api.core.v1 import affinity_pb2
from pinnace.machinery.nodematch import tolerated
from pinnace.machinery.wellknown import TAINT_EFFECT_NO_SCHEDULE, TAINT_NODE_UNSCHEDULABLE
from scheduler.framework import SUCCESS, Status, unresolvable
from scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) were unschedulable"
_TAINT = affinity_pb2.Taint(key=TAINT_NODE_UNSCHEDULABLE, effect=TAINT_EFFECT_NO_SCHEDULE)


class NodeUnschedulable:
    name = "NodeUnschedulable"

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if not node.node.spec.unschedulable:
            return SUCCESS
        if tolerated(pod.pod.spec.tolerations, _TAINT):
            return SUCCESS
        return unresolvable(REASON)
