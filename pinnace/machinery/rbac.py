"""Well-known names of rbac.authorization.k8s.io, and pure helpers over its
objects.

The one home of the RBAC group's names (kinds, subject kinds, the
autoupdate annotation, the aggregate-to-* labels) for the apiserver's
strategies, the bootstrap policy (rbacdefaults), the aggregation controller
and the authorizer.

``union_rules`` is the aggregation controller's merge: rules of several
roles, in order, each distinct rule kept once at its first position. Two
rules are the same rule when every field is equal (Kubernetes compares
with equality.Semantic.DeepEqual, so rules that differ only in the order
of their verbs are two rules): merging [get pods], [list pods], [get pods]
gives [get pods], [list pods].
"""

from __future__ import annotations

from collections.abc import Iterable

from pinnace.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"
API_VERSION = f"{GROUP}/v1"

ROLE_KIND = "Role"
CLUSTER_ROLE_KIND = "ClusterRole"
ROLE_BINDING_KIND = "RoleBinding"
CLUSTER_ROLE_BINDING_KIND = "ClusterRoleBinding"

USER_KIND = "User"
GROUP_KIND = "Group"
SERVICE_ACCOUNT_KIND = "ServiceAccount"
SUBJECT_KINDS = (SERVICE_ACCOUNT_KIND, USER_KIND, GROUP_KIND)

# "*" in verbs, apiGroups, resources, nonResourceURLs: everything.
ALL = "*"

# A bootstrap object carrying autoupdate "true" is put back to its default
# at each apiserver start; "false" (or a user's edit removing it) keeps the
# user's version (Kubernetes' AutoUpdateAnnotationKey).
AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate"

# Labels a ClusterRole carries to have its rules added to admin, edit, view.
AGGREGATE_TO_ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin"
AGGREGATE_TO_EDIT = "rbac.authorization.k8s.io/aggregate-to-edit"
AGGREGATE_TO_VIEW = "rbac.authorization.k8s.io/aggregate-to-view"

# Kubernetes' well-known groups of authenticated identities.
MASTERS_GROUP = "system:masters"
AUTHENTICATED_GROUP = "system:authenticated"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
NODES_GROUP = "system:nodes"


def rule_key(rule: rbac_pb2.PolicyRule) -> bytes:
    """A rule's identity for deduplication: its deterministic encoding."""
    return rule.SerializeToString(deterministic=True)


def union_rules(rule_lists: Iterable[Iterable[rbac_pb2.PolicyRule]]) -> list[rbac_pb2.PolicyRule]:
    """Every distinct rule of ``rule_lists``, in first-seen order (copies)."""
    seen: set[bytes] = set()
    out: list[rbac_pb2.PolicyRule] = []
    for rules in rule_lists:
        for rule in rules:
            key = rule_key(rule)
            if key not in seen:
                seen.add(key)
                copy = rbac_pb2.PolicyRule()
                copy.CopyFrom(rule)
                out.append(copy)
    return out


def rules_equal(a: Iterable[rbac_pb2.PolicyRule], b: Iterable[rbac_pb2.PolicyRule]) -> bool:
    """The same rules in the same order."""
    return [rule_key(r) for r in a] == [rule_key(r) for r in b]


__all__ = [
    "AGGREGATE_TO_ADMIN",
    "AGGREGATE_TO_EDIT",
    "AGGREGATE_TO_VIEW",
    "ALL",
    "API_VERSION",
    "AUTHENTICATED_GROUP",
    "AUTOUPDATE_ANNOTATION",
    "CLUSTER_ROLE_BINDING_KIND",
    "CLUSTER_ROLE_KIND",
    "GROUP",
    "GROUP_KIND",
    "MASTERS_GROUP",
    "NODES_GROUP",
    "ROLE_BINDING_KIND",
    "ROLE_KIND",
    "SERVICE_ACCOUNT_KIND",
    "SUBJECT_KINDS",
    "UNAUTHENTICATED_GROUP",
    "USER_KIND",
    "rule_key",
    "rules_equal",
    "union_rules",
]
