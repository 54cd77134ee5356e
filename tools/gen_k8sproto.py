"""Regenerate pinnace/machinery/k8sproto/schema.py from Kubernetes' protos.

Usage:
    python tools/gen_k8sproto.py --api DIR --apimachinery DIR [--check]
        [--api-commit SHA] [--apimachinery-commit SHA]

DIR are checkouts (or copies) of github.com/kubernetes/api and
github.com/kubernetes/apimachinery. Read from them: the ``generated.proto``
of every package below (PACKAGES, and the packages they import), and the
Go files of the same packages that declare protobuf struct tags.

Kubernetes' protobuf encoding (``application/vnd.kubernetes.protobuf``)
numbers fields as the Go struct tag ``protobuf:"bytes,2,opt,name=..."``
says; generated.proto carries the same numbers, the wire types and the
message types. The JSON shape of the same object comes from the Go
``json:"..."`` tag of the field with that number: its name, ``omitempty``
/ ``omitzero``, and the embedded structs that JSON flattens (``json:""``,
written in protobuf as a nested message). So for every message reachable
from the served packages, it joins each proto field to its Go field by
number (tools/goapi.py reads the Go files). A message with no Go struct
must be one of SPECIAL (types with their own MarshalJSON); anything else
unmatched is an error.

It also writes comment-free copies of the protos it read to
tests/unit/k8sproto_protos/ (the unit tests compile them with protoc to
encode test objects; the Kubernetes sources are not part of this
repository). With --check, exits 1 if either output differs.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from goapi import ROOT, GoFile, add_source_arguments, parse_go, write_generated

OUT = ROOT / "pinnace" / "machinery" / "k8sproto" / "schema.py"
PROTOS_OUT = ROOT / "tests" / "unit" / "k8sproto_protos"

# The proto files whose kinds the apiserver decodes, as import paths.
PACKAGES = (
    "k8s.io/api/core/v1",
    "k8s.io/api/apps/v1",
    "k8s.io/api/batch/v1",
    "k8s.io/api/coordination/v1",
    "k8s.io/api/discovery/v1",
    "k8s.io/api/rbac/v1",
    "k8s.io/api/autoscaling/v1",
    "k8s.io/api/policy/v1",
    "k8s.io/api/authentication/v1",
    "k8s.io/api/authorization/v1",
    "k8s.io/apimachinery/pkg/apis/meta/v1",
)
# Messages whose JSON form is their Go type's own MarshalJSON, not a struct:
# message full name -> the form decode.py gives it.
SPECIAL = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "microtime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "rawjson",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs": "items",
    "k8s.io.api.authentication.v1.ExtraValue": "items",
    "k8s.io.api.authentication.v1.AttestationValue": "items",
    "k8s.io.api.authorization.v1.ExtraValue": "items",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intorstring",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "rawextension",
}
# Messages with no JSON form, kept for their wire layout (the envelope).
ENVELOPE = (
    "k8s.io.apimachinery.pkg.runtime.Unknown",
    "k8s.io.apimachinery.pkg.runtime.TypeMeta",
)
SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"}


@dataclass(frozen=True)
class ProtoField:
    name: str
    number: int
    kind: str  # a scalar type, or "message"
    message: str  # full name, for kind message
    repeated: bool
    map_key: str  # the key's scalar type, for map fields


@dataclass
class ProtoFile:
    import_path: str  # "k8s.io/api/core/v1/generated.proto"
    package: str  # "k8s.io.api.core.v1"
    go_package: str  # "k8s.io/api/core/v1"
    imports: list[str]
    messages: dict[str, list[ProtoField]]  # short name -> fields
    text: str  # without comments


_FIELD = re.compile(r"^\s*(optional|repeated) (\S+) (\w+) = (\d+);$")
_MAP = re.compile(r"^\s*map<(\w+), (\S+)> (\w+) = (\d+);$")


def strip_comments(text: str) -> str:
    """The proto without comment lines, blank lines or the license block."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("//")]
    return "\n".join(lines) + "\n"


def parse_proto(import_path: str, text: str) -> ProtoFile:
    """The messages of one go-to-protobuf generated.proto (no nesting, no oneofs)."""
    text = strip_comments(text)
    package = re.search(r"^package ([\w.]+);", text, re.M)
    go_package = re.search(r'^option go_package = "([^"]+)";', text, re.M)
    if not package or not go_package:
        raise SystemExit(f"{import_path}: no package or go_package")
    messages: dict[str, list[ProtoField]] = {}
    for block in re.finditer(r"^message (\w+) \{\n(.*?)^\}", text, re.M | re.S):
        fields = []
        for line in block.group(2).splitlines():
            fields.append(_proto_field(import_path, package.group(1), line))
        messages[block.group(1)] = fields
    imports = re.findall(r'^import "([^"]+)";', text, re.M)
    return ProtoFile(import_path, package.group(1), go_package.group(1), imports, messages, text)


