"""The RBAC kinds over gRPC beyond the generic CRUD of test_crud: defaults,
validation refusals naming the field, roleRef fixed at create, role names
that are only path segments, label selection of ClusterRoles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.client import Client
from pinnace.machinery import codec, errors
from tests.integration.api.helpers import expect_error

RBAC = "rbac.authorization.k8s.io"


def role_binding(name: str, **fields: Any) -> Any:
    doc = {
        "metadata": {"name": name},
        "roleRef": {"kind": "Role", "name": "pod-reader"},  # apiGroup defaulted
        "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "devs"}],
        **fields,
    }
    return codec.from_dict(rbac_pb2.RoleBinding, doc)


@pytest.fixture
def cluster_names(client: Client) -> Iterator[list[str]]:
    """Cluster-scoped names a test made; ClusterRoles and bindings of them are deleted after."""
    made: list[str] = []
    yield made
    for name in made:
        for api in (client.cluster_roles(), client.cluster_role_bindings()):
            try:
                api.delete(name)
            except errors.NotFound:
                pass


def test_binding_defaults_api_groups(client: Client, namespace: str) -> None:
    made = client.role_bindings(namespace).create(role_binding("read"))
    assert made.role_ref.api_group == RBAC
    assert [s.api_group for s in made.subjects] == [RBAC, RBAC]


BAD = [
    (
        "role-no-verbs",
        "roles",
        {"rules": [{"apiGroups": [""], "resources": ["pods"]}]},
        ("rules[0].verbs", "verbs must contain at least one value"),
    ),
    (
        "role-non-resource-url",
        "roles",
        {"rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]},
        ("rules[0].nonResourceURLs", "namespaced rules cannot apply to non-resource URLs"),
    ),
    (
        "binding-bad-kind",
        "rolebindings",
        {"roleRef": {"apiGroup": RBAC, "kind": "Pod", "name": "x"}},
        ("roleRef.kind", 'Unsupported value: "Pod"'),
    ),
    (
        "binding-bad-subject",
        "rolebindings",
        {
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "x"},
            "subjects": [{"kind": "ServiceAccount", "apiGroup": RBAC, "name": "sa"}],
        },
        ("subjects[0].apiGroup", 'supported values: ""'),
    ),
]


@pytest.mark.parametrize(
    ("resource", "body", "contains"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_object_is_invalid(
    client: Client, namespace: str, resource: str, body: dict[str, Any], contains: tuple[str, ...]
) -> None:
    api = client.resource(f"{resource}.{RBAC}", namespace)
    obj = codec.from_dict(api.info.message_class, {"metadata": {"name": "bad"}, **body})
    expect_error(errors.Invalid, lambda: api.create(obj), contains=contains)


def test_cluster_role_binding_to_a_role_is_invalid(client: Client) -> None:
    crb = codec.from_dict(
        rbac_pb2.ClusterRoleBinding,
        {
            "metadata": {"name": "bad-crb"},
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "x"},
        },
    )
    expect_error(
        errors.Invalid,
        lambda: client.cluster_role_bindings().create(crb),
        contains=("roleRef.kind", 'supported values: "ClusterRole"'),
    )


def test_role_ref_cannot_change(client: Client, namespace: str) -> None:
    api = client.role_bindings(namespace)
    made = api.create(role_binding("fixed"))
    made.role_ref.name = "other"
    expect_error(
        errors.Invalid, lambda: api.update(made), contains=("roleRef", "cannot change roleRef")
    )
    patch = {"roleRef": {"kind": "ClusterRole"}}
    expect_error(
        errors.Invalid, lambda: api.patch("fixed", patch), contains=("cannot change roleRef",)
    )
    changed = api.patch("fixed", {"subjects": [{"kind": "User", "name": "bob"}]})
    assert [s.name for s in changed.subjects] == ["bob"]


def test_system_names_and_label_selection(
    client: Client, namespace: str, cluster_names: list[str]
) -> None:
    """ "system:..." names are valid path segments; ClusterRoles list by label."""
    name = f"system:{namespace}:reader"
    cluster_names.append(name)
    role = codec.from_dict(
        rbac_pb2.ClusterRole,
        {
            "metadata": {"name": name, "labels": {"suite": namespace}},
            "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/readyz"]}],
        },
    )
    client.cluster_roles().create(role)
    got = client.cluster_roles().list(label_selector=f"suite={namespace}").items
    assert [r.metadata.name for r in got] == [name]
    assert list(got[0].rules[0].non_resource_urls) == ["/healthz", "/readyz"]
    bad = codec.from_dict(rbac_pb2.ClusterRole, {"metadata": {"name": "a/b"}})
    expect_error(errors.Invalid, lambda: client.cluster_roles().create(bad))
