"""FieldsV1 encoding and decoding, path printing, and the merge schema."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.ssa import decode_fields_v1, encode_fields_v1, path_string
from pinnace.machinery.ssa.fieldsets import Path, key_element, value_element
from pinnace.machinery.ssa.schema import root, table_list_kind

C = 'k:{"name":"c"}'

ENCODINGS: list[Any] = [
    pytest.param(set(), {}, id="empty"),
    pytest.param({("f:spec", "f:replicas")}, {"f:spec": {"f:replicas": {}}}, id="leaf"),
    pytest.param(
        {("f:metadata", "f:labels", "f:app"), ("f:metadata", "f:labels", "f:tier")},
        {"f:metadata": {"f:labels": {"f:app": {}, "f:tier": {}}}},
        id="map-entries",
    ),
    pytest.param(
        {
            ("f:spec", "f:containers", C),
            ("f:spec", "f:containers", C, "f:name"),
            ("f:spec", "f:containers", C, "f:image"),
        },
        {"f:spec": {"f:containers": {C: {".": {}, "f:image": {}, "f:name": {}}}}},
        id="keyed-item-with-dot",
    ),
    pytest.param(
        {("f:metadata", "f:finalizers", 'v:"a/b"')},
        {"f:metadata": {"f:finalizers": {'v:"a/b"': {}}}},
        id="set-item",
    ),
    pytest.param(
        {("f:metadata", "f:labels"), ("f:metadata", "f:labels", "f:app")},
        {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
        id="map-itself-and-entry",
    ),
]


@pytest.mark.parametrize(("paths", "encoded"), ENCODINGS)
def test_fields_v1_round_trip(paths: set[Path], encoded: dict[str, Any]) -> None:
    assert encode_fields_v1(paths) == encoded
    assert decode_fields_v1(encoded) == frozenset(paths)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"f:spec": 1}, id="not-an-object"),
        pytest.param({"x:spec": {}}, id="unknown-prefix"),
    ],
)
def test_decode_rejects(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        decode_fields_v1(bad)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        pytest.param(("f:spec", "f:replicas"), ".spec.replicas", id="fields"),
        pytest.param(
            ("f:spec", "f:containers", C, "f:image"), '.spec.containers[name="c"].image', id="key"
        ),
        pytest.param(
            ("f:ports", key_element({"protocol": "TCP", "containerPort": 80})),
            '.ports[containerPort=80,protocol="TCP"]',
            id="two-keys-sorted",
        ),
        pytest.param(("f:finalizers", value_element("x")), '.finalizers[="x"]', id="set"),
        pytest.param(("f:args", "i:0"), ".args[0]", id="index"),
    ],
)
def test_path_string(path: Path, text: str) -> None:
    assert path_string(path) == text


@pytest.mark.parametrize(
    ("message", "field", "kind"),
    [
        pytest.param("pinnace.api.core.v1.PodSpec", "containers", ("map", ("name",)), id="map"),
        pytest.param(
            "pinnace.api.core.v1.Container",
            "ports",
            ("map", ("containerPort", "protocol")),
            id="map-two-keys",
        ),
        pytest.param("pinnace.api.core.v1.Container", "args", ("atomic", ()), id="atomic"),
        pytest.param("pinnace.api.meta.v1.ObjectMeta", "finalizers", ("set", ()), id="set"),
        pytest.param("pinnace.api.core.v1.PodSpec", "nothing", ("atomic", ()), id="unlisted"),
    ],
)
def test_table_list_kind(message: str, field: str, kind: tuple[str, tuple[str, ...]]) -> None:
    assert table_list_kind(message, field) == kind


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param(["spec"], "struct", id="struct"),
        pytest.param(["spec", "selector"], "leaf", id="atomic-struct"),
        pytest.param(["metadata", "labels"], "map", id="granular-map"),
        pytest.param(["spec", "template", "spec", "nodeSelector"], "leaf", id="atomic-map"),
        pytest.param(["spec", "template", "spec", "containers"], "list", id="keyed-list"),
        pytest.param(["spec", "strategy", "rollingUpdate", "maxSurge"], "leaf", id="int-or-str"),
        pytest.param(["spec", "replicas"], "leaf", id="scalar"),
    ],
)
def test_schema_nodes(path: list[str], kind: str) -> None:
    node = root(deployment_pb2.Deployment)
    for name in path:
        node = node.child(name, table_list_kind)
    assert node.kind == kind


def test_schema_root_takes_a_descriptor() -> None:
    descriptor: Any = pod_pb2.Pod.DESCRIPTOR  # the stubs type it as either implementation
    assert root(descriptor).child("spec", table_list_kind).kind == "struct"


def test_key_element_tells_true_from_1_and_takes_unhashable_values() -> None:
    assert key_element({"port": 1}) == 'k:{"port":1}'
    assert key_element({"port": True}) == 'k:{"port":true}'
    assert key_element({"b": "x", "a": [1]}) == 'k:{"a":[1],"b":"x"}'