def _proto_field(where: str, package: str, line: str) -> ProtoField:
    found = _FIELD.match(line)
    if found:
        label, type_name, name, number = found.groups()
        kind, message = _proto_type(package, type_name)
        return ProtoField(name, int(number), kind, message, label == "repeated", "")
    found = _MAP.match(line)
    if found:
        key, type_name, name, number = found.groups()
        kind, message = _proto_type(package, type_name)
        return ProtoField(name, int(number), kind, message, False, key)
    raise SystemExit(f"{where}: cannot read {line!r}")


def _proto_type(package: str, type_name: str) -> tuple[str, str]:
    if type_name in SCALARS:
        return type_name, ""
    if type_name.startswith("."):
        return "message", type_name[1:]
    return "message", f"{package}.{type_name}"


@dataclass(frozen=True)
class JsonField:
    name: str  # "" = embedded: its fields are the parent's in JSON
    pointer: bool
    omitempty: bool
    omitzero: bool


def go_fields_by_number(go: GoFile, struct: str) -> dict[int, JsonField]:
    """The fields of a Go struct that have a protobuf number, by that number."""
    out = {}
    for go_name, go_type, tag, _comment in go.structs[struct].fields:
        number = re.search(r'protobuf:"\w+,(\d+),', tag)
        if not number:
            continue
        json_tag = re.search(r'json:"([^"]*)"', tag)
        name, *options = (json_tag.group(1) if json_tag else "").split(",")
        if go_name and not name:  # an embedded struct keeps "": inlined
            name = go_name
        out[int(number.group(1))] = JsonField(
            name, go_type.startswith("*"), "omitempty" in options, "omitzero" in options
        )
    return out


class Sources:
    """The protos and Go files of the two checkouts, read on demand."""

    def __init__(self, api: Path, apimachinery: Path) -> None:
        self.roots = {"k8s.io/api/": api, "k8s.io/apimachinery/": apimachinery}
        self.protos: dict[str, ProtoFile] = {}  # by proto package
        self.go: dict[str, dict[str, GoFile]] = {}  # go package -> file name -> file

    def path(self, import_path: str) -> Path:
        for prefix, root in self.roots.items():
            if import_path.startswith(prefix):
                return root / import_path[len(prefix) :]
        raise SystemExit(f"no checkout for {import_path}")

    def load_proto(self, import_path: str) -> None:
        """Read a generated.proto and, transitively, the ones it imports."""
        if any(p.import_path == import_path for p in self.protos.values()):
            return
        proto = parse_proto(import_path, self.path(import_path).read_text())
        self.protos[proto.package] = proto
        for imported in proto.imports:
            self.load_proto(imported)

    def go_struct(self, go_package: str, name: str) -> tuple[GoFile, str] | None:
        """The Go file that declares struct `name` of that package, and the
        struct's name there (a named type stands for the struct it names)."""
        if go_package not in self.go:
            files = {}
            for path in sorted(self.path(go_package).glob("*.go")):
                text = path.read_text()
                if path.name.endswith(("_test.go", ".pb.go")) or 'protobuf:"' not in text:
                    continue
                files[path.name] = parse_go(text, go_package)
            self.go[go_package] = files
        for file in self.go[go_package].values():
            if name in file.structs:
                return file, name
        for file in self.go[go_package].values():
            underlying = file.named.get(name, "")
            if re.fullmatch(r"\w+\.\w+", underlying):  # type List metav1.List
                qualifier, other = underlying.split(".")
                return self.go_struct(file.imports[qualifier], other)
        return None


@dataclass(frozen=True)
class Entry:
    json: str
    kind: str
    message: str
    repeated: bool
    omit_zero: bool
    map_key: str


def message_entries(src: Sources, full_name: str) -> dict[int, Entry]:
    package, name = full_name.rsplit(".", 1)
    proto = src.protos[package]
    fields = proto.messages[name]
    if full_name in SPECIAL or full_name in ENVELOPE or not fields:
        return {f.number: json_entry(f, JsonField(f.name, True, False, False)) for f in fields}
    found = src.go_struct(proto.go_package, name)
    if found is None:
        raise SystemExit(f"{full_name}: no Go struct {name} in {proto.go_package}")
    by_number = go_fields_by_number(*found)
    out = {}
    for f in fields:
        if f.number not in by_number:
            raise SystemExit(f"{full_name}.{f.name}: no Go field with protobuf number {f.number}")
        out[f.number] = json_entry(f, by_number[f.number])
    return out


