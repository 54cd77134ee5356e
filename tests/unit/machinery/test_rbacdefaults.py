"""The bootstrap RBAC policy as data: the objects Kubernetes bootstraps,
valid by the apiserver's own rules, admin ⊇ edit ⊇ view by aggregation,
and the bindings of the control plane's identities."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.registry.kinds import STRATEGIES
from apiserver.registry.meta import validate_object_meta
from controllers.clusterroleaggregation.plan import aggregated_rules
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import codec, kinds
from pinnace.machinery.rbac import AUTOUPDATE_ANNOTATION
from pinnace.machinery.rbacdefaults import BOOTSTRAP_LABEL, bootstrap_policy, rule, served_only

POLICY = bootstrap_policy()
ROLES = {r.metadata.name: r for r in POLICY.cluster_roles}
BINDINGS = {b.metadata.name: b for b in POLICY.cluster_role_bindings}


@pytest.mark.parametrize(
    "name",
    [
        "cluster-admin",
        "admin",
        "edit",
        "view",
        "system:aggregate-to-admin",
        "system:aggregate-to-edit",
        "system:aggregate-to-view",
        "system:kube-scheduler",
        "system:kube-controller-manager",
        "system:node",
        "system:discovery",
        "system:basic-user",
        "system:public-info-viewer",
        "system:controller:deployment-controller",
        "system:controller:clusterrole-aggregation-controller",
    ],
)
def test_role_is_bootstrapped(name: str) -> None:
    role = ROLES[name]
    assert role.metadata.labels[BOOTSTRAP_LABEL[0]] == BOOTSTRAP_LABEL[1]
    assert role.metadata.annotations[AUTOUPDATE_ANNOTATION] == "true"


def subjects(binding: rbac_pb2.ClusterRoleBinding) -> list[tuple[str, str]]:
    return [(s.kind, s.name) for s in binding.subjects]


BINDING_CASES = [
    ("cluster-admin", [("Group", "system:masters")]),
    ("system:kube-scheduler", [("User", "system:kube-scheduler")]),
    ("system:volume-scheduler", [("User", "system:kube-scheduler")]),
    ("system:kube-controller-manager", [("User", "system:kube-controller-manager")]),
    ("system:discovery", [("Group", "system:authenticated")]),
    ("system:basic-user", [("Group", "system:authenticated")]),
    (
        "system:public-info-viewer",
        [("Group", "system:authenticated"), ("Group", "system:unauthenticated")],
    ),
    ("system:node", []),
    (
        "system:controller:job-controller",
        [("User", "system:kube-controller-manager")],
    ),
]


@pytest.mark.parametrize(("name", "want"), BINDING_CASES, ids=[c[0] for c in BINDING_CASES])
def test_binding(name: str, want: list[tuple[str, str]]) -> None:
    binding = BINDINGS[name]
    assert subjects(binding) == want
    assert (binding.role_ref.api_group, binding.role_ref.kind, binding.role_ref.name) == (
        "rbac.authorization.k8s.io",
        "ClusterRole",
        name,
    )
    assert name in ROLES, "every binding names a bootstrapped role"


def strategy(kind: str) -> Any:
    info = kinds.lookup(kind)
    return STRATEGIES[info.kind](info)


@pytest.mark.parametrize(
    "obj",
    [*POLICY.cluster_roles, *POLICY.cluster_role_bindings],
    ids=[
        f"{o.kind}-{o.metadata.name}"
        for o in (*POLICY.cluster_roles, *POLICY.cluster_role_bindings)
    ],
)
def test_every_object_is_valid(obj: Any) -> None:
    s = strategy(obj.kind)
    copy = type(obj)()
    copy.CopyFrom(obj)
    s.default(copy)
    assert copy == obj, "bootstrap objects are written with their defaults already"
    errs = validate_object_meta(obj.metadata, s, create=True) + s.validate(obj)
    assert [str(e) for e in errs] == []


def test_fresh_objects_each_call() -> None:
    bootstrap_policy().cluster_roles[0].rules.add(verbs=["x"])
    assert bootstrap_policy().cluster_roles[0] == POLICY.cluster_roles[0]


SERVED = {
    (k.group, r)
    for k in kinds.KINDS
    for r in (k.plural, *(f"{k.plural}/{s}" for s in k.subresources))
}


@pytest.mark.parametrize(
    "name", ["system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view"]
)
def test_aggregated_sources_name_only_served_resources(name: str) -> None:
    role = ROLES[name]
    assert role.rules
    for r in role.rules:
        assert all((g, res) in SERVED for g in r.api_groups for res in r.resources), r


def closure() -> dict[str, list[dict[str, Any]]]:
    """The rules of every aggregated bootstrap role after the aggregation
    controller has settled (admin aggregates edit, which aggregates view)."""
    roles = {name: rbac_pb2.ClusterRole() for name in ROLES}
    for name, role in ROLES.items():
        roles[name].CopyFrom(role)
    for _ in range(3):
        for role in roles.values():
            rules = aggregated_rules(role, roles.values())
            if rules is not None:
                del role.rules[:]
                role.rules.extend(rules)
    return {n: [codec.to_dict(r) for r in roles[n].rules] for n in ("admin", "edit", "view")}


def allows(rules: list[dict[str, Any]], verb: str, group: str, resource: str) -> bool:
    return any(
        verb in r.get("verbs", [])
        and group in r.get("apiGroups", [])
        and resource in r.get("resources", [])
        for r in rules
    )


ACCESS = [
    ("view", "list", "", "pods", True),
    ("view", "get", "", "pods/log", True),
    ("view", "watch", "apps", "deployments", True),
    ("view", "get", "batch", "cronjobs", True),
    ("view", "create", "", "pods", False),
    ("view", "get", "rbac.authorization.k8s.io", "roles", False),
    ("edit", "list", "", "pods", True),
    ("edit", "create", "apps", "deployments", True),
    ("edit", "update", "apps", "deployments/scale", True),
    ("edit", "create", "", "pods/exec", True),
    ("edit", "create", "rbac.authorization.k8s.io", "rolebindings", False),
    ("admin", "create", "apps", "deployments", True),
    ("admin", "create", "rbac.authorization.k8s.io", "rolebindings", True),
    ("admin", "get", "", "pods", True),
]


@pytest.mark.parametrize(
    ("role", "verb", "group", "resource", "want"),
    ACCESS,
    ids=[f"{a[0]}-{a[1]}-{a[3]}" for a in ACCESS],
)
def test_aggregation_makes_admin_over_edit_over_view(
    role: str, verb: str, group: str, resource: str, want: bool
) -> None:
    assert allows(closure()[role], verb, group, resource) is want


def test_served_only_drops_unserved_and_keeps_wildcards() -> None:
    rules = [
        rule(("get",), ("", "networking.k8s.io"), ("pods", "ingresses")),
        rule(("get",), ("policy",), ("poddisruptionbudgets",)),
        rule(("*",), ("*",), ("*",)),
        rule(("get",), urls=("/healthz",)),
    ]
    got = [codec.to_dict(r) for r in served_only(rules)]
    assert got == [
        {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
        {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
        {"verbs": ["get"], "nonResourceURLs": ["/healthz"]},
    ]


def test_component_leases_are_pinnaces() -> None:
    """The scheduler and controller-manager may renew only their own leader Lease."""
    for role, lease in (
        ("system:kube-scheduler", "pinnace-scheduler"),
        ("system:kube-controller-manager", "pinnace-controller-manager"),
    ):
        named = [r for r in ROLES[role].rules if "leases" in r.resources and r.resource_names]
        assert [list(r.resource_names) for r in named] == [[lease]]
