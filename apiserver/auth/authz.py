"""Authorization: may this user do this? One implementation for both doors.

``Authorizer.authorize(attrs)`` answers (allowed, reason) as Kubernetes'
union of authorizers in ``--authorization-mode`` order does:

* ``system:masters`` may do everything (Kubernetes' privileged group);
* ``AlwaysAllow``: everything is allowed (local experiments, tests);
* ``Node``: a kubelet (user ``system:node:<name>`` in group
  ``system:nodes``) reads only its own Node, its own pods and what they use
  (nodeauthz.py, Kubernetes' Node authorizer), and otherwise gets the rules
  of the ``system:node`` ClusterRole; NodeRestriction (noderestriction.py)
  confines its writes;
* ``RBAC``: the rules of the Roles and ClusterRoles bound to the user,
  its groups or its ServiceAccount, read from the watch caches of the four
  RBAC kinds (an index rebuilt when any of them changes).

RBAC matching, as Kubernetes' rbac.go: a rule matches when its verbs hold
the verb (or ``*``); for a resource request its apiGroups hold the group,
its resources hold ``resource``, ``resource/subresource``, ``*``, or
``*/subresource`` for a subresource request, and its resourceNames (if
any) hold the requested name; for a non-resource request its
nonResourceURLs hold the path, ``*``, or a prefix ending in ``*``. A
ClusterRoleBinding's rules apply everywhere; a RoleBinding's only to
requests in its namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from apiserver.auth.attributes import Attributes, forbidden
from apiserver.auth.nodeauthz import GRAPH_RESOURCES, NodeGraph, authorize_node
from apiserver.auth.user import MASTERS, UserInfo, node_name
from apiserver.storage.watchcache import WatchCache
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery.rbac import (
    ALL,
    CLUSTER_ROLE_KIND,
    GROUP_KIND,
    SERVICE_ACCOUNT_KIND,
    USER_KIND,
)

__all__ = [
    "INTERNAL_USER",
    "MODES",
    "Authorizer",
    "RbacIndex",
    "authorize",
    "rule_allows",
    "service_account_user",
]

MODES = ("AlwaysAllow", "Node", "RBAC")
# Decisions kept before the cache starts over (each a few hundred bytes).
DECISION_CACHE_SIZE = 10_000
# Who the apiserver's own calls run as (Kubernetes' loopback client).
INTERNAL_USER = UserInfo("system:apiserver", (MASTERS,))
NODE_ROLE = "system:node"


def service_account_user(namespace: str, name: str) -> str:
    """The user a ServiceAccount's token authenticates as."""
    return f"system:serviceaccount:{namespace}:{name}"


def rule_allows(rule: rbac_pb2.PolicyRule, attrs: Attributes) -> bool:
    """Whether one PolicyRule allows the request."""
    if not _has(rule.verbs, attrs.verb):
        return False
    if not attrs.is_resource_request:
        return any(_url_matches(pattern, attrs.path) for pattern in rule.non_resource_urls)
    if not _has(rule.api_groups, attrs.api_group):
        return False
    if not _resource_matches(rule.resources, attrs):
        return False
    return not rule.resource_names or attrs.name in rule.resource_names


def _has(values: Sequence[str], wanted: str) -> bool:
    return ALL in values or wanted in values


def _resource_matches(resources: Sequence[str], attrs: Attributes) -> bool:
    combined = attrs.full_resource
    for resource in resources:
        if resource in (ALL, combined):
            return True
        if attrs.subresource and resource == f"*/{attrs.subresource}":
            return True
    return False


def _url_matches(pattern: str, path: str) -> bool:
    if pattern in (ALL, path):
        return True
    return pattern.endswith("*") and path.startswith(pattern[:-1])


@dataclass
class _Binding:
    role_kind: str
    role_name: str
    namespace: str  # "" for a ClusterRoleBinding
    subjects: list[rbac_pb2.Subject] = field(default_factory=list)