def json_entry(f: ProtoField, go: JsonField) -> Entry:
    """How the decoder writes the field: JSON name, and whether a zero value
    is left out (a non-pointer scalar tagged omitempty, anything omitzero;
    encoding/json never leaves out a struct for omitempty)."""
    collection = f.repeated or bool(f.map_key)
    scalar = f.kind != "message"
    omit_zero = not go.pointer and not collection and (go.omitzero or (go.omitempty and scalar))
    return Entry(go.name, f.kind, f.message, f.repeated, omit_zero, f.map_key)


def build(src: Sources) -> tuple[dict[str, dict[int, Entry]], dict[str, str]]:
    """Every message reachable from PACKAGES' messages; (apiVersion, kind) of each top-level kind."""
    todo = [
        f"{p.package}.{name}"
        for p in src.protos.values()
        if p.go_package in PACKAGES
        for name in p.messages
    ]
    todo += list(ENVELOPE)
    table: dict[str, dict[int, Entry]] = {}
    while todo:
        name = todo.pop()
        if name in table:
            continue
        table[name] = message_entries(src, name)
        todo += [e.message for e in table[name].values() if e.message]
    return table, api_versions(src)


def api_versions(src: Sources) -> dict[str, str]:
    """apiVersion -> proto package, for PACKAGES (GroupName from register.go)."""
    out = {}
    for go_package in PACKAGES:
        register = (src.path(go_package) / "register.go").read_text()
        group = re.search(r'^const GroupName = "([^"]*)"', register, re.M)
        if not group:
            raise SystemExit(f"{go_package}: no GroupName")
        version = go_package.rsplit("/", 1)[1]
        api_version = f"{group.group(1)}/{version}" if group.group(1) else version
        (proto,) = [p for p in src.protos.values() if p.go_package == go_package]
        out[api_version] = proto.package
    return out


HEADER = '''"""Kubernetes' protobuf field numbers and the JSON field each one is.

GENERATED by tools/gen_k8sproto.py from the generated.proto and Go types of
github.com/kubernetes/api at {api} and
github.com/kubernetes/apimachinery at {apimachinery}; do not edit.

MESSAGES maps a message's full name to {{field number: Field}} for every
message reachable from the served API groups. A Field's ``json`` is the
Go JSON tag's name ("" for an embedded struct, whose fields JSON puts in
the parent); ``kind`` the proto type (a scalar type, or "message" with the
full name in ``message``); ``map_key`` the key type of a map field (whose
value is kind/message); ``omit_zero`` that encoding/json leaves the field
out when zero (a non-pointer scalar tagged omitempty, or omitzero).
SPECIAL names the messages whose JSON form is their own (decode.py);
API_VERSIONS maps an apiVersion to its proto package.
"""

from __future__ import annotations

from pinnace.machinery.k8sproto.fields import Field

__all__ = ["API_VERSIONS", "MESSAGES", "SPECIAL"]

API_VERSIONS: dict[str, str] = {api_versions}

SPECIAL: dict[str, str] = {special}

MESSAGES: dict[str, dict[int, Field]] = {{
'''


def render(table: dict[str, dict[int, Entry]], versions: dict[str, str], commits: dict) -> str:
    special = {k: v for k, v in SPECIAL.items() if k in table}
    lines = [HEADER.format(api_versions=versions, special=special, **commits)]
    for name in sorted(table):
        lines.append(f'    "{name}": {{\n')
        for number, e in sorted(table[name].items()):
            args = [repr(e.json), repr(e.kind)]
            if e.message:
                args.append(repr(e.message))
            if e.repeated:
                args.append("repeated=True")
            if e.omit_zero:
                args.append("omit_zero=True")
            if e.map_key:
                args.append(f"map_key={e.map_key!r}")
            lines.append(f"        {number}: Field({', '.join(args)}),\n")
        lines.append("    },\n")
    lines.append("}\n")
    return "".join(lines)


def write_protos(src: Sources, *, check: bool) -> int:
    """Comment-free copies of the protos read, laid out by import path."""
    stale = 0
    for proto in src.protos.values():
        out = PROTOS_OUT / proto.import_path
        if check:
            if not out.exists() or out.read_text() != proto.text:
                print(f"{out.relative_to(ROOT)} is out of date", file=sys.stderr)
                stale = 1
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(proto.text)
    return stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_source_arguments(parser)
    args = parser.parse_args()
    src = Sources(args.api, args.apimachinery)
    for go_package in PACKAGES:
        src.load_proto(f"{go_package}/generated.proto")
    commits = {
        "api": args.api_commit or "unknown",
        "apimachinery": args.apimachinery_commit or "unknown",
    }
    table, versions = build(src)
    stale = write_protos(src, check=args.check)
    return write_generated(OUT, render(table, versions, commits), check=args.check) or stale


if __name__ == "__main__":
    sys.exit(main())
