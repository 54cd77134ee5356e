"""Nodes as controllers see them: well-known taints, tolerations, node
affinity and conditions (Kubernetes' core/v1 helpers, component-helpers
nodeaffinity and well_known_taints.go).

A toleration matches a taint when its effect is empty or equal, and either
its operator is ``Exists`` (an empty key then matches every key) or it is
``Equal`` (the default) with the same key and value. Required node affinity:
terms are ORed, requirements inside a term ANDed, a term without
requirements matches nothing; ``matchFields`` supports ``metadata.name``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pinnace.api.core.v1 import affinity_pb2, node_pb2

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"
PREFER_NO_SCHEDULE = "PreferNoSchedule"

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"


# ---- taints and tolerations ------------------------------------------------------


def tolerates(toleration: Any, taint: Any) -> bool:
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


def untolerated(
    taints: Iterable[Any], tolerations: Iterable[Any], effects: tuple[str, ...]
) -> list[Any]:
    """The taints with one of ``effects`` that no toleration tolerates."""
    tols = list(tolerations)
    return [t for t in taints if t.effect in effects and not tolerated(tols, t)]


def add_toleration(tolerations: Any, *, key: str, effect: str, operator: str = "Exists") -> None:
    """Append a toleration unless an equal one (key, operator, effect) is there."""
    for t in tolerations:
        if t.key == key and (t.operator or "Equal") == operator and t.effect == effect:
            if not t.HasField("toleration_seconds"):
                return
    tolerations.append(affinity_pb2.Toleration(key=key, operator=operator, effect=effect))


def same_taint(a: Any, b: Any) -> bool:
    """Taints are identified by key and effect (Kubernetes' MatchTaint)."""
    return a.key == b.key and a.effect == b.effect


# ---- node affinity -----------------------------------------------------------------


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


def pod_matches_node(spec: Any, node: node_pb2.Node) -> bool:
    """The pod spec's nodeSelector and required node affinity hold for node."""
    labels = node.metadata.labels
    for key, value in spec.node_selector.items():
        if labels.get(key) != value:
            return False
    if not spec.HasField("affinity") or not spec.affinity.HasField("node_affinity"):
        return True
    node_affinity = spec.affinity.node_affinity
    if not node_affinity.HasField("required_during_scheduling_ignored_during_execution"):
        return True
    terms = node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    return any(term_matches(t, labels, node.metadata.name) for t in terms)


# ---- conditions -------------------------------------------------------------------


def node_condition(node: node_pb2.Node, ctype: str) -> node_pb2.NodeCondition | None:
    for cond in node.status.conditions:
        if cond.type == ctype:
            return cond
    return None


def ready_status(node: node_pb2.Node) -> str:
    """ "True", "False" or "Unknown" (also when the node reports no Ready)."""
    cond = node_condition(node, "Ready")
    return cond.status if cond is not None else "Unknown"


def zone_of(node: node_pb2.Node) -> str:
    """The node's zone key (region and zone labels; "" when it has none)."""
    labels = node.metadata.labels
    region, zone = labels.get(REGION_LABEL, ""), labels.get(ZONE_LABEL, "")
    return f"{region}:\x00:{zone}" if region or zone else ""