class RbacIndex:
    """The RBAC objects as the authorizer reads them, decoded from the
    watch caches and rebuilt when one of the caches changes."""

    def __init__(
        self,
        roles: WatchCache,
        cluster_roles: WatchCache,
        role_bindings: WatchCache,
        cluster_role_bindings: WatchCache,
    ) -> None:
        self._caches = (roles, cluster_roles, role_bindings, cluster_role_bindings)
        self._seen: tuple[int, ...] = ()
        self._roles: dict[tuple[str, str], list[rbac_pb2.PolicyRule]] = {}
        self._cluster_roles: dict[str, list[rbac_pb2.PolicyRule]] = {}
        self._cluster_bindings: list[_Binding] = []
        self._bindings_by_ns: dict[str, list[_Binding]] = {}

    def _fresh(self) -> None:
        seen = tuple(c.changes for c in self._caches)
        if seen == self._seen:
            return
        roles, cluster_roles, role_bindings, cluster_role_bindings = self._caches
        self._roles = {}
        for obj in roles.objects():
            role = rbac_pb2.Role.FromString(obj.raw)
            self._roles[(obj.namespace, obj.name)] = list(role.rules)
        self._cluster_roles = {
            obj.name: list(rbac_pb2.ClusterRole.FromString(obj.raw).rules)
            for obj in cluster_roles.objects()
        }
        self._cluster_bindings = [
            _binding(rbac_pb2.ClusterRoleBinding.FromString(obj.raw), "")
            for obj in cluster_role_bindings.objects()
        ]
        self._bindings_by_ns = {}
        for obj in role_bindings.objects():
            b = _binding(rbac_pb2.RoleBinding.FromString(obj.raw), obj.namespace)
            self._bindings_by_ns.setdefault(obj.namespace, []).append(b)
        self._seen = seen

    def version(self) -> tuple[int, ...]:
        """Changes with every change of the RBAC objects (what decisions depend on)."""
        self._fresh()
        return self._seen

    def cluster_role_rules(self, name: str) -> list[rbac_pb2.PolicyRule]:
        self._fresh()
        return self._cluster_roles.get(name, [])

    def role_rules(self, kind: str, namespace: str, name: str) -> list[rbac_pb2.PolicyRule]:
        """The rules of the Role (in ``namespace``) or ClusterRole a roleRef names."""
        if kind == CLUSTER_ROLE_KIND:
            return self.cluster_role_rules(name)
        self._fresh()
        return self._roles.get((namespace, name), [])

    def node_rules(self, user: UserInfo) -> list[rbac_pb2.PolicyRule]:
        """What the Node authorizer grants ``user`` (a kubelet): system:node's rules."""
        return self.cluster_role_rules(NODE_ROLE) if node_name(user) else []

    def rules_for(self, user: UserInfo, namespace: str) -> Iterable[rbac_pb2.PolicyRule]:
        """Every rule that applies to ``user`` for a request in ``namespace``
        ("" : cluster-scoped or non-resource requests)."""
        self._fresh()
        for b in self._cluster_bindings:
            if _applies(b.subjects, user, ""):
                yield from self._cluster_roles.get(b.role_name, [])
        if not namespace:
            return
        for b in self._bindings_by_ns.get(namespace, []):
            if not _applies(b.subjects, user, namespace):
                continue
            if b.role_kind == CLUSTER_ROLE_KIND:
                yield from self._cluster_roles.get(b.role_name, [])
            else:
                yield from self._roles.get((namespace, b.role_name), [])


def _binding(obj: rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding, namespace: str) -> _Binding:
    return _Binding(obj.role_ref.kind, obj.role_ref.name, namespace, list(obj.subjects))


def _applies(subjects: Iterable[rbac_pb2.Subject], user: UserInfo, binding_ns: str) -> bool:
    for s in subjects:
        if s.kind == USER_KIND and s.name == user.name:
            return True
        if s.kind == GROUP_KIND and s.name in user.groups:
            return True
        if s.kind == SERVICE_ACCOUNT_KIND:
            if user.name == service_account_user(s.namespace or binding_ns, s.name):
                return True
    return False


class Authorizer:
    """The union of the authorizers ``modes`` names, masters first."""

    def __init__(
        self, modes: Sequence[str], index: RbacIndex | None, graph: NodeGraph | None = None
    ) -> None:
        unknown = [m for m in modes if m not in MODES]
        if unknown:
            raise ValueError(f"unknown authorization mode(s) {unknown}; known: {', '.join(MODES)}")
        if ("RBAC" in modes or "Node" in modes) and index is None:
            raise ValueError("RBAC and Node authorization need the RBAC index")
        if "Node" in modes and graph is None:
            raise ValueError("Node authorization needs the node graph")
        self.modes = tuple(modes)
        self.index = index
        self.graph = graph
        # Decisions for the RBAC objects as of ``_decided_at``: a component
        # asks the same few questions again and again.
        self._decisions: dict[Attributes, bool] = {}
        self._decided_at: tuple[int, ...] = ()

    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, why not): the reason is "" when allowed or nothing applies."""
        if MASTERS in attrs.user.groups or "AlwaysAllow" in self.modes:
            return True, ""
        assert self.index is not None
        node = node_name(attrs.user) if "Node" in self.modes else ""
        if node and (attrs.api_group, attrs.resource) in GRAPH_RESOURCES:
            return self._authorize_node(node, attrs)
        version = self.index.version()
        if version != self._decided_at:
            self._decisions.clear()
            self._decided_at = version
        allowed = self._decisions.get(attrs)
        if allowed is None:
            allowed = self._decide(attrs)
            if len(self._decisions) >= DECISION_CACHE_SIZE:
                self._decisions.clear()
            self._decisions[attrs] = allowed
        return allowed, ""

    def _authorize_node(self, node: str, attrs: Attributes) -> tuple[bool, str]:
        """A kubelet's request the Node authorizer decides from the pods of
        the moment (so not cached); RBAC may still allow what it refuses."""
        assert self.graph is not None
        by_node, reason = authorize_node(node, attrs, self.graph)
        if by_node or ("RBAC" in self.modes and self._rbac_allows(attrs)):
            return True, ""
        return False, reason

    def _decide(self, attrs: Attributes) -> bool:
        assert self.index is not None
        if "Node" in self.modes:
            if any(rule_allows(r, attrs) for r in self.index.node_rules(attrs.user)):
                return True
        return "RBAC" in self.modes and self._rbac_allows(attrs)

    def _rbac_allows(self, attrs: Attributes) -> bool:
        assert self.index is not None
        namespace = attrs.namespace if attrs.is_resource_request else ""
        return any(rule_allows(r, attrs) for r in self.index.rules_for(attrs.user, namespace))


def authorize(authorizer: Authorizer, attrs: Attributes) -> None:
    """Raise the 403 Forbidden kube-apiserver answers unless ``attrs`` is allowed."""
    allowed, reason = authorizer.authorize(attrs)
    if not allowed:
        raise forbidden(attrs, reason)
