"""RBAC's escalation check: nobody grants what they do not hold.

As Kubernetes' RBAC storage does, a write of

* a Role or ClusterRole is allowed when the writer may ``escalate`` it, or
  holds every permission of its rules (in the Role's namespace; everywhere
  for a ClusterRole);
* a RoleBinding or ClusterRoleBinding is allowed when the writer may
  ``bind`` the role it refers to, or holds every permission of that role
  (in the binding's namespace; everywhere for a ClusterRoleBinding).

"Holds" is Kubernetes' covers: each rule is broken into single
permissions (one verb on one resource of one group, one name if the rule
names some; or one verb on one URL) and each must be allowed by a rule the
writer has; a ``*`` is only covered by a ``*``. ``system:masters`` holds
everything. Writes by the apiserver itself (no current user: the bootstrap
of the default roles) are not checked.

``check_escalation`` is called by the apiserver's admission step
(admission.py) for every write of an RBAC object.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from google.protobuf.message import Message

from apiserver.auth.attributes import Attributes
from apiserver.auth.authz import Authorizer, rule_allows
from apiserver.auth.user import MASTERS, UserInfo
from apiserver.registry.resource import Resource
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import errors
from pinnace.machinery.objects import object_meta
from pinnace.machinery.rbac import CLUSTER_ROLE_KIND, GROUP

__all__ = ["check_escalation", "uncovered"]


def uncovered(
    owner: Sequence[rbac_pb2.PolicyRule], rules: Iterable[rbac_pb2.PolicyRule], namespace: str
) -> list[str]:
    """The single permissions of ``rules`` that no ``owner`` rule allows, as text."""
    nobody = UserInfo("")
    out = []
    for attrs in _permissions(rules, nobody, namespace):
        if not any(rule_allows(r, attrs) for r in owner):
            out.append(_describe(attrs))
    return out


def _permissions(
    rules: Iterable[rbac_pb2.PolicyRule], user: UserInfo, namespace: str
) -> Iterator[Attributes]:
    for rule in rules:
        for verb in rule.verbs:
            for url in rule.non_resource_urls:
                yield Attributes(user, verb, path=url)
            for group in rule.api_groups:
                for resource in rule.resources:
                    name, _, sub = resource.partition("/")
                    for obj in rule.resource_names or [""]:
                        yield Attributes(user, verb, group, name, sub, namespace, obj)


def _describe(attrs: Attributes) -> str:
    if not attrs.is_resource_request:
        return f'{{NonResourceURLs:["{attrs.path}"], Verbs:["{attrs.verb}"]}}'
    names = f', ResourceNames:["{attrs.name}"]' if attrs.name else ""
    return (
        f'{{APIGroups:["{attrs.api_group}"], Resources:["{attrs.full_resource}"]{names}, '
        f'Verbs:["{attrs.verb}"]}}'
    )


def check_escalation(authorizer: Authorizer, res: Resource, user: UserInfo, new: Message) -> None:
    """Forbidden if ``user`` grants, with the RBAC object ``new``, what it does not hold."""
    if MASTERS in user.groups or res.info.group != GROUP:
        return
    if isinstance(new, rbac_pb2.Role | rbac_pb2.ClusterRole):
        meta = object_meta(new)
        ns = meta.namespace if res.info.namespaced else ""
        asks = Attributes(user, "escalate", GROUP, res.info.plural, "", ns, meta.name)
        if not authorizer.authorize(asks)[0]:
            _covered(authorizer, res, user, meta.name, list(new.rules), ns)
    elif isinstance(new, rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding):
        meta = object_meta(new)
        ns = meta.namespace if res.info.namespaced else ""
        ref = new.role_ref
        role_resource = "clusterroles" if ref.kind == CLUSTER_ROLE_KIND else "roles"
        asks = Attributes(user, "bind", GROUP, role_resource, "", ns, ref.name)
        if not authorizer.authorize(asks)[0]:
            index = authorizer.index
            role_ns = "" if ref.kind == CLUSTER_ROLE_KIND else ns
            rules = index.role_rules(ref.kind, role_ns, ref.name) if index is not None else []
            _covered(authorizer, res, user, meta.name, rules, ns)


def _covered(
    authorizer: Authorizer,
    res: Resource,
    user: UserInfo,
    name: str,
    rules: Sequence[rbac_pb2.PolicyRule],
    namespace: str,
) -> None:
    index = authorizer.index
    owner = list(index.rules_for(user, namespace)) if index is not None else []
    if "Node" in authorizer.modes and index is not None:
        owner += index.node_rules(user)
    missing = uncovered(owner, rules, namespace)
    if missing:
        groups = " ".join(f'"{g}"' for g in user.groups)
        raise errors.Forbidden(
            f'{res.info.plural}.{GROUP} "{name}" is forbidden: user "{user.name}" '
            f"(groups=[{groups}]) is attempting to grant RBAC permissions not currently "
            f"held:\n" + "\n".join(missing)
        )
