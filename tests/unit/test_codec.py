"""Tests for pinnace.machinery.codec: shape of output, strict input, round trips."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import yaml
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, struct_pb2

from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec
from pinnace.machinery.codec import (
    CodecError,
    FieldError,
    from_dict,
    from_json,
    from_yaml,
    to_dict,
    to_json,
    to_yaml,
)

# --------------------------------------------------- a test-only message type
# Built at runtime from a FileDescriptorProto (no protoc), to cover field kinds
# the meta messages lack: quantity maps and strings, enums, bytes, doubles,
# uint32, Struct/Value, int-keyed maps, maps of messages, oneofs.

F = descriptor_pb2.FieldDescriptorProto


def _field(name, number, type_, *, json_name=None, repeated=False, type_name=None, oneof=None):
    fd = F(name=name, number=number, type=type_)
    fd.label = F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
    if json_name:
        fd.json_name = json_name
    if type_name:
        fd.type_name = type_name
    if oneof is not None:
        fd.oneof_index = oneof
    return fd


def _map_entry(name, key_type, value_type, value_type_name=None):
    entry = descriptor_pb2.DescriptorProto(name=name)
    entry.options.map_entry = True
    entry.field.append(_field("key", 1, key_type))
    entry.field.append(_field("value", 2, value_type, type_name=value_type_name))
    return entry


def _build_test_messages():
    fdp = descriptor_pb2.FileDescriptorProto(
        name="pinnace/test/codec_test.proto",
        package="pinnace.test.codec",
        syntax="proto3",
        dependency=["google/protobuf/struct.proto", "pinnace/api/meta/v1/meta.proto"],
    )
    color = fdp.enum_type.add(name="Color")
    color.value.add(name="COLOR_UNSPECIFIED", number=0)
    color.value.add(name="RED", number=1)

    res = fdp.message_type.add(name="Resources")
    for i, name in enumerate(("requests", "limits", "other"), start=1):
        entry = f"{name.capitalize()}Entry"
        res.nested_type.append(_map_entry(entry, F.TYPE_STRING, F.TYPE_STRING))
        res.field.append(
            _field(
                name,
                i,
                F.TYPE_MESSAGE,
                repeated=True,
                type_name=f".pinnace.test.codec.Resources.{entry}",
            )
        )
    res.field.append(_field("size_limit", 4, F.TYPE_STRING))
    res.field.append(_field("plain", 5, F.TYPE_STRING))

    msg = fdp.message_type.add(name="Everything")
    msg.oneof_decl.add(name="choice")
    msg.nested_type.append(_map_entry("ByNumberEntry", F.TYPE_INT32, F.TYPE_STRING))
    msg.nested_type.append(
        _map_entry(
            "PerContainerEntry", F.TYPE_STRING, F.TYPE_MESSAGE, ".pinnace.test.codec.Resources"
        )
    )
    ios = ".pinnace.api.meta.v1.IntOrString"
    msg.field.extend(
        [
            _field("ratio", 1, F.TYPE_DOUBLE),
            _field("small", 2, F.TYPE_UINT32),
            _field("blob", 3, F.TYPE_BYTES),
            _field("color", 4, F.TYPE_ENUM, type_name=".pinnace.test.codec.Color"),
            _field("data", 5, F.TYPE_MESSAGE, type_name=".google.protobuf.Struct"),
            _field("any_value", 6, F.TYPE_MESSAGE, type_name=".google.protobuf.Value"),
            _field(
                "by_number",
                7,
                F.TYPE_MESSAGE,
                repeated=True,
                type_name=".pinnace.test.codec.Everything.ByNumberEntry",
            ),
            _field("ports", 8, F.TYPE_MESSAGE, repeated=True, type_name=ios),
            _field("max_surge", 9, F.TYPE_MESSAGE, type_name=ios),
            _field(
                "per_container",
                10,
                F.TYPE_MESSAGE,
                repeated=True,
                type_name=".pinnace.test.codec.Everything.PerContainerEntry",
            ),
            _field("numbers", 11, F.TYPE_INT32, repeated=True),
            _field("alpha", 12, F.TYPE_STRING, oneof=0),
            _field("beta", 13, F.TYPE_STRING, oneof=0),
            _field("count", 14, F.TYPE_INT32),
            _field("resources", 15, F.TYPE_MESSAGE, type_name=".pinnace.test.codec.Resources"),
        ]
    )
    pool = descriptor_pool.Default()
    try:
        pool.Add(fdp)
    except TypeError:  # already added by an earlier import of this module
        pass
    get = message_factory.GetMessageClass
    return (
        get(pool.FindMessageTypeByName("pinnace.test.codec.Everything")),
        get(pool.FindMessageTypeByName("pinnace.test.codec.Resources")),
    )


Everything, Resources = _build_test_messages()


def _errors(cls, data, **kwargs) -> list[str]:
    with pytest.raises(CodecError) as info:
        from_dict(cls, data, **kwargs)
    return [str(e) for e in info.value.errors]


# ------------------------------------------------------------------- to_dict


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        pytest.param(meta_pb2.ObjectMeta(), {}, id="empty-message"),
        pytest.param(
            meta_pb2.ObjectMeta(name="", generation=0, labels={}, finalizers=[]),
            {},
            id="defaults-and-empty-collections-omitted",
        ),
        pytest.param(
            meta_pb2.ObjectMeta(generation=2**40), {"generation": 2**40}, id="int64-as-int"
        ),
        pytest.param(
            meta_pb2.ObjectMeta(deletion_grace_period_seconds=0),
            {"deletionGracePeriodSeconds": 0},
            id="optional-zero-emitted",
        ),
        pytest.param(
            meta_pb2.DeleteOptions(orphan_dependents=False),
            {"orphanDependents": False},
            id="optional-false-emitted",
        ),
        pytest.param(
            meta_pb2.DeleteOptions(propagation_policy=""),
            {"propagationPolicy": ""},
            id="optional-empty-string-emitted",
        ),
        pytest.param(
            meta_pb2.DeleteOptions(preconditions=meta_pb2.Preconditions()),
            {"preconditions": {}},
            id="set-empty-submessage-as-empty-object",
        ),
        pytest.param(
            meta_pb2.ListMeta(continue_token="abc", remaining_item_count=0),
            {"continue": "abc", "remainingItemCount": 0},
            id="json-name-override",
        ),
        pytest.param(
            meta_pb2.ObjectMeta(labels={"b": "2", "a": "1"}),
            {"labels": {"a": "1", "b": "2"}},
            id="map-keys-sorted",
        ),
        pytest.param(
            meta_pb2.ObjectMeta(
                finalizers=["f"], name="n", owner_references=[meta_pb2.OwnerReference(name="o")]
            ),
            {
                "name": "n",
                "ownerReferences": [{"apiVersion": "", "kind": "", "name": "o", "uid": ""}],
                "finalizers": ["f"],
            },
            id="descriptor-order-and-kubernetes-zero-fields",
        ),
        pytest.param(meta_pb2.IntOrString(int_val=0), 0, id="intorstring-int-zero"),
        pytest.param(meta_pb2.IntOrString(str_val="25%"), "25%", id="intorstring-string"),
        pytest.param(
            Everything(
                ratio=0.5,
                small=7,
                blob=b"\x00hi",
                color=1,
                by_number={2: "b", 1: "a"},
                ports=[meta_pb2.IntOrString(int_val=80), meta_pb2.IntOrString(str_val="http")],
                alpha="",
            ),
            {
                "ratio": 0.5,
                "small": 7,
                "blob": "AGhp",
                "color": "RED",
                "byNumber": {"1": "a", "2": "b"},
                "ports": [80, "http"],
                "alpha": "",
            },
            id="double-uint-bytes-enum-intmap-intorstring-list-oneof",
        ),
    ],
)
def test_to_dict(msg, expected):
    assert to_dict(msg) == expected
    if isinstance(expected, dict):
        assert list(to_dict(msg)) == list(expected)


def test_to_dict_struct_and_value_are_plain_json():
    data = struct_pb2.Struct()
    data.update({"spec": {"replicas": 3, "ratio": 0.5, "tags": ["a", None, True]}})
    msg = Everything(data=data, any_value=struct_pb2.Value(string_value="x"))
    assert to_dict(msg) == {
        "data": {"spec": {"ratio": 0.5, "replicas": 3, "tags": ["a", None, True]}},
        "anyValue": "x",
    }
    assert isinstance(to_dict(msg)["data"]["spec"]["replicas"], int)


def test_to_json_is_compact_with_numbers():
    msg = meta_pb2.ObjectMeta(name="x", generation=3, deletion_grace_period_seconds=30)
    assert to_json(msg) == '{"name":"x","generation":3,"deletionGracePeriodSeconds":30}'


def test_to_yaml_is_block_style_and_quotes_lookalike_strings():
    msg = meta_pb2.ObjectMeta(
        name="x", labels={"n": "1", "b": "true", "t": "2024-05-01"}, finalizers=["a"]
    )
    text = to_yaml(msg)
    assert text == (
        "name: x\nlabels:\n  b: 'true'\n  n: '1'\n  t: '2024-05-01'\nfinalizers:\n- a\n"
    )
    assert from_yaml(meta_pb2.ObjectMeta, text) == msg


# ---------------------------------------------------------------- from_dict


@pytest.mark.parametrize(
    ("cls", "data", "expected"),
    [
        pytest.param(
            meta_pb2.ObjectMeta,
            {"name": "x", "generation": 5, "labels": {"a": "b"}},
            meta_pb2.ObjectMeta(name="x", generation=5, labels={"a": "b"}),
            id="basic",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"name": None, "labels": None, "deletionGracePeriodSeconds": None},
            meta_pb2.ObjectMeta(),
            id="nulls-are-unset",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"generation": 3.0},
            meta_pb2.ObjectMeta(generation=3),
            id="integral-float-for-int",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"creationTimestamp": dt.datetime(2024, 5, 1, 12, 0, 0)},
            meta_pb2.ObjectMeta(creation_timestamp="2024-05-01T12:00:00Z"),
            id="naive-datetime-is-utc",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {
                "creationTimestamp": dt.datetime(
                    2024, 5, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))
                )
            },
            meta_pb2.ObjectMeta(creation_timestamp="2024-05-01T12:00:00Z"),
            id="aware-datetime-to-utc",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"name": dt.date(2024, 5, 1)},
            meta_pb2.ObjectMeta(name="2024-05-01"),
            id="date-to-text",
        ),
        pytest.param(
            meta_pb2.ListMeta,
            {"continue": "tok"},
            meta_pb2.ListMeta(continue_token="tok"),
            id="json-name-override",
        ),
        pytest.param(
            meta_pb2.DeleteOptions,
            {"orphanDependents": False, "gracePeriodSeconds": 0, "preconditions": {}},
            meta_pb2.DeleteOptions(
                orphan_dependents=False,
                grace_period_seconds=0,
                preconditions=meta_pb2.Preconditions(),
            ),
            id="optional-presence-and-empty-submessage",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"labels": {1: "a", False: "b"}},
            meta_pb2.ObjectMeta(labels={"1": "a", "false": "b"}),
            id="yaml-non-string-map-keys-become-text",
        ),
        pytest.param(
            Everything, {"maxSurge": 1}, Everything(max_surge={"int_val": 1}), id="intorstring-int"
        ),
        pytest.param(
            Everything,
            {"maxSurge": "25%"},
            Everything(max_surge={"str_val": "25%"}),
            id="intorstring-percent",
        ),
        pytest.param(
            Everything,
            {"maxSurge": "1"},
            Everything(max_surge={"str_val": "1"}),
            id="intorstring-digits-stay-string",
        ),
        pytest.param(
            Everything,
            {"ports": [80, "http"]},
            Everything(ports=[{"int_val": 80}, {"str_val": "http"}]),
            id="intorstring-list",
        ),
        pytest.param(
            Everything,
            {
                "color": "RED",
                "blob": "AGhp",
                "ratio": 1,
                "small": 4294967295,
                "byNumber": {"3": "c", 4: "d"},
            },
            Everything(
                color=1, blob=b"\x00hi", ratio=1.0, small=2**32 - 1, by_number={3: "c", 4: "d"}
            ),
            id="enum-bytes-double-uint32-intmap",
        ),
        pytest.param(
            Everything,
            {
                "resources": {
                    "requests": {"cpu": 1, "memory": 128974848},
                    "limits": {"cpu": 0.5, "memory": "1Gi"},
                }
            },
            Everything(
                resources={
                    "requests": {"cpu": "1", "memory": "128974848"},
                    "limits": {"cpu": "0.5", "memory": "1Gi"},
                }
            ),
            id="quantity-map-numbers-to-text",
        ),
        pytest.param(
            Everything,
            {"perContainer": {"web": {"sizeLimit": 2.0, "requests": {"cpu": 0.001}}}},
            Everything(per_container={"web": Resources(size_limit="2", requests={"cpu": "0.001"})}),
            id="quantity-string-and-map-of-messages",
        ),
    ],
)
def test_from_dict(cls, data, expected):
    assert from_dict(cls, data) == expected


def test_from_dict_struct_and_value():
    msg = from_dict(
        Everything,
        {
            "data": {"a": [1, {"b": None}], "when": dt.datetime(2024, 1, 2, 3, 4, 5)},
            "anyValue": [True],
        },
    )
    assert to_dict(msg) == {
        "data": {"a": [1, {"b": None}], "when": "2024-01-02T03:04:05Z"},
        "anyValue": [True],
    }


def test_fields_v1_is_kept_as_json_text_and_printed_as_the_object() -> None:
    tree = {"f:spec": {"f:replicas": {}, "f:containers": {'k:{"name":"c"}': {".": {}}}}}
    entry = from_dict(meta_pb2.ManagedFieldsEntry, {"manager": "m", "fieldsV1": tree})
    assert entry.fields_v1.raw == json.dumps(tree, separators=(",", ":")).encode()
    # The members keep the order they were given in (Kubernetes keeps the raw bytes).
    assert list(to_dict(entry)["fieldsV1"]["f:spec"]) == ["f:replicas", "f:containers"]
    assert to_dict(entry) == {"manager": "m", "fieldsV1": tree}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(["f:spec"], "expected an object, got a list", id="list"),
        pytest.param("f:spec", 'expected an object, got string "f:spec"', id="string"),
        pytest.param({"f:a": float("nan")}, "nan is not a JSON number", id="nan"),
    ],
)
def test_fields_v1_must_be_a_json_object(value: Any, message: str) -> None:
    with pytest.raises(CodecError) as err:
        from_dict(meta_pb2.ObjectMeta, {"managedFields": [{"manager": "m", "fieldsV1": value}]})
    assert message in str(err.value)
    assert str(err.value).startswith("managedFields[0].fieldsV1")


def test_from_dict_merges_into_an_instance():
    meta = meta_pb2.ObjectMeta(name="keep", labels={"a": "1"})
    result = from_dict(meta, {"labels": {"b": "2"}})
    assert result is meta
    assert meta == meta_pb2.ObjectMeta(name="keep", labels={"a": "1", "b": "2"})


@pytest.mark.parametrize(
    ("cls", "data", "expected"),
    [
        pytest.param(
            meta_pb2.ObjectMeta,
            {"nmae": "x"},
            ['nmae: unknown field "nmae"'],
            id="unknown-top-level",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"ownerReferences": [{"name": "a"}, {"name": "b", "kindd": "X"}]},
            ['ownerReferences[1].kindd: unknown field "kindd"'],
            id="unknown-in-list-item",
        ),
        pytest.param(
            Everything,
            {"perContainer": {"web": {"requests": {"cpu": "1"}, "limitz": {}}}},
            ['perContainer[web].limitz: unknown field "limitz"'],
            id="unknown-in-map-value",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"resource_version": "1", "Labels": {}},
            [
                'resource_version: unknown field "resource_version", did you mean "resourceVersion"?',
                'Labels: unknown field "Labels", did you mean "labels"?',
            ],
            id="proto-name-and-case-rejected-with-hint",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"generation": "5"},
            ['generation: expected an integer (int64), got string "5"'],
            id="string-for-int",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"generation": True},
            ["generation: expected an integer (int64), got boolean true"],
            id="bool-for-int",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"generation": 1.5},
            ["generation: expected an integer (int64), got number 1.5 with a fractional part"],
            id="fraction-for-int",
        ),
        pytest.param(
            meta_pb2.StatusDetails,
            {"retryAfterSeconds": 2**31},
            [
                "retryAfterSeconds: 2147483648 is out of range for int32 (allowed: -2147483648 to 2147483647)"
            ],
            id="int32-out-of-range",
        ),
        pytest.param(
            Everything,
            {"small": -1},
            ["small: -1 is out of range for uint32 (allowed: 0 to 4294967295)"],
            id="uint32-negative",
        ),
        pytest.param(
            meta_pb2.OwnerReference,
            {"controller": "true"},
            ['controller: expected a boolean (true or false), got string "true"'],
            id="string-for-bool",
        ),
        pytest.param(
            meta_pb2.OwnerReference,
            {"controller": 1},
            ["controller: expected a boolean (true or false), got number 1"],
            id="int-for-bool",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"labels": [{"a": "b"}]},
            ["labels: expected an object (map), got a list"],
            id="list-for-map",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"finalizers": "a"},
            ['finalizers: expected a list, got string "a"'],
            id="string-for-list",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"finalizers": ["a", None, 3]},
            [
                "finalizers[1]: null is not allowed in a list",
                "finalizers[2]: expected a string, got number 3",
            ],
            id="bad-list-items",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            {"labels": {"a": 1, "b": True, "c": None}, "annotations": {"x": 1.5}},
            [
                "labels[a]: expected a string, got number 1",
                "labels[b]: expected a string, got boolean true",
                "labels[c]: null is not allowed as a map value",
                "annotations[x]: expected a string, got number 1.5",
            ],
            id="label-and-annotation-values-must-be-strings",
        ),
        pytest.param(
            meta_pb2.DeleteOptions,
            {"preconditions": "x"},
            ['preconditions: expected an object, got string "x"'],
            id="string-for-message",
        ),
        pytest.param(
            Everything,
            {"resources": {"plain": 1, "other": {"cpu": 1}}},
            [
                "resources.other[cpu]: expected a string, got number 1",
                "resources.plain: expected a string, got number 1",
            ],
            id="numbers-not-converted-outside-quantity-fields",
        ),
        pytest.param(
            Everything,
            {"resources": {"requests": {"cpu": True}, "sizeLimit": [1]}},
            [
                'resources.requests[cpu]: expected a quantity (a string such as "500m" or a number), got boolean true',
                'resources.sizeLimit: expected a quantity (a string such as "500m" or a number), got a list',
            ],
            id="quantity-wrong-type",
        ),
        pytest.param(
            Everything,
            {"maxSurge": 1.5, "ports": [True, None]},
            [
                "maxSurge: expected an integer (int32), got number 1.5 with a fractional part",
                'ports[0]: expected an integer or a string (e.g. 1 or "25%"), got boolean true',
                "ports[1]: null is not allowed in a list",
            ],
            id="intorstring-bad",
        ),
        pytest.param(
            Everything,
            {"color": "BLUE", "blob": "not base64!"},
            [
                'color: unsupported value string "BLUE": allowed: "COLOR_UNSPECIFIED", "RED"',
                'blob: expected base64-encoded bytes, got string "not base64!"',
            ],
            id="enum-and-bytes",
        ),
        pytest.param(
            Everything,
            {"alpha": "a", "beta": "b"},
            ['beta: may not be set together with "alpha" (only one of them)'],
            id="oneof-conflict",
        ),
        pytest.param(
            Everything,
            {"data": {"x": {1, 2}}, "ratio": "1"},
            [
                'ratio: expected a number, got string "1"',
                "data.x: expected a JSON value, got a value of type set",
            ],
            id="struct-and-double",
        ),
        pytest.param(
            meta_pb2.ObjectMeta,
            ["name"],
            ["expected an object, got a list"],
            id="top-level-not-object",
        ),
    ],
)
def test_from_dict_errors(cls, data, expected):
    assert sorted(_errors(cls, data)) == sorted(expected)


def test_errors_are_all_collected_with_full_nested_paths():
    data = {
        "metadata": {"nme": "x", "labels": {"a": 1}},
        "details": {"causes": [{"reason": "ok"}, {"reasn": "x", "field": 5}]},
        "code": "404",
    }
    errors = _errors(meta_pb2.Status, data, path="status")
    assert errors == [
        'status.metadata.nme: unknown field "nme"',
        'status.metadata.labels: unknown field "labels"',
        'status.details.causes[1].reasn: unknown field "reasn"',
        "status.details.causes[1].field: expected a string, got number 5",
        'status.code: expected an integer (int32), got string "404"',
    ]


def test_codec_error_lists_every_error():
    err = CodecError([FieldError("a.b", "bad"), FieldError("", "worse")])
    assert str(err) == "a.b: bad\nworse"


def test_nested_unknown_field_path_in_status():
    errors = _errors(meta_pb2.Status, {"details": {"causes": [{}, {}, {"imagePullPolcy": "x"}]}})
    assert errors == ['details.causes[2].imagePullPolcy: unknown field "imagePullPolcy"']


# -------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    "msg",
    [
        pytest.param(
            meta_pb2.ObjectMeta(
                name="web",
                namespace="default",
                generation=2**62,
                labels={"app": "web"},
                annotations={"example.com/x": "1"},
                owner_references=[
                    meta_pb2.OwnerReference(name="rs", controller=True, block_owner_deletion=False)
                ],
                finalizers=["a", "b"],
                deletion_grace_period_seconds=0,
            ),
            id="object-meta",
        ),
        pytest.param(
            meta_pb2.DeleteOptions(
                grace_period_seconds=0,
                preconditions=meta_pb2.Preconditions(uid="", resource_version="5"),
                orphan_dependents=False,
                dry_run=["All"],
            ),
            id="delete-options",
        ),
        pytest.param(
            meta_pb2.LabelSelector(
                match_labels={"a": "b"},
                match_expressions=[
                    meta_pb2.LabelSelectorRequirement(key="k", operator="In", values=["x"])
                ],
            ),
            id="label-selector",
        ),
        pytest.param(
            meta_pb2.Status(
                metadata=meta_pb2.ListMeta(continue_token="c"),
                status="Failure",
                details=meta_pb2.StatusDetails(causes=[meta_pb2.StatusCause(field="spec")]),
                code=422,
            ),
            id="status",
        ),
        pytest.param(
            Everything(
                max_surge=meta_pb2.IntOrString(int_val=0),
                ports=[meta_pb2.IntOrString(str_val="25%")],
                per_container={"a": Resources(requests={"cpu": "1"})},
                numbers=[0, -1, 2**31 - 1],
                beta="",
                any_value=struct_pb2.Value(null_value=0),
            ),
            id="everything",
        ),
    ],
)
def test_round_trip(msg):
    cls = type(msg)
    assert from_dict(cls, to_dict(msg)) == msg
    assert from_json(cls, to_json(msg)) == msg
    assert from_yaml(cls, to_yaml(msg)) == msg
    assert json.loads(to_json(msg)) == to_dict(msg)


def test_yaml_manifest_with_unquoted_timestamp_and_quantities():
    text = """
    resources:
      requests: {cpu: 1, memory: 128974848}
      limits: {cpu: 0.5}
      sizeLimit: 1Gi
    data:
      created: 2024-05-01T12:00:00Z
    """
    msg = from_yaml(Everything, text)
    assert to_dict(msg) == {
        "data": {"created": "2024-05-01T12:00:00Z"},
        "resources": {
            "requests": {"cpu": "1", "memory": "128974848"},
            "limits": {"cpu": "0.5"},
            "sizeLimit": "1Gi",
        },
    }


@pytest.mark.parametrize(
    ("text", "start"),
    [
        pytest.param("{", "invalid JSON", id="json"),
        pytest.param("[1, 2]", "expected an object, got a list", id="json-list"),
    ],
)
def test_from_json_errors(text, start):
    with pytest.raises(CodecError) as info:
        from_json(meta_pb2.ObjectMeta, text)
    assert str(info.value).startswith(start)


def test_from_yaml_errors():
    with pytest.raises(CodecError, match="invalid YAML"):
        from_yaml(meta_pb2.ObjectMeta, "a: [")
    assert yaml  # PyYAML is a runtime dependency of the codec


def test_pod_manifest_when_kind_protos_exist():
    pod_pb2 = pytest.importorskip("pinnace.api.core.v1.pod_pb2")
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx", "imagePullPolcy": "Always"}]},
    }
    with pytest.raises(CodecError) as info:
        from_dict(pod_pb2.Pod, manifest)
    assert [str(e) for e in info.value.errors] == [
        'spec.containers[0].imagePullPolcy: unknown field "imagePullPolcy"'
    ]


def _container(**fields: Any) -> container_pb2.Container:
    return container_pb2.Container(name="c", **fields)


@pytest.mark.parametrize(
    "build,cleared,kept",
    [
        pytest.param(
            lambda: pod_pb2.PodSpec(
                containers=[_container(resources=container_pb2.ResourceRequirements())]
            ),
            ["containers[0].resources"],
            [],
            id="empty-struct-in-a-list-cleared",
        ),
        pytest.param(
            lambda: pod_pb2.PodSpec(security_context=pod_pb2.PodSecurityContext()),
            [],
            ["security_context"],
            id="empty-pointer-kept",
        ),
        pytest.param(
            lambda: pod_pb2.PodSpec(
                containers=[
                    _container(resources=container_pb2.ResourceRequirements(limits={"cpu": "1"}))
                ]
            ),
            [],
            ["containers[0].resources"],
            id="non-empty-struct-kept",
        ),
    ],
)
def test_canonicalize(build: Any, cleared: list[str], kept: list[str]) -> None:
    """Set-but-empty non-pointer structs are cleared (JSON cannot tell them
    from unset); pointers keep their presence; the result round-trips."""
    spec = build()
    codec.canonicalize(spec)

    def present(path: str) -> bool:
        holder: Any = spec
        *parents, leaf = path.split(".")
        for part in parents:
            name, _, index = part.partition("[")
            holder = getattr(holder, name)[int(index[:-1])] if index else getattr(holder, name)
        return bool(holder.HasField(leaf))

    assert [p for p in cleared if present(p)] == []
    assert [p for p in kept if not present(p)] == []
    assert codec.from_dict(pod_pb2.PodSpec, codec.to_dict(spec)) == spec
