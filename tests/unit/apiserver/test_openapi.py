"""The OpenAPI v2 and v3 documents have Kubernetes' shapes.

Expected values are those of kubernetes/kubernetes api/openapi-spec
(swagger.json, v3/apis__apps__v1_openapi.json): definition names, the
group-version-kind and patch extensions, IntOrString / Time / Quantity
forms, the allOf-wrapped references of v3, and the PATCH operation kubectl
looks for before using a document for client-side apply.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from apiserver.rest import openapi
from pinnace.machinery import kinds
from pinnace.machinery.apischema import SCHEMA

V3_APPS = "apis/apps/v1"


def _v3_schemas(path: str = V3_APPS) -> dict[str, Any]:
    return openapi.v3_document(path)["components"]["schemas"]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


@pytest.mark.parametrize(
    ("message", "name"),
    [
        ("pinnace.api.apps.v1.Deployment", "io.k8s.api.apps.v1.Deployment"),
        ("pinnace.api.core.v1.PodSpec", "io.k8s.api.core.v1.PodSpec"),
        ("pinnace.api.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
        ("pinnace.api.coordination.v1.Lease", "io.k8s.api.coordination.v1.Lease"),
        ("pinnace.api.batch.v1.JobList", "io.k8s.api.batch.v1.JobList"),
    ],
    ids=["deployment", "podspec", "objectmeta", "lease", "list"],
)
def test_definition_names(message: str, name: str) -> None:
    assert openapi.definition_name(message) == name


def _documents() -> list[Any]:
    docs = [pytest.param(openapi.v2_document(), "#/definitions/", "definitions", id="v2")]
    for path in openapi.v3_paths():
        doc = openapi.v3_document(path)
        docs.append(pytest.param(doc, "#/components/schemas/", "components", id=path))
    return docs


@pytest.mark.parametrize(("doc", "prefix", "where"), _documents())
def test_every_reference_resolves_to_a_built_schema(
    doc: dict[str, Any], prefix: str, where: str
) -> None:
    schemas = doc["definitions"] if where == "definitions" else doc["components"]["schemas"]
    refs = set(_refs(doc))
    assert refs and all(ref.startswith(prefix) for ref in refs)
    assert {ref.removeprefix(prefix) for ref in refs} <= set(schemas)
    assert [name for name, schema in schemas.items() if not schema] == []


@pytest.mark.parametrize("info", kinds.KINDS, ids=[k.kind for k in kinds.KINDS])
def test_every_kind_and_its_list_carry_their_group_version_kind(info: kinds.KindInfo) -> None:
    definitions = openapi.v2_document()["definitions"]
    name = openapi.definition_name(info.message_name)
    gvk = {"group": info.group, "kind": info.kind, "version": info.version}
    assert definitions[name]["x-kubernetes-group-version-kind"] == [gvk]
    assert definitions[f"{name}List"]["x-kubernetes-group-version-kind"] == [
        {**gvk, "kind": f"{info.kind}List"}
    ]
    assert definitions[f"{name}List"]["required"] == ["items"]


def test_kubectl_apply_finds_a_strategic_patch_operation_for_every_kind() -> None:
    """kubectl 1.32 uses a v3 document for client-side apply when a PATCH
    operation tagged with the kind's GVK accepts strategic merge patch, and
    for server-side validation when it declares fieldValidation."""
    found = set()
    for path in openapi.v3_paths():
        for item in openapi.v3_document(path)["paths"].values():
            op = item.get("patch")
            if (
                op is None
                or "application/strategic-merge-patch+json" not in op["requestBody"]["content"]
            ):
                continue
            assert "fieldValidation" in {p["name"] for p in op["parameters"]}
            gvk = op["x-kubernetes-group-version-kind"]
            found.add((gvk["group"], gvk["version"], gvk["kind"]))
    assert {(k.group, k.version, k.kind) for k in kinds.KINDS} <= found


@pytest.mark.parametrize(
    ("definition", "field", "expected"),
    [
        pytest.param(
            "io.k8s.api.core.v1.PodSpec",
            "containers",
            {
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge",
            },
            id="containers",
        ),
        pytest.param(
            "io.k8s.api.core.v1.PodSpec",
            "volumes",
            {
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge,retainKeys",
            },
            id="volumes",
        ),
        pytest.param(
            "io.k8s.api.core.v1.Container",
            "ports",
            {
                "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                "x-kubernetes-patch-merge-key": "containerPort",
            },
            id="ports",
        ),
        pytest.param(
            "io.k8s.api.apps.v1.DeploymentSpec",
            "strategy",
            {"x-kubernetes-patch-strategy": "retainKeys", "default": {}},
            id="strategy",
        ),
        pytest.param(
            "io.k8s.api.core.v1.PodSpec",
            "tolerations",
            {"x-kubernetes-list-type": "atomic", "type": "array"},
            id="tolerations-atomic",
        ),
        pytest.param(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "creationTimestamp",
            {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}]},
            id="time-ref",
        ),
        pytest.param(
            "io.k8s.api.core.v1.ResourceRequirements",
            "limits",
            {
                "additionalProperties": {
                    "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"
                }
            },
            id="quantity-map",
        ),
        pytest.param(
            "io.k8s.api.apps.v1.RollingUpdateDeployment",
            "maxSurge",
            {
                "allOf": [
                    {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}
                ]
            },
            id="int-or-string-ref",
        ),
        pytest.param(
            "io.k8s.api.apps.v1.ControllerRevision",
            "revision",
            {"type": "integer", "format": "int64", "default": 0},
            id="int64-always-written",
        ),
        pytest.param(
            "io.k8s.api.apps.v1.DeploymentCondition",
            "type",
            {"type": "string", "default": ""},
            id="string-always-written",
        ),
    ],
)
def test_v3_properties(definition: str, field: str, expected: dict[str, Any]) -> None:
    prop = _v3_schemas()[definition]["properties"][field]
    assert {k: prop.get(k) for k in expected} == expected
    assert prop["description"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            {
                "format": "int-or-string",
                "x-kubernetes-int-or-string": True,
                "oneOf": [{"type": "integer"}, {"type": "string"}],
            },
            id="int-or-string",
        ),
        pytest.param(
            "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
            {"type": "string", "format": "date-time"},
            id="time",
        ),
        pytest.param(
            "io.k8s.apimachinery.pkg.api.resource.Quantity",
            {"oneOf": [{"type": "string"}, {"type": "number"}]},
            id="quantity",
        ),
    ],
)
def test_v3_special_types(name: str, expected: dict[str, Any]) -> None:
    schema = _v3_schemas()[name]
    assert {k: schema.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            {"type": "string", "format": "int-or-string"},
            id="int-or-string",
        ),
        pytest.param(
            "io.k8s.apimachinery.pkg.api.resource.Quantity", {"type": "string"}, id="quantity"
        ),
    ],
)
def test_v2_special_types(name: str, expected: dict[str, Any]) -> None:
    schema = openapi.v2_document()["definitions"][name]
    assert {k: schema.get(k) for k in expected} == expected


def test_v2_references_are_bare_with_their_description() -> None:
    prop = openapi.v2_document()["definitions"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"][
        "strategy"
    ]
    assert prop["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy"
    assert prop["x-kubernetes-patch-strategy"] == "retainKeys"
    assert "allOf" not in prop


def _walk(schemas: dict[str, Any], root: str, path: list[str]) -> dict[str, Any]:
    """Follow fields as kubectl explain does: through allOf references."""
    schema = schemas[root]
    for field in path:
        prop = schema["properties"][field]
        target = prop.get("allOf", [prop])[0].get("$ref") or prop.get("$ref")
        schema = schemas[target.rsplit("/", 1)[-1]] if target else prop
    return schema


def test_explain_deployment_spec_strategy() -> None:
    """`kubectl explain deployment.spec.strategy`: the kind found by its GVK,
    then spec -> strategy, described, with its own fields described."""
    schemas = _v3_schemas()
    root = next(
        name
        for name, schema in schemas.items()
        if {"group": "apps", "kind": "Deployment", "version": "v1"}
        in schema.get("x-kubernetes-group-version-kind", [])
    )
    strategy = _walk(schemas, root, ["spec", "strategy"])
    assert strategy["description"].startswith("DeploymentStrategy describes how to replace")
    assert set(strategy["properties"]) == {"type", "rollingUpdate"}
    assert all(p["description"] for p in strategy["properties"].values())
    surge = _walk(schemas, root, ["spec", "strategy", "rollingUpdate", "maxSurge"])
    assert surge["format"] == "int-or-string"


def test_v3_index_lists_each_group_version_with_its_hash() -> None:
    index = openapi.v3_index()
    assert set(index["paths"]) == {
        "api/v1",
        "apis/apps/v1",
        "apis/batch/v1",
        "apis/coordination.k8s.io/v1",
        "apis/discovery.k8s.io/v1",
        "apis/rbac.authorization.k8s.io/v1",
    }
    for path, entry in index["paths"].items():
        body = openapi.v3_json(path)
        digest = hashlib.sha512(body).hexdigest().upper()
        assert entry["serverRelativeURL"] == f"/openapi/v3/{path}?hash={digest}"
        assert json.loads(body)["openapi"] == "3.0.0"
    assert json.loads(openapi.v3_index_json()) == index


def test_v3_document_of_an_unserved_group_version_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        openapi.v3_document("apis/policy/v1")


def test_v3_group_version_holds_only_its_own_paths() -> None:
    paths = openapi.v3_document("apis/batch/v1")["paths"]
    assert paths and all(p.startswith("/apis/batch/v1/") for p in paths)
    assert "/apis/batch/v1/namespaces/{namespace}/jobs/{name}/status" in paths
    assert "/apis/batch/v1/cronjobs" in paths  # all namespaces


@pytest.mark.parametrize(
    ("path", "method", "operation_id", "gvk_kind"),
    [
        (
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
            "patch",
            "patchAppsV1NamespacedDeployment",
            "Deployment",
        ),
        (
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
            "put",
            "replaceAppsV1NamespacedDeploymentScale",
            "Scale",
        ),
        ("/api/v1/nodes/{name}/status", "get", "readCoreV1NodeStatus", "Node"),
        ("/api/v1/pods", "get", "listCoreV1PodForAllNamespaces", "Pod"),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}/binding",
            "post",
            "createCoreV1NamespacedPodBinding",
            "Binding",
        ),
        (
            "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
            "delete",
            "deletecollectionCoordinationV1NamespacedLease",
            "Lease",
        ),
    ],
    ids=["patch", "scale", "node-status", "all-namespaces", "binding", "deletecollection"],
)
def test_operations(path: str, method: str, operation_id: str, gvk_kind: str) -> None:
    gv = "api/v1" if path.startswith("/api/") else "/".join(path.split("/")[1:4])
    op = openapi.v3_document(gv)["paths"][path][method]
    assert op["operationId"] == operation_id
    assert op["x-kubernetes-group-version-kind"]["kind"] == gvk_kind
    v2_op = openapi.v2_document()["paths"][path][method]
    assert v2_op["operationId"] == operation_id


def test_every_field_of_every_served_kind_has_its_schema_facts() -> None:
    """apischema (generated from Go) knows every field the protos have."""
    missing = []
    for name, schema in openapi.v2_document()["definitions"].items():
        if not name.startswith("io.k8s.api.") and ".meta.v1." not in name:
            continue
        for field in schema.get("properties", {}):
            message = (
                "pinnace.api."
                + name.rsplit(".", 3)[-3]
                + "."
                + name.rsplit(".", 2)[-2]
                + "."
                + name.rsplit(".", 1)[-1]
            )
            if message in SCHEMA and field not in SCHEMA[message].fields:
                missing.append(f"{name}.{field}")
    assert missing == []


def test_documents_are_built_once() -> None:
    assert openapi.v2_json() is openapi.v2_json()
    assert openapi.v3_json(V3_APPS) is openapi.v3_json(V3_APPS)
    assert json.loads(openapi.v2_json())["swagger"] == "2.0"
