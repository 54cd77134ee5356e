"""RBAC objects through the codec: Kubernetes' JSON in, the same JSON out
(field names such as nonResourceURLs, and Go's zero values: a Role with no
rules writes "rules": null), and Kubernetes' protobuf encoding decoded to
that JSON."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool

from pinnace.machinery import codec, kinds
from pinnace.machinery.k8sproto import decode_body
from tests.unit.test_k8sproto_decode import encode as k8s_encode
from tests.unit.test_k8sproto_decode import envelope, pool  # noqa: F401 (fixture)

RBAC_V1 = "rbac.authorization.k8s.io/v1"
REF = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}

DOCS = {
    "role": {
        "apiVersion": RBAC_V1,
        "kind": "Role",
        "metadata": {"name": "pod-reader", "namespace": "default"},
        "rules": [
            {
                "verbs": ["get", "list"],
                "apiGroups": [""],
                "resources": ["pods", "pods/log"],
                "resourceNames": ["web"],
            }
        ],
    },
    "role-no-rules": {
        "apiVersion": RBAC_V1,
        "kind": "Role",
        "metadata": {"name": "empty", "namespace": "default"},
        "rules": None,
    },
    "clusterrole-aggregated": {
        "apiVersion": RBAC_V1,
        "kind": "ClusterRole",
        "metadata": {"name": "monitoring"},
        "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/metrics"]}],
        "aggregationRule": {
            "clusterRoleSelectors": [
                {"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}
            ]
        },
    },
    "rolebinding": {
        "apiVersion": RBAC_V1,
        "kind": "RoleBinding",
        "metadata": {"name": "read-pods", "namespace": "default"},
        "subjects": [
            {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"},
            {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
        ],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
    },
    "clusterrolebinding-no-subjects": {
        "apiVersion": RBAC_V1,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "nobody"},
        "roleRef": REF,
    },
}


@pytest.mark.parametrize("doc", list(DOCS.values()), ids=list(DOCS))
def test_json_round_trip(doc: dict) -> None:
    info = kinds.lookup(doc["kind"])
    obj = codec.from_dict(info.message_class, doc)
    assert codec.to_dict(obj) == doc


def test_kinds_are_served_in_the_rbac_group() -> None:
    got = {
        k.kind: (k.resource, k.namespaced)
        for k in kinds.KINDS
        if k.group == "rbac.authorization.k8s.io"
    }
    assert got == {
        "Role": ("roles.rbac.authorization.k8s.io", True),
        "RoleBinding": ("rolebindings.rbac.authorization.k8s.io", True),
        "ClusterRole": ("clusterroles.rbac.authorization.k8s.io", False),
        "ClusterRoleBinding": ("clusterrolebindings.rbac.authorization.k8s.io", False),
    }


ZERO_META = {"generateName": "", "namespace": "", "uid": "", "resourceVersion": ""}


def test_kubernetes_protobuf_cluster_role_binding(pool: descriptor_pool.DescriptorPool) -> None:  # noqa: F811
    """client-go's protobuf encoding (every non-pointer scalar on the wire)."""
    fields = {
        "metadata": {"name": "ops", **ZERO_META},
        "subjects": [
            {
                "kind": "Group",
                "apiGroup": "rbac.authorization.k8s.io",
                "name": "ops",
                "namespace": "",
            }
        ],
        "roleRef": REF,
    }
    raw = k8s_encode(pool, "k8s.io.api.rbac.v1.ClusterRoleBinding", fields)
    body = envelope(pool, RBAC_V1, "ClusterRoleBinding", raw)
    assert decode_body(body) == {
        "apiVersion": RBAC_V1,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "ops"},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "ops"}],
        "roleRef": REF,
    }


def test_kubernetes_protobuf_cluster_role(pool: descriptor_pool.DescriptorPool) -> None:  # noqa: F811
    fields = {
        "metadata": {"name": "agg", **ZERO_META},
        "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]},
    }
    body = envelope(
        pool, RBAC_V1, "ClusterRole", k8s_encode(pool, "k8s.io.api.rbac.v1.ClusterRole", fields)
    )
    assert decode_body(body) == {
        "apiVersion": RBAC_V1,
        "kind": "ClusterRole",
        "metadata": {"name": "agg"},
        "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]},
    }
