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

from scheduler.framework import SUCCESS, Status, normalize_up, unresolvable
from scheduler.nodeinfo import NodeInfo, PodInfo

REASON = "node(s) didn't match Pod's node affinity/selector"


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def requirement_matches(req: Any, labels: Mapping[str, str]) -> bool:
    op = req.operator
    present = req.key in labels
    value = labels.get(req.key, "")
    if op == "In":
        return present and value in req.values
    if op == "NotIn":
        return not present or value not in req.values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(req.values) != 1:
            return False
        have, want = _int(value), _int(req.values[0])
        if have is None or want is None:
            return False
        return have > want if op == "Gt" else have < want
    return False


def field_matches(req: Any, node_name: str) -> bool:
    if req.key != "metadata.name":
        return False
    if req.operator == "In":
        return node_name in req.values
    if req.operator == "NotIn":
        return node_name not in req.values
    return False


def term_matches(term: Any, labels: Mapping[str, str], node_name: str) -> bool:
    if not term.match_expressions and not term.match_fields:
        return False
    return all(requirement_matches(r, labels) for r in term.match_expressions) and all(
        field_matches(r, node_name) for r in term.match_fields
    )


def required_matches(pod: Any, labels: Mapping[str, str], node_name: str) -> bool:
    """nodeSelector and required node affinity both hold for the node."""
    spec = pod.spec
    for key, value in spec.node_selector.items():
        if labels.get(key) != value:
            return False
    if not spec.HasField("affinity") or not spec.affinity.HasField("node_affinity"):
        return True
    node_affinity = spec.affinity.node_affinity
    if not node_affinity.HasField("required_during_scheduling_ignored_during_execution"):
        return True
    terms = node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    return any(term_matches(t, labels, node_name) for t in terms)


class NodeAffinity:
    name = "NodeAffinity"

    def __init__(self, weight: int = 2) -> None:
        self.weight = weight

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
