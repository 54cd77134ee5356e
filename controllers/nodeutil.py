"""Nodes as controllers see them: well-known taints, tolerations and
conditions (Kubernetes' well_known_taints.go). Matching tolerations and node
affinity is pinnace.machinery.nodematch, shared with the scheduler."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pinnace.api.core.v1 import affinity_pb2, node_pb2
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.nodematch import required_matches, tolerated
from pinnace.machinery.wellknown import LABEL_TOPOLOGY_REGION, LABEL_TOPOLOGY_ZONE, NODE_READY

# ---- taints and tolerations ------------------------------------------------------


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


def pod_matches_node(spec: Any, node: node_pb2.Node) -> bool:
    """The pod spec's nodeSelector and required node affinity hold for node."""
    return required_matches(spec, node.metadata.labels, node.metadata.name)


# ---- conditions -------------------------------------------------------------------


def node_condition(node: node_pb2.Node, ctype: str) -> node_pb2.NodeCondition | None:
    return find_condition(node.status.conditions, ctype)


def ready_status(node: node_pb2.Node) -> str:
    """ "True", "False" or "Unknown" (also when the node reports no Ready)."""
    cond = node_condition(node, NODE_READY)
    return cond.status if cond is not None else "Unknown"


def zone_of(node: node_pb2.Node) -> str:
    """The node's zone key (region and zone labels; "" when it has none)."""
    labels = node.metadata.labels
    region, zone = labels.get(LABEL_TOPOLOGY_REGION, ""), labels.get(LABEL_TOPOLOGY_ZONE, "")
    return f"{region}:\x00:{zone}" if region or zone else ""
