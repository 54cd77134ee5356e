"""The rules an aggregated ClusterRole should hold: pure, from the cache.

For each of the role's clusterRoleSelectors in order, the ClusterRoles it
matches sorted by name (the aggregated role itself left out), their rules
in order; each distinct rule kept once, at its first position. So with
selectors [view] and roles b-view [get pods] and a-view [list pods, get
pods], the rules are [list pods], [get pods]: a-view before b-view, and
b-view's [get pods] already present. The order only depends on names and
selectors, so two syncs over the same roles write the same list and a
controller restart changes nothing.

A selector that cannot be parsed matches nothing (validation refuses such
selectors; one stored before a rule change must not stall the queue).
"""

from __future__ import annotations

from collections.abc import Iterable

from pinnace.api.meta.v1 import meta_pb2
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery.labels import SelectorError, selector_from_label_selector
from pinnace.machinery.rbac import union_rules


def matching_roles(
    role: rbac_pb2.ClusterRole,
    selector: meta_pb2.LabelSelector,
    roles: Iterable[rbac_pb2.ClusterRole],
) -> list[rbac_pb2.ClusterRole]:
    """The roles other than ``role`` whose labels ``selector`` matches, by name."""
    try:
        parsed = selector_from_label_selector(selector)
    except SelectorError:
        return []
    found = [
        r
        for r in roles
        if r.metadata.name != role.metadata.name and parsed.matches(r.metadata.labels)
    ]
    return sorted(found, key=lambda r: r.metadata.name)


def aggregated_rules(
    role: rbac_pb2.ClusterRole, roles: Iterable[rbac_pb2.ClusterRole]
) -> list[rbac_pb2.PolicyRule] | None:
    """The rules ``role`` should hold given every ClusterRole in ``roles``;
    None when it has no aggregationRule (its rules are its own)."""
    if not role.HasField("aggregation_rule"):
        return None
    roles = list(roles)
    sources = [
        match.rules
        for selector in role.aggregation_rule.cluster_role_selectors
        for match in matching_roles(role, selector, roles)
    ]
    return union_rules(sources)


__all__ = ["aggregated_rules", "matching_roles"]
