"""Whether a pod may run on a node: tolerations against taints, nodeSelector
and required node affinity — the one implementation shared by the scheduler,
the DaemonSet and node-lifecycle controllers (Kubernetes'
``Toleration.ToleratesTaint`` and ``nodeaffinity.RequiredNodeAffinity``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# ---- taints and tolerations ------------------------------------------------------


def tolerates(toleration: Any, taint: Any) -> bool:
    """A toleration matches a taint when its effect is empty or equal, and
    either its operator is Exists (an empty key then matches every key) or
    Equal (the default) with the same key and value."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    op = toleration.operator or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return bool(toleration.key) and toleration.value == taint.value
    return False


def tolerated(tolerations: Iterable[Any], taint: Any) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


# ---- node affinity -----------------------------------------------------------------


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def requirement_matches(req: Any, labels: Mapping[str, str]) -> bool:
    """One matchExpressions entry (In, NotIn, Exists, DoesNotExist, Gt, Lt)."""
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
    """One matchFields entry: only metadata.name with In / NotIn."""
    if req.key != "metadata.name":
        return False
    if req.operator == "In":
        return node_name in req.values
    if req.operator == "NotIn":
        return node_name not in req.values
    return False


def term_matches(term: Any, labels: Mapping[str, str], node_name: str) -> bool:
    """A node selector term: every expression and field holds (an empty term
    matches nothing)."""
    if not term.match_expressions and not term.match_fields:
        return False
    return all(requirement_matches(r, labels) for r in term.match_expressions) and all(
        field_matches(r, node_name) for r in term.match_fields
    )


def required_matches(spec: Any, labels: Mapping[str, str], node_name: str) -> bool:
    """A pod spec's nodeSelector and required node affinity (terms ORed) both
    hold for a node with these labels and name."""
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
