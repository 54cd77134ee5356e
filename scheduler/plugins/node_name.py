"""NodeName: a pod that names a node (spec.nodeName) fits only that node.

The scheduler never schedules pods that already have a nodeName (they are
bound); the filter is here for completeness and for callers that evaluate
such a pod against nodes."""

from __future__ import annotations

from scheduler.framework import SUCCESS, Status, unresolvable
from scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = "NodeName"

    def pre_filter_skip(self, pod: PodInfo) -> bool:
        """No spec.nodeName (every pod the scheduler schedules): every node fits."""
        return not pod.pod.spec.node_name

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        wanted = pod.pod.spec.node_name
        if not wanted or wanted == node.name:
            return SUCCESS
        return unresolvable(REASON)
