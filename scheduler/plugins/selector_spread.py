"""SelectorSpread (light): prefer nodes with fewer pods of the same
controller (the controller ownerReference's uid), so a ReplicaSet's pods
spread over nodes. Pods without a controller score every node alike.

Raw score: pods of that owner on the node (assumed ones included).
Normalized: ``100 * (max - count) // max`` over the feasible nodes, all 100
when no node has one yet.
"""

from __future__ import annotations

from scheduler.framework import normalize_down
from scheduler.nodeinfo import NodeInfo, PodInfo


class SelectorSpread:
    name = "SelectorSpread"

    def __init__(self, weight: int = 2) -> None:
        self.weight = weight

    def pre_score_skip(self, pod: PodInfo) -> bool:
        """A pod with no controller: nothing to spread from."""
        return not pod.owner_uid

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        if not pod.owner_uid:
            return 0
        return node.owner_counts.get(pod.owner_uid, 0)

    def normalize(self, scores: list[int]) -> list[int]:
        return normalize_down(scores)
