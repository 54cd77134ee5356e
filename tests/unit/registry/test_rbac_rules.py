"""Role, ClusterRole, RoleBinding, ClusterRoleBinding: defaults and
validation (Kubernetes' pkg/apis/rbac/validation), one bad object per rule."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.registry.meta import validate_object_meta
from tests.unit.registry.helpers import (
    assert_only,
    build,
    create_errors,
    created,
    manifest,
    strategy,
    update_errors,
)

RBAC = "rbac.authorization.k8s.io"


def rules(*rule: dict[str, Any]) -> dict[str, Any]:
    return {"rules": list(rule)}


RESOURCE_RULE = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}

ROLE_CASES = [
    (
        "no-verbs",
        "Role",
        rules({"apiGroups": [""], "resources": ["pods"]}),
        "rules[0].verbs",
        "Required value: verbs must contain at least one value",
    ),
    (
        "no-api-groups",
        "Role",
        rules({"verbs": ["get"], "resources": ["pods"]}),
        "rules[0].apiGroups",
        "Required value: resource rules must supply at least one api group",
    ),
    (
        "no-resources",
        "ClusterRole",
        rules({"verbs": ["get"], "apiGroups": [""]}),
        "rules[0].resources",
        "Required value: resource rules must supply at least one resource",
    ),
    (
        "nothing-to-apply-to",
        "ClusterRole",
        rules({"verbs": ["get"]}),
        ("rules[0].apiGroups", "rules[0].resources"),
        "resource rules must supply at least one api group",
    ),
    (
        "resource-names-on-two-resources",
        "Role",
        rules({**RESOURCE_RULE, "resources": ["pods", "services"], "resourceNames": ["web"]}),
        "rules[0].resourceNames",
        "resource names cannot apply to multiple resources",
    ),
    (
        "urls-in-namespaced-role",
        "Role",
        rules({"verbs": ["get"], "nonResourceURLs": ["/healthz"]}),
        "rules[0].nonResourceURLs",
        'Invalid value: "[\\"/healthz\\"]": namespaced rules cannot apply to non-resource URLs',
    ),
    (
        "urls-mixed-with-resources",
        "ClusterRole",
        rules({**RESOURCE_RULE, "nonResourceURLs": ["/healthz"]}),
        "rules[0].nonResourceURLs",
        "rules cannot apply to both regular resources and non-resource URLs",
    ),
    (
        "second-rule-bad",
        "ClusterRole",
        rules(RESOURCE_RULE, {"verbs": [], "nonResourceURLs": ["/metrics"]}),
        "rules[1].verbs",
        "verbs must contain at least one value",
    ),
    (
        "aggregation-without-selectors",
        "ClusterRole",
        {"aggregationRule": {"clusterRoleSelectors": []}},
        "aggregationRule.clusterRoleSelectors",
        "at least one clusterRoleSelector required if aggregationRule is non-nil",
    ),
    (
        "aggregation-bad-selector",
        "ClusterRole",
        {
            "aggregationRule": {
                "clusterRoleSelectors": [
                    {"matchExpressions": [{"key": "a", "operator": "Near", "values": ["b"]}]}
                ]
            }
        },
        "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator",
        'Unsupported value: "Near"',
    ),
]


@pytest.mark.parametrize(
    ("kind", "patch", "path", "fragment"),
    [c[1:] for c in ROLE_CASES],
    ids=[c[0] for c in ROLE_CASES],
)
def test_bad_role(kind: str, patch: dict[str, Any], path: Any, fragment: str) -> None:
    assert_only(create_errors(kind, patch), path, fragment)


GOOD_ROLES = [
    ("cluster-role-urls", "ClusterRole", rules({"verbs": ["get"], "nonResourceURLs": ["/api/*"]})),
    ("no-rules", "Role", {"rules": []}),
    ("resource-name-one-resource", "Role", rules({**RESOURCE_RULE, "resourceNames": ["a", "b"]})),
    ("subresource", "Role", rules({**RESOURCE_RULE, "resources": ["pods/log"]})),
    (
        "aggregated",
        "ClusterRole",
        {
            "rules": [],
            "aggregationRule": {
                "clusterRoleSelectors": [{"matchLabels": {f"{RBAC}/aggregate-to-view": "true"}}]
            },
        },
    ),
]


@pytest.mark.parametrize(
    ("kind", "patch"), [c[1:] for c in GOOD_ROLES], ids=[c[0] for c in GOOD_ROLES]
)
def test_good_role(kind: str, patch: dict[str, Any]) -> None:
    assert create_errors(kind, patch) == []


def ref(kind: str = "Role", name: str = "reader", api_group: str = RBAC) -> dict[str, Any]:
    return {"roleRef": {"apiGroup": api_group, "kind": kind, "name": name}}


def subject(**fields: Any) -> dict[str, Any]:
    return {"subjects": [fields]}


BINDING_CASES = [
    (
        "ref-api-group",
        "RoleBinding",
        ref(api_group="apps"),
        "roleRef.apiGroup",
        'Unsupported value: "apps": supported values: "rbac.authorization.k8s.io"',
    ),
    (
        "ref-kind",
        "RoleBinding",
        ref(kind="Pod"),
        "roleRef.kind",
        'Unsupported value: "Pod": supported values: "Role", "ClusterRole"',
    ),
    (
        "cluster-binding-to-role",
        "ClusterRoleBinding",
        ref(kind="Role"),
        "roleRef.kind",
        'Unsupported value: "Role": supported values: "ClusterRole"',
    ),
    ("ref-name-required", "RoleBinding", ref(name=""), "roleRef.name", "Required value"),
    ("ref-name-slash", "RoleBinding", ref(name="a/b"), "roleRef.name", "may not contain '/'"),
    (
        "subject-kind",
        "RoleBinding",
        subject(kind="Robot", name="r2"),
        "subjects[0].kind",
        'Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ),
    (
        "user-without-name",
        "RoleBinding",
        subject(kind="User", apiGroup=RBAC, name=""),
        "subjects[0].name",
        "Required value",
    ),
    (
        "group-without-name",
        "RoleBinding",
        subject(kind="Group", apiGroup=RBAC, name=""),
        "subjects[0].name",
        "Required value",
    ),
    (
        "user-api-group",
        "RoleBinding",
        subject(kind="User", apiGroup="apps", name="alice"),
        "subjects[0].apiGroup",
        'Unsupported value: "apps": supported values: "rbac.authorization.k8s.io"',
    ),
    (
        "group-api-group",
        "ClusterRoleBinding",
        {**ref(kind="ClusterRole"), **subject(kind="Group", apiGroup="x", name="devs")},
        "subjects[0].apiGroup",
        'supported values: "rbac.authorization.k8s.io"',
    ),
    (
        "service-account-api-group",
        "RoleBinding",
        subject(kind="ServiceAccount", apiGroup=RBAC, name="builder"),
        "subjects[0].apiGroup",
        f'Unsupported value: "{RBAC}": supported values: ""',
    ),
    (
        "service-account-name",
        "RoleBinding",
        subject(kind="ServiceAccount", name="Builder_1"),
        "subjects[0].name",
        "RFC 1123 subdomain",
    ),
    (
        "service-account-without-namespace",
        "ClusterRoleBinding",
        {**ref(kind="ClusterRole"), **subject(kind="ServiceAccount", name="builder")},
        "subjects[0].namespace",
        "Required value",
    ),
]


@pytest.mark.parametrize(
    ("kind", "patch", "path", "fragment"),
    [c[1:] for c in BINDING_CASES],
    ids=[c[0] for c in BINDING_CASES],
)
def test_bad_binding(kind: str, patch: dict[str, Any], path: Any, fragment: str) -> None:
    errs = create_errors(kind, patch)
    subject_kind = patch.get("subjects", [{}])[0].get("kind")
    if path == "subjects[0].name" and subject_kind in ("User", "Group"):
        # Kubernetes reports an empty user or group name twice: Required, and
        # "user name cannot be empty" / "group name cannot be empty".
        assert any(f"{subject_kind.lower()} name cannot be empty" in str(e) for e in errs)
    assert_only(errs, path, fragment)


def test_service_account_in_role_binding_needs_no_namespace() -> None:
    assert create_errors("RoleBinding", subject(kind="ServiceAccount", name="builder")) == []


@pytest.mark.parametrize(
    ("kind", "subject_kind", "want"),
    [
        ("RoleBinding", "User", RBAC),
        ("RoleBinding", "Group", RBAC),
        ("ClusterRoleBinding", "ServiceAccount", ""),
    ],
    ids=["user", "group", "service-account"],
)
def test_defaults_fill_api_groups(kind: str, subject_kind: str, want: str) -> None:
    """SetDefaults_RoleBinding/_ClusterRoleBinding and SetDefaults_Subject."""
    role_kind = "ClusterRole" if kind == "ClusterRoleBinding" else "Role"
    patch = {
        "roleRef": {"apiGroup": None, "kind": role_kind, "name": "r"},
        "subjects": [{"kind": subject_kind, "name": "x", "namespace": "ns"}],
    }
    obj, errs = created(kind, patch)
    assert errs == []
    assert obj.role_ref.api_group == RBAC
    assert obj.subjects[0].api_group == want


@pytest.mark.parametrize("kind", ["RoleBinding", "ClusterRoleBinding"])
def test_role_ref_cannot_change(kind: str) -> None:
    errs = update_errors(kind, {"roleRef": {"name": "other"}})
    assert_only(errs, "roleRef", "cannot change roleRef")


@pytest.mark.parametrize("kind", ["RoleBinding", "ClusterRoleBinding"])
def test_subjects_may_change(kind: str) -> None:
    patch = {"subjects": [{"kind": "Group", "apiGroup": RBAC, "name": "devs"}]}
    assert update_errors(kind, patch) == []


NAMES = [
    ("colon", "system:kube-scheduler", []),
    ("upper-case", "Pod-Reader", []),
    ("slash", "a/b", ["may not contain '/'"]),
    ("percent", "a%b", ["may not contain '%'"]),
    ("dot-dot", "..", ["may not be '..'"]),
]


@pytest.mark.parametrize("kind", ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"])
@pytest.mark.parametrize(("name", "want"), [n[1:] for n in NAMES], ids=[n[0] for n in NAMES])
def test_names_are_path_segments(kind: str, name: str, want: list[str]) -> None:
    """Kubernetes' minimalNameRequirements: "system:node" is a valid role name."""
    s = strategy(kind)
    obj = build(kind, manifest(kind, name=name))
    errs = validate_object_meta(obj.metadata, s, create=True)
    assert [e.detail for e in errs] == want
    if want:
        assert {e.field for e in errs} == {"metadata.name"}
