"""Strategic merge patch as Kubernetes documents it.

Cases follow the Kubernetes docs ("Update API Objects in Place Using kubectl
patch": containers merged by name with the new one first, tolerations
replaced, $retainKeys on a Deployment's strategy) and the community doc
strategic-merge-patch.md (directives), applied to objects as the codec
prints them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.patch import PATCH_TYPES, PatchError, apply_patch
from pinnace.machinery.strategicpatch import StrategicPatchError, strategic_merge_patch

POD = pod_pb2.Pod.DESCRIPTOR
DEPLOYMENT = deployment_pb2.Deployment.DESCRIPTOR


def _pod_spec(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def _c(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, **fields}


# What kubectl 1.36 sent for `kubectl apply` of a Deployment whose live
# object had a RollingUpdate strategy and containers [a, b], applying
# strategy Recreate and containers [a, c, b:7] (captured against these
# OpenAPI documents: it read retainKeys and the containers' merge key there).
KUBECTL_APPLY_LIVE = {
    "spec": {
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        "template": {"spec": {"containers": [_c("a", image="nginx"), _c("b", image="redis")]}},
    }
}
KUBECTL_APPLY_PATCH = {
    "spec": {
        "strategy": {"$retainKeys": ["type"], "rollingUpdate": None, "type": "Recreate"},
        "template": {
            "spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "c"}, {"name": "b"}],
                "containers": [
                    {"image": "busybox", "name": "c"},
                    {"image": "redis:7", "name": "b"},
                ],
            }
        },
    }
}
KUBECTL_APPLY_RESULT = {
    "spec": {
        "strategy": {"type": "Recreate"},
        "template": {
            "spec": {
                "containers": [
                    _c("a", image="nginx"),
                    _c("c", image="busybox"),
                    _c("b", image="redis:7"),
                ]
            }
        },
    }
}

CASES = [
    pytest.param(
        DEPLOYMENT,
        KUBECTL_APPLY_LIVE,
        KUBECTL_APPLY_PATCH,
        KUBECTL_APPLY_RESULT,
        id="kubectl-apply-three-way-patch",
    ),
    pytest.param(
        POD,
        _pod_spec(containers=[_c("a", image="nginx")]),
        {"spec": {"containers": [_c("b", image="redis")]}},
        _pod_spec(containers=[_c("b", image="redis"), _c("a", image="nginx")]),
        id="containers-by-name-new-one-first",
    ),
    pytest.param(
        POD,
        _pod_spec(containers=[_c("a", image="nginx", args=["x"]), _c("b", image="redis")]),
        {"spec": {"containers": [_c("b", image="redis:7")]}},
        _pod_spec(containers=[_c("a", image="nginx", args=["x"]), _c("b", image="redis:7")]),
        id="containers-by-name-update-keeps-order",
    ),
    pytest.param(
        POD,
        _pod_spec(
            containers=[_c("a", env=[{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}])]
        ),
        {"spec": {"containers": [_c("a", env=[{"name": "Y", "value": "3"}])]}},
        _pod_spec(
            containers=[_c("a", env=[{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}])]
        ),
        id="env-by-name",
    ),
    pytest.param(
        POD,
        _pod_spec(containers=[_c("a", ports=[{"containerPort": 80, "name": "http"}])]),
        {
            "spec": {
                "containers": [
                    _c(
                        "a",
                        ports=[{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}],
                    )
                ]
            }
        },
        _pod_spec(
            containers=[
                _c(
                    "a",
                    ports=[
                        {"containerPort": 80, "name": "http", "protocol": "TCP"},
                        {"containerPort": 443},
                    ],
                )
            ]
        ),
        id="ports-by-containerPort",
    ),
    pytest.param(
        POD,
        _pod_spec(volumes=[{"name": "data", "emptyDir": {}}, {"name": "cfg", "emptyDir": {}}]),
        {"spec": {"volumes": [{"name": "cfg", "hostPath": {"path": "/etc"}}]}},
        _pod_spec(
            volumes=[
                {"name": "data", "emptyDir": {}},
                {"name": "cfg", "emptyDir": {}, "hostPath": {"path": "/etc"}},
            ]
        ),
        id="volumes-by-name",
    ),
    pytest.param(
        POD,
        _pod_spec(volumes=[{"name": "cfg", "emptyDir": {}}]),
        {
            "spec": {
                "volumes": [
                    {
                        "name": "cfg",
                        "$retainKeys": ["name", "hostPath"],
                        "hostPath": {"path": "/etc"},
                    }
                ]
            }
        },
        _pod_spec(volumes=[{"name": "cfg", "hostPath": {"path": "/etc"}}]),
        id="volume-retainKeys-swaps-source",
    ),
    pytest.param(
        POD,
        _pod_spec(tolerations=[{"key": "a", "operator": "Exists"}]),
        {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}},
        _pod_spec(tolerations=[{"key": "b", "operator": "Exists"}]),
        id="tolerations-replaced",
    ),
    pytest.param(
        POD,
        _pod_spec(containers=[_c("a", args=["-v", "1"], command=["run"])]),
        {"spec": {"containers": [_c("a", args=["-q"])]}},
        _pod_spec(containers=[_c("a", args=["-q"], command=["run"])]),
        id="args-replaced",
    ),
    pytest.param(
        POD,
        _pod_spec(containers=[_c("a"), _c("b"), _c("c")]),
        {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}},
        _pod_spec(containers=[_c("a"), _c("c")]),
        id="patch-delete-list-item",
    ),
    pytest.param(
        POD,
        _pod_spec(containers=[_c("a", image="x"), _c("b")]),
        {"spec": {"containers": [_c("z", image="y"), {"$patch": "replace"}]}},
        _pod_spec(containers=[_c("z", image="y")]),
        id="patch-replace-list",
    ),
    pytest.param(
        POD,
        _pod_spec(
            containers=[_c("a", resources={"limits": {"cpu": "1"}, "requests": {"cpu": "1"}})]
        ),
        {
            "spec": {
                "containers": [
                    _c("a", resources={"$patch": "replace", "limits": {"memory": "1Gi"}})
                ]
            }
        },
        _pod_spec(containers=[_c("a", resources={"limits": {"memory": "1Gi"}})]),
        id="patch-replace-object",
    ),
    pytest.param(
        POD,
        _pod_spec(nodeSelector={"disk": "ssd"}, containers=[_c("a")]),
        {"spec": {"nodeSelector": {"$patch": "delete"}}},
        _pod_spec(nodeSelector={}, containers=[_c("a")]),
        id="patch-delete-object",
    ),
    pytest.param(
        POD,
        {"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}},
        {"metadata": {"labels": {"a": None, "c": "3"}}},
        {"metadata": {"name": "p", "labels": {"b": "2", "c": "3"}}},
        id="labels-merge-null-deletes",
    ),
    pytest.param(
        POD,
        _pod_spec(containers=[_c("a")], hostname="h"),
        {"spec": {"hostname": None}},
        _pod_spec(containers=[_c("a")]),
        id="null-deletes-field",
    ),
    pytest.param(
        POD,
        {"metadata": {"name": "p", "finalizers": ["a", "b"]}},
        {"metadata": {"finalizers": ["c", "a"]}},
        {"metadata": {"name": "p", "finalizers": ["c", "a", "b"]}},
        id="finalizers-merged-as-set",
    ),
    pytest.param(
        POD,
        {"metadata": {"name": "p", "finalizers": ["a", "b", "c"]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "x"]}},
        {"metadata": {"name": "p", "finalizers": ["a", "c"]}},
        id="deleteFromPrimitiveList",
    ),
    pytest.param(
        POD,
        _pod_spec(containers=[_c("a"), _c("b"), _c("c")]),
        {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}},
        _pod_spec(containers=[_c("c"), _c("a"), _c("b")]),
        id="setElementOrder-reorders",
    ),
    pytest.param(
        POD,
        _pod_spec(containers=[_c("a"), _c("b")]),
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "new"}, {"name": "b"}],
                "containers": [_c("new", image="x")],
            }
        },
        _pod_spec(containers=[_c("a"), _c("new", image="x"), _c("b")]),
        id="setElementOrder-places-new-item",
    ),
    pytest.param(
        POD,
        {
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "False"},
                    {"type": "PodScheduled", "status": "True"},
                ]
            }
        },
        {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        {
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "True"},
                    {"type": "PodScheduled", "status": "True"},
                ]
            }
        },
        id="status-conditions-by-type",
    ),
    pytest.param(
        DEPLOYMENT,
        {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "30%"}}}},
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        {"spec": {"strategy": {"type": "Recreate"}}},
        id="deployment-strategy-retainKeys",
    ),
    pytest.param(
        DEPLOYMENT,
        {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "30%"}}}},
        {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1}}}},
        {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}},
        id="deployment-strategy-merged-without-directive",
    ),
    pytest.param(
        DEPLOYMENT,
        {"spec": {"replicas": 1}},
        {
            "spec": {
                "template": {"spec": {"containers": [_c("a", env=[{"name": "X", "value": None}])]}}
            }
        },
        {
            "spec": {
                "replicas": 1,
                "template": {"spec": {"containers": [_c("a", env=[{"name": "X"}])]}},
            }
        },
        id="new-subtree-taken-without-nulls",
    ),
    pytest.param(
        DEPLOYMENT,
        {"spec": {"template": {"spec": {"containers": [_c("a", image="x")]}}}},
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [_c("a", env=[{"name": "N", "value": "1"}])],
                        "$setElementOrder/containers": [{"name": "a"}],
                    }
                }
            }
        },
        {
            "spec": {
                "template": {
                    "spec": {"containers": [_c("a", image="x", env=[{"name": "N", "value": "1"}])]}
                }
            }
        },
        id="deep-set-env-as-kubectl-set-env",
    ),
    pytest.param(
        POD,
        {
            "metadata": {
                "name": "p",
                "ownerReferences": [{"uid": "1", "name": "a"}, {"uid": "2", "name": "b"}],
            }
        },
        {"metadata": {"ownerReferences": [{"uid": "2", "controller": True}]}},
        {
            "metadata": {
                "name": "p",
                "ownerReferences": [
                    {"uid": "1", "name": "a"},
                    {"uid": "2", "name": "b", "controller": True},
                ],
            }
        },
        id="ownerReferences-by-uid",
    ),
]


@pytest.mark.parametrize(("schema", "original", "patch", "expected"), CASES)
def test_strategic_merge_patch(
    schema: Descriptor, original: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    before_original, before_patch = copy.deepcopy(original), copy.deepcopy(patch)
    assert strategic_merge_patch(original, patch, schema) == expected
    assert (original, patch) == (before_original, before_patch), "inputs must not change"


BAD = [
    pytest.param(
        {"spec": {"containers": [{"image": "x"}]}},
        "no merge key 'name'",
        id="item-without-merge-key",
    ),
    pytest.param(
        {"spec": {"containers": [{"$patch": "merge"}]}},
        "merging lists cannot yet be specified",
        id="patch-merge-in-list",
    ),
    pytest.param({"spec": {"$patch": "explode"}}, "unknown patch type", id="unknown-patch-type"),
    pytest.param({"spec": {"$frobnicate": 1}}, "unknown directive", id="unknown-directive"),
    pytest.param(
        {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name"], "emptyDir": {}}]}},
        "not listed",
        id="retainKeys-missing-a-set-key",
    ),
    pytest.param(
        {"spec": {"$setElementOrder/containers": {"name": "a"}}},
        "must be a list",
        id="order-not-list",
    ),
]


@pytest.mark.parametrize(("patch", "message"), BAD)
def test_malformed_patches_are_refused(patch: dict[str, Any], message: str) -> None:
    original = _pod_spec(containers=[_c("a")], volumes=[{"name": "v", "emptyDir": {}}])
    with pytest.raises(StrategicPatchError, match=message):
        strategic_merge_patch(original, patch, POD)


@pytest.mark.parametrize(
    ("patch_type", "patch", "expected_replicas"),
    [
        pytest.param("merge", {"spec": {"replicas": 3}}, 3, id="merge"),
        pytest.param(
            "json", [{"op": "replace", "path": "/spec/replicas", "value": 4}], 4, id="json"
        ),
        pytest.param("strategic", {"spec": {"replicas": 5}}, 5, id="strategic"),
    ],
)
def test_apply_patch_dispatches_every_type(
    patch_type: str, patch: Any, expected_replicas: int
) -> None:
    assert patch_type in PATCH_TYPES
    result = apply_patch(
        patch_type, {"spec": {"replicas": 1}}, patch, schema=deployment_pb2.Deployment
    )
    assert result == {"spec": {"replicas": expected_replicas}}


@pytest.mark.parametrize(
    ("patch_type", "patch", "message"),
    [
        pytest.param("apply", {}, "unsupported patch type", id="unknown-type"),
        pytest.param("merge", [], "must be a JSON object", id="merge-not-object"),
        pytest.param("strategic", [], "must be a JSON object", id="strategic-not-object"),
        pytest.param(
            "strategic", {"spec": {"$patch": "x"}}, "unknown patch type", id="strategic-bad"
        ),
    ],
)
def test_apply_patch_errors_are_patch_errors(patch_type: str, patch: Any, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        apply_patch(patch_type, {"spec": {}}, patch, schema=DEPLOYMENT)
