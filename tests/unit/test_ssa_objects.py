"""Server-side apply over typed messages: what the apiserver's verbs call."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.machinery import codec
from pinnace.machinery.ssa import (
    ApplyConflict,
    ApplyError,
    apply_object,
    conflict_error,
    manager_name,
    parse_applied,
    record_update,
)
from pinnace.machinery.ssa.apply import Conflict

DEPLOY: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "d", "labels": {"app": "web"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        },
    },
}


def test_create_is_compared_with_the_zero_object() -> None:
    """As Kubernetes: non-pointer structs (spec, strategy, template) exist in
    the zero object, so only what they hold is added; maps and pointers
    (labels, rollingUpdate) and list items are added whole (".")."""
    obj = codec.from_dict(deployment_pb2.Deployment, DEPLOY)
    record_update(None, obj, manager="kubectl-create", api_version="apps/v1", now="t")
    entry = codec.to_dict(obj)["metadata"]["managedFields"][0]
    assert {k: entry[k] for k in ("manager", "operation", "apiVersion", "time", "fieldsType")} == {
        "manager": "kubectl-create",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "t",
        "fieldsType": "FieldsV1",
    }
    assert entry["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}, "f:type": {}},
            "f:template": {
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"c"}': {
                            ".": {},
                            "f:image": {},
                            "f:name": {},
                            "f:resources": {},
                        }
                    }
                },
            },
        },
    }


def test_apply_object_round_trip() -> None:
    applied = {"apiVersion": "apps/v1", "kind": "Deployment", **DEPLOY}
    obj = apply_object(
        None,
        applied,
        deployment_pb2.Deployment,
        manager="kubectl",
        api_version="apps/v1",
        force=False,
        now="t",
    )
    assert obj.spec.replicas == 1
    assert [(e.manager, e.operation) for e in obj.metadata.managed_fields] == [("kubectl", "Apply")]
    changed = {**applied, "spec": {**DEPLOY["spec"], "replicas": 3}}
    again = apply_object(
        obj,
        changed,
        deployment_pb2.Deployment,
        manager="kubectl",
        api_version="apps/v1",
        force=False,
        now="t2",
    )
    assert again.spec.replicas == 3


def test_conflict_error_status() -> None:
    err = conflict_error(
        ApplyConflict([Conflict('"kubectl" using apps/v1', ("f:spec", "f:replicas"))])
    )
    assert err.status.code == 409 and err.status.reason == "Conflict"
    assert err.message == (
        'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas'
    )
    assert [(c.reason, c.message, c.field) for c in err.causes] == [
        ("FieldManagerConflict", 'conflict with "kubectl" using apps/v1', ".spec.replicas")
    ]


@pytest.mark.parametrize(
    ("field_manager", "agent", "want"),
    [
        pytest.param("mine", "kubectl/v1.32.0 (linux/amd64)", "mine", id="explicit"),
        pytest.param("", "kubectl/v1.32.0 (linux/amd64) kubernetes/abc", "kubectl", id="agent"),
        pytest.param("", "OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator", id="python"),
        pytest.param("", "", "unknown", id="none"),
    ],
)
def test_manager_name(field_manager: str, agent: str, want: str) -> None:
    assert manager_name(field_manager, agent) == want


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        pytest.param(b"apiVersion: v1\nkind: Pod\n", True, id="yaml"),
        pytest.param(b'{"apiVersion": "v1", "kind": "Pod"}', True, id="json"),
        pytest.param(b"- a\n- b\n", False, id="list"),
        pytest.param(b"a: [", False, id="broken"),
    ],
)
def test_parse_applied(body: bytes, ok: bool) -> None:
    if ok:
        assert parse_applied(body)["kind"] == "Pod"
    else:
        with pytest.raises(ApplyError, match="error decoding YAML"):
            parse_applied(body)
