"""TaintToleration: NoSchedule and NoExecute taints must be tolerated;
untolerated PreferNoSchedule taints only lower a node's score.

The taints are the node's effective taints (``nodeinfo.effective_taints``),
so a node whose Ready condition is not True behaves as if it carried
``node.kubernetes.io/not-ready:NoSchedule`` (or ``unreachable``).
"""

from __future__ import annotations

from pinnace.api.core.v1 import affinity_pb2
from pinnace.machinery.nodematch import tolerated
from pinnace.machinery.wellknown import (
    TAINT_EFFECT_NO_EXECUTE,
    TAINT_EFFECT_NO_SCHEDULE,
    TAINT_EFFECT_PREFER_NO_SCHEDULE,
)
from scheduler.framework import SUCCESS, Status, normalize_down, unresolvable
from scheduler.nodeinfo import NodeInfo, PodInfo


def reason(taint: affinity_pb2.Taint) -> str:
    return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"


class TaintToleration:
    name = "TaintToleration"

    def __init__(self, weight: int = 3) -> None:
        self.weight = weight

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if not node.taints:
            return SUCCESS
        tolerations = pod.pod.spec.tolerations
        for taint in node.taints:
            if taint.effect not in (TAINT_EFFECT_NO_SCHEDULE, TAINT_EFFECT_NO_EXECUTE):
                continue
            if not tolerated(tolerations, taint):
                return unresolvable(reason(taint))
        return SUCCESS

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        """The number of untolerated PreferNoSchedule taints (fewer is better)."""
        if not node.taints:
            return 0
        tolerations = [
            t
            for t in pod.pod.spec.tolerations
            if not t.effect or t.effect == TAINT_EFFECT_PREFER_NO_SCHEDULE
        ]
        return sum(
            1
            for taint in node.taints
            if taint.effect == TAINT_EFFECT_PREFER_NO_SCHEDULE and not tolerated(tolerations, taint)
        )

    def normalize(self, scores: list[int]) -> list[int]:
        return normalize_down(scores)
