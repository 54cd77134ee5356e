"""NodeAffinity: spec.nodeSelector and required node affinity must match the
node; preferred node affinity terms add their weights to the score.

Required affinity: the terms are ORed, the requirements inside a term ANDed;
a term with no requirements matches nothing. Operators on labels: In, NotIn
(also true when the label is absent), Exists, DoesNotExist, Gt and Lt (the
label and the single value are integers; otherwise no match). matchFields
supports only ``metadata.name`` with In / NotIn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pinnace.machinery import nodematch
from pinnace.machinery.nodematch import term_matches
from scheduler.framework import SUCCESS, Status, normalize_up, unresolvable
from scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't match Pod's node affinity/selector"


def required_matches(pod: Any, labels: Mapping[str, str], node_name: str) -> bool:
    """nodeSelector and required node affinity both hold for the node."""
    return nodematch.required_matches(pod.spec, labels, node_name)


class NodeAffinity:
    name = "NodeAffinity"

    def __init__(self, weight: int = 2) -> None:
        self.weight = weight

    def pre_filter_skip(self, pod: PodInfo) -> bool:
        """No nodeSelector and no required node affinity: every node matches."""
        spec = pod.pod.spec
        return not spec.node_selector and not (
            spec.HasField("affinity")
            and spec.affinity.HasField("node_affinity")
            and spec.affinity.node_affinity.HasField(
                "required_during_scheduling_ignored_during_execution"
            )
        )

    def pre_score_skip(self, pod: PodInfo) -> bool:
        """No preferred terms: every node scores 0."""
        spec = pod.pod.spec
        return not (
            spec.HasField("affinity")
            and spec.affinity.HasField("node_affinity")
            and spec.affinity.node_affinity.preferred_during_scheduling_ignored_during_execution
        )

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        if required_matches(pod.pod, node.labels, node.name):
            return SUCCESS
        return unresolvable(REASON)

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        spec = pod.pod.spec
        if not spec.HasField("affinity") or not spec.affinity.HasField("node_affinity"):
            return 0
        preferred = spec.affinity.node_affinity.preferred_during_scheduling_ignored_during_execution
        return sum(
            p.weight for p in preferred if term_matches(p.preference, node.labels, node.name)
        )

    def normalize(self, scores: list[int]) -> list[int]:
        return normalize_up(scores)
