"""tools/gen_k8sproto.py's rules on small Go and proto snippets: how a proto
field is joined to its Go field, and when the decoder leaves a zero out.
(The Kubernetes sources are not in this repository; the generated table
itself is checked against the compiled protos in test_k8sproto_decode.)"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"

PROTO = """
// A comment.
syntax = "proto2";
package k8s.io.api.demo.v1;
import "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto";
option go_package = "k8s.io/api/demo/v1";
message Thing {
  // +optional
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional ThingSource thingSource = 2;
  repeated string args = 3;
  map<string, int32> counts = 4;
  optional int32 replicas = 5;
  optional string mode = 6;
  optional int32 port = 7;
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.Time created = 8;
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.Time updated = 9;
  optional string hidden = 10;
}
"""

GO = """package v1

import (
\tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type Thing struct {
\tmetav1.TypeMeta `json:",inline"`
\tmetav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
\tThingSource `json:"" protobuf:"bytes,2,opt,name=thingSource"`
\tArgs []string `json:"args,omitempty" protobuf:"bytes,3,rep,name=args"`
\tCounts map[string]int32 `json:"counts,omitempty" protobuf:"bytes,4,rep,name=counts"`
\tReplicas *int32 `json:"replicas,omitempty" protobuf:"varint,5,opt,name=replicas"`
\tMode string `json:"mode,omitempty" protobuf:"bytes,6,opt,name=mode"`
\tPort int32 `json:"port" protobuf:"varint,7,opt,name=port"`
\tCreated metav1.Time `json:"createdAt,omitempty,omitzero" protobuf:"bytes,8,opt,name=created"`
\tUpdated metav1.Time `json:"updated,omitempty" protobuf:"bytes,9,opt,name=updated"`
\tHidden string `protobuf:"bytes,10,opt,name=hidden"`
}
"""


@pytest.fixture
def gen(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The generator script, imported from tools/ (not a package)."""
    monkeypatch.syspath_prepend(str(TOOLS))
    return importlib.import_module("gen_k8sproto")


def test_parse_proto(gen: ModuleType) -> None:
    proto = gen.parse_proto("k8s.io/api/demo/v1/generated.proto", PROTO)
    assert (proto.package, proto.go_package) == ("k8s.io.api.demo.v1", "k8s.io/api/demo/v1")
    assert proto.imports == ["k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto"]
    fields = {f.name: f for f in proto.messages["Thing"]}
    meta = "k8s.io.apimachinery.pkg.apis.meta.v1"
    assert fields["metadata"] == gen.ProtoField(
        "metadata", 1, "message", f"{meta}.ObjectMeta", False, ""
    )
    assert fields["thingSource"].message == "k8s.io.api.demo.v1.ThingSource"
    assert fields["args"] == gen.ProtoField("args", 3, "string", "", True, "")
    assert fields["counts"] == gen.ProtoField("counts", 4, "int32", "", False, "string")
    assert "//" not in proto.text


@pytest.mark.parametrize(
    ("number", "json", "omit_zero"),
    [
        pytest.param(1, "metadata", False, id="struct-omitempty-kept"),
        pytest.param(2, "", False, id="embedded-inlined"),
        pytest.param(3, "args", False, id="list"),
        pytest.param(4, "counts", False, id="map"),
        pytest.param(5, "replicas", False, id="pointer-kept"),
        pytest.param(6, "mode", True, id="scalar-omitempty"),
        pytest.param(7, "port", False, id="scalar-always"),
        pytest.param(8, "createdAt", True, id="omitzero-json-name"),
        pytest.param(9, "updated", False, id="time-omitempty-null"),
        pytest.param(10, "Hidden", False, id="no-json-tag-go-name"),
    ],
)
def test_entries(gen: ModuleType, number: int, json: str, omit_zero: bool) -> None:
    proto = gen.parse_proto("k8s.io/api/demo/v1/generated.proto", PROTO)
    go = gen.parse_go(GO, "k8s.io/api/demo/v1")
    by_number = gen.go_fields_by_number(go, "Thing")
    (field,) = [f for f in proto.messages["Thing"] if f.number == number]
    entry = gen.json_entry(field, by_number[number])
    assert (entry.json, entry.omit_zero) == (json, omit_zero)
