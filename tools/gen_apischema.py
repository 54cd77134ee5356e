"""Regenerate pinnace/machinery/apischema.py from Kubernetes' Go API types.

Usage:
    python tools/gen_apischema.py --api DIR --apimachinery DIR [--check]
        [--api-commit SHA] [--apimachinery-commit SHA]

DIR are checkouts of github.com/kubernetes/api and kubernetes/apimachinery
(the files tools/goapi.py names). For every Pinnace API message, and the
``<Kind>List`` struct of every served kind, it writes what the OpenAPI
documents need from the Go types and the protos cannot say:

* the doc comment of the struct and of each field, as one description
  (generator markers, TODO lines and anything after a ``---`` line left
  out; lines joined, blank comment lines kept as paragraph breaks,
  indented lines kept on their own line), as Kubernetes' openapi-gen does;
* whether a field is required: no ``omitempty``/``omitzero`` in its json
  tag and no ``+optional`` marker, or a ``+required`` marker;
* the Go type behind a proto string or Struct field that OpenAPI names
  separately (metav1.Time, metav1.MicroTime, resource.Quantity,
  runtime.RawExtension), also as the element of a list or map.

With --check, exits 1 if the committed module differs from what would be
generated (CI has no Go sources; tests/unit/apiserver/test_openapi.py checks
that the table covers every field of every served kind).
"""

from __future__ import annotations

import argparse
import re
import sys

from goapi import (
    GO_PACKAGE,
    ROOT,
    GoField,
    GoTypes,
    add_source_arguments,
    load_from_args,
    pinnace_messages,
    write_generated,
)

from pinnace.machinery import kinds

OUT = ROOT / "pinnace" / "machinery" / "apischema.py"

# Go types OpenAPI names on their own, by (import path, name).
SPECIAL = {
    ("k8s.io/apimachinery/pkg/apis/meta/v1", "Time"): "Time",
    ("k8s.io/apimachinery/pkg/apis/meta/v1", "MicroTime"): "MicroTime",
    ("k8s.io/apimachinery/pkg/api/resource", "Quantity"): "Quantity",
    ("k8s.io/apimachinery/pkg/runtime", "RawExtension"): "RawExtension",
}
_CONTAINER = re.compile(r"^(?:\*|\[\]|map\[[^\]]+\])")

Field = tuple[str, bool, str]  # description, required, special type


def description(comment: tuple[str, ...]) -> str:
    """One description from a Go doc comment, as openapi-gen words it."""
    out = ""
    for line in comment:
        if line.startswith("---"):
            break
        stripped = line.strip()
        if stripped.startswith(("+", "TODO")):
            continue
        if not stripped:
            out = out.rstrip(" ") + "\n\n"
        elif line[:1] in (" ", "\t"):
            out = out.rstrip(" ") + "\n" + line.rstrip() + "\n"
        else:
            out += stripped + " "
    return out.strip()


def required(field: GoField) -> bool:
    markers = field.markers()
    if "required" in markers:
        return True
    optional = "optional" in markers or field.options & {"omitempty", "omitzero"}
    return not optional


def special(types: GoTypes, go_type: str, package: str) -> str:
    """The special type (Time, Quantity, ...) a Go type is or holds, else ""."""
    while True:
        stripped = _CONTAINER.sub("", go_type)
        if stripped != go_type:
            go_type = stripped
            continue
        if "." not in go_type and package not in types.files:
            return ""
        where, name = types.resolve(go_type, package)
        if (where, name) in SPECIAL:
            return SPECIAL[(where, name)]
        file = types.files.get(where)
        if file is None or name not in file.named:
            return ""
        go_type, package = file.named[name], where


def struct_entry(types: GoTypes, package: str, name: str) -> tuple[str, dict[str, Field]]:
    struct = types.struct(package, name)
    assert struct is not None
    fields = {
        f.json_name: (description(f.comment), required(f), special(types, f.go_type, f.package))
        for f in types.fields(package, name)
    }
    return description(struct.comment), fields


def build_table(types: GoTypes) -> dict[str, tuple[str, dict[str, Field]]]:
    table: dict[str, tuple[str, dict[str, Field]]] = {}
    problems = []
    for message in pinnace_messages():
        package = GO_PACKAGE[message.file.package]
        if types.struct(package, message.name) is None:
            problems.append(f"{message.full_name}: no Go struct {message.name}")
            continue
        doc, go_fields = struct_entry(types, package, message.name)
        fields = {}
        for fd in message.fields:
            if fd.json_name not in go_fields:
                problems.append(f"{message.full_name}.{fd.json_name}: no such Go field")
                continue
            fields[fd.json_name] = go_fields[fd.json_name]
        table[message.full_name] = (doc, fields)
    for kind in kinds.KINDS:
        proto_package = kind.message_name.rsplit(".", 1)[0]
        name = f"{kind.kind}List"
        table[f"{proto_package}.{name}"] = struct_entry(types, GO_PACKAGE[proto_package], name)
    if problems:
        raise SystemExit("\n".join(problems))
    return table


HEADER = '''"""Descriptions and required fields of each API object, from Kubernetes' Go types.

GENERATED by tools/gen_apischema.py; do not edit.
Sources: {{core,apps,batch,coordination,autoscaling,discovery,rbac}}/v1/types.go of
github.com/kubernetes/api at {api}, and
pkg/apis/meta/v1/types.go of github.com/kubernetes/apimachinery at
{apimachinery}.

SCHEMA maps the full name of every Pinnace API message, and of the
``<Kind>List`` of every served kind (pinnace.api.apps.v1.DeploymentList; no
proto message), to a MessageDoc: the Go struct's doc comment as one
description, and per JSON field name a FieldDoc: its description, whether
it is required (no ``omitempty`` and no ``+optional``, or ``+required``),
and ``special``: the Go type OpenAPI names on its own that the field is or
holds (Time, MicroTime, Quantity, RawExtension; "" for none). The OpenAPI
documents (apiserver/rest/openapi.py) read it.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["SCHEMA", "FieldDoc", "MessageDoc"]


class FieldDoc(NamedTuple):
    description: str
    required: bool
    special: str


class MessageDoc(NamedTuple):
    description: str
    fields: dict[str, FieldDoc]


SCHEMA: dict[str, MessageDoc] = {{
'''


def render(table: dict[str, tuple[str, dict[str, Field]]], commits: dict[str, str]) -> str:
    lines = [HEADER.format(**commits)]
    for name in sorted(table):
        doc, fields = table[name]
        lines.append(f"    {name!r}: MessageDoc(\n        {doc!a},\n        {{\n")
        for field, (text, req, kind) in fields.items():
            lines.append(f"            {field!r}: FieldDoc({text!a}, {req!r}, {kind!r}),\n")
        lines.append("        },\n    ),\n")
    lines.append("}\n")
    return "".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_source_arguments(parser)
    args = parser.parse_args()
    types, commits = load_from_args(args)
    return write_generated(OUT, render(build_table(types), commits), check=args.check)


if __name__ == "__main__":
    sys.exit(main())
