"""Regenerate pinnace/machinery/omitempty.py from Kubernetes' Go API types.

Usage:
    python tools/gen_omitempty.py --api DIR --apimachinery DIR [--check]
        [--api-commit SHA] [--apimachinery-commit SHA]

DIR are checkouts (or copies) of github.com/kubernetes/api and
github.com/kubernetes/apimachinery; only these files are read:

    api/core/v1/types.go          api/apps/v1/types.go
    api/batch/v1/types.go         api/coordination/v1/types.go
    api/autoscaling/v1/types.go   api/discovery/v1/types.go
    apimachinery/pkg/apis/meta/v1/types.go

For every field of every Pinnace API message (the messages of
protos/pinnace/api, except the API service's own), it finds the Go field
with the same JSON name in the Go struct of the same name, flattening
embedded structs (``json:""`` / ``json:",inline"``), and records how Go's
encoding/json writes that field when it is zero (the rules in the
generated module's docstring). A Pinnace field with no Go counterpart, or
a message with no Go struct, is an error: the table must say something
true about every field.

With --check, exits 1 if the committed module differs from what would be
generated (the Go sources are not part of this repository, so CI cannot
run this; the unit test test_codec_kubernetes_fields checks instead that
the table and the protos agree).
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.descriptor import Descriptor

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pinnace" / "machinery" / "omitempty.py"
sys.path.insert(0, str(ROOT))

# Pinnace proto package -> (checkout, path of the Go types file).
GO_FILES = {
    "pinnace.api.core.v1": ("api", "core/v1/types.go"),
    "pinnace.api.apps.v1": ("api", "apps/v1/types.go"),
    "pinnace.api.batch.v1": ("api", "batch/v1/types.go"),
    "pinnace.api.coordination.v1": ("api", "coordination/v1/types.go"),
    "pinnace.api.autoscaling.v1": ("api", "autoscaling/v1/types.go"),
    "pinnace.api.discovery.v1": ("api", "discovery/v1/types.go"),
    "pinnace.api.meta.v1": ("apimachinery", "pkg/apis/meta/v1/types.go"),
}
# Go import path -> Pinnace proto package.
IMPORTS = {
    "k8s.io/api/core/v1": "pinnace.api.core.v1",
    "k8s.io/api/apps/v1": "pinnace.api.apps.v1",
    "k8s.io/api/batch/v1": "pinnace.api.batch.v1",
    "k8s.io/api/coordination/v1": "pinnace.api.coordination.v1",
    "k8s.io/api/autoscaling/v1": "pinnace.api.autoscaling.v1",
    "k8s.io/api/discovery/v1": "pinnace.api.discovery.v1",
    "k8s.io/apimachinery/pkg/apis/meta/v1": "pinnace.api.meta.v1",
}
# Go types from outside these files, by (import path, name): how each
# writes its zero value.
FOREIGN = {
    ("k8s.io/apimachinery/pkg/apis/meta/v1", "Time"): "null",  # Time.MarshalJSON: zero -> null
    ("k8s.io/apimachinery/pkg/apis/meta/v1", "MicroTime"): "null",  # the same
    ("k8s.io/apimachinery/pkg/api/resource", "Quantity"): "quantity",  # zero -> "0"
    ("k8s.io/apimachinery/pkg/util/intstr", "IntOrString"): "struct",  # zero -> 0
    ("k8s.io/apimachinery/pkg/runtime", "RawExtension"): "null",  # nil Raw -> null
    ("k8s.io/apimachinery/pkg/types", "UID"): "scalar",  # a string
}
# Pinnace messages that are not Go structs of these files.
SKIP_MESSAGES = {"pinnace.api.meta.v1.IntOrString"}  # the codec prints it specially
SCALARS = {
    "string",
    "bool",
    "byte",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
}


@dataclass(frozen=True)
class GoField:
    json_name: str
    go_type: str  # as written, e.g. "*int32", "[]Container", "metav1.Time"
    options: frozenset[str]  # json tag options: omitempty, omitzero
    package: str  # the Go import path whose scope the type is written in
    optional_parent: bool  # inside an embedded pointer: nil when the parent is


@dataclass
class GoFile:
    import_path: str
    imports: dict[str, str]  # qualifier -> import path
    structs: dict[str, list[tuple[str, str, str]]]  # name -> [(go name, type, tag)]
    named: dict[str, str]  # name -> underlying type (non-struct declarations)


_STRUCT = re.compile(r"^type (\w+) struct \{\n(.*?)^\}", re.M | re.S)
_NAMED = re.compile(r"^type (\w+) (?:= )?(\S.*)$", re.M)
_IMPORT = re.compile(r'^\t(?:(\w+) )?"([^"]+)"$', re.M)
_FIELD = re.compile(r"^\t(\w+)\s+([^\s`]+)\s*(?:`([^`]*)`)?\s*(?://.*)?$")
_EMBEDDED = re.compile(r"^\t(\*?[\w.]+)\s*(?:`([^`]*)`)?\s*(?://.*)?$")
_JSON_TAG = re.compile(r'json:"([^"]*)"')


def parse_go(text: str, import_path: str) -> GoFile:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # block comments
    block = re.search(r"^import \((.*?)^\)", text, re.M | re.S)
    imports: dict[str, str] = {}
    for alias, path in _IMPORT.findall(block.group(1) if block else ""):
        imports[alias or path.rsplit("/", 1)[-1]] = path
    structs: dict[str, list[tuple[str, str, str]]] = {}
    for match in _STRUCT.finditer(text):
        fields = []
        for line in match.group(2).splitlines():
            if not line.strip() or line.strip().startswith("//"):
                continue
            field = _FIELD.match(line)
            if field:
                fields.append((field.group(1), field.group(2), field.group(3) or ""))
                continue
            embedded = _EMBEDDED.match(line)
            if not embedded:
                raise SystemExit(f"{import_path}: cannot read struct line {line!r}")
            fields.append(("", embedded.group(1), embedded.group(2) or ""))
        structs[match.group(1)] = fields
    named = {
        name: underlying.strip()
        for name, underlying in _NAMED.findall(text)
        if not underlying.startswith(("struct", "interface"))
    }
    return GoFile(import_path, imports, structs, named)


class GoTypes:
    """Every struct and named type of the Go files, by import path."""

    def __init__(self, files: dict[str, GoFile]) -> None:
        self.files = files

    def resolve(self, go_type: str, package: str) -> tuple[str, str]:
        """(import path, bare name) of a named type written in `package`'s scope."""
        if "." in go_type:
            qualifier, name = go_type.split(".", 1)
            return self.files[package].imports[qualifier], name
        return package, go_type

    def fields(self, package: str, struct: str, *, optional: bool = False) -> list[GoField]:
        """The JSON fields of a struct, embedded structs flattened, in Go order."""
        out: list[GoField] = []
        for go_name, go_type, tag in self.files[package].structs[struct]:
            json_tag = _JSON_TAG.search(tag)
            parts = (json_tag.group(1) if json_tag else "").split(",")
            name, options = parts[0], frozenset(parts[1:])
            if name == "-":
                continue
            if not go_name and not name:  # embedded without a JSON name: inlined
                inner_package, inner = self.resolve(go_type.lstrip("*"), package)
                out += self.fields(
                    inner_package, inner, optional=optional or go_type.startswith("*")
                )
                continue
            json_name = name or go_name
            out.append(GoField(json_name, go_type, options, package, optional))
        return out

    def zero_rule(self, field: GoField) -> str:
        """How encoding/json writes this field when it holds its zero value."""
        go_type = field.go_type
        if field.optional_parent or go_type.startswith("*") or "omitzero" in field.options:
            return "OMIT"
        omitempty = "omitempty" in field.options
        kind = self.kind(go_type, field.package)
        if kind in ("scalar", "collection"):
            if omitempty:
                return "OMIT"
            return "ZERO" if kind == "scalar" else "NULL"
        # A struct is written whatever its tag says (omitempty never omits
        # a struct); its own MarshalJSON decides the form.
        return {"struct": "ZERO", "null": "NULL", "quantity": "QUANTITY"}[kind]

    def kind(self, go_type: str, package: str) -> str:
        """scalar, collection, struct, or the form of a foreign type (null, quantity)."""
        if go_type.startswith(("[]", "map[")):
            return "collection"
        if go_type in SCALARS:
            return "scalar"
        where, name = self.resolve(go_type, package)
        if (where, name) in FOREIGN:
            return FOREIGN[(where, name)]
        file = self.files.get(where)
        if file is None:
            raise SystemExit(f"unknown Go type {go_type} (from {where})")
        if name in file.structs:
            return "struct"
        if name in file.named:
            return self.kind(file.named[name], where)
        raise SystemExit(f"unknown Go type {name} in {where}")


def load(api: Path, apimachinery: Path) -> tuple[GoTypes, dict[str, str]]:
    """The Go types, and the commit each checkout is at (for the header)."""
    roots = {"api": api, "apimachinery": apimachinery}
    by_package = {pkg: path for path, pkg in IMPORTS.items()}
    files = {}
    for pinnace_package, (root, rel) in GO_FILES.items():
        import_path = by_package[pinnace_package]
        files[import_path] = parse_go((roots[root] / rel).read_text(), import_path)
    commits = {name: _commit(path) for name, path in roots.items()}
    return GoTypes(files), commits


def _commit(path: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def pinnace_messages() -> list[Descriptor]:
    """Every message of the Pinnace API protos, except the API service's."""
    out = []
    for proto in sorted(ROOT.glob("protos/pinnace/api/*/v1/*.proto")):
        rel = proto.relative_to(ROOT / "protos").with_suffix("")
        if rel.parts[2] == "service":
            continue
        module = importlib.import_module(".".join(rel.parts) + "_pb2")
        for message in module.DESCRIPTOR.message_types_by_name.values():
            if message.full_name not in SKIP_MESSAGES:
                out.append(message)
    return out


def build_table(types: GoTypes) -> dict[str, dict[str, str]]:
    by_package = {pkg: path for path, pkg in IMPORTS.items()}
    table: dict[str, dict[str, str]] = {}
    problems = []
    for message in pinnace_messages():
        package = by_package[message.file.package]
        if message.name not in types.files[package].structs:
            problems.append(f"{message.full_name}: no Go struct {message.name}")
            continue
        go_fields = {f.json_name: f for f in types.fields(package, message.name)}
        rules = {}
        for fd in message.fields:
            go_field = go_fields.get(fd.json_name)
            if go_field is None:
                problems.append(f"{message.full_name}.{fd.json_name}: no such Go field")
                continue
            rules[fd.json_name] = types.zero_rule(go_field)
        table[message.full_name] = rules
    if problems:
        raise SystemExit("\n".join(problems))
    return table


HEADER = '''"""How Kubernetes writes each field of each API object when it is zero.

GENERATED by tools/gen_omitempty.py from Kubernetes' Go types; do not edit.
Sources: {{core,apps,batch,coordination,autoscaling,discovery}}/v1/types.go of
github.com/kubernetes/api at {api}, and
pkg/apis/meta/v1/types.go of github.com/kubernetes/apimachinery at
{apimachinery}.

kube-apiserver prints objects with Go's encoding/json, which decides per
field from its type and its ``json`` tag:

* OMIT: left out when zero. A pointer (proto3 ``optional`` or a message
  field here) when nil; a scalar, slice or map tagged ``omitempty`` when
  zero or empty; anything tagged ``omitzero``. This is proto3's own rule.
* ZERO: always written. A scalar without ``omitempty`` is written at its
  zero (``exitCode: 0``, ``ready: false``, ``image: ""``); a non-pointer
  struct is written even when empty, ``omitempty`` or not (``lastState:
  {{}}``), with its own always-written fields inside; an IntOrString as 0.
* NULL: written as ``null`` when unset: a zero metav1.Time or MicroTime
  (``lastProbeTime: null``), a nil RawExtension, and a slice or map without
  ``omitempty`` (Go prints a nil one as null; objects read back from
  storage have nil, not empty, collections).
* QUANTITY: a zero resource.Quantity, written as ``"0"``.

RULES maps a message's full name to {{JSON field name: rule}} for every
field of every Pinnace API message (IntOrString and the google.protobuf
types excepted: the codec writes them itself). The codec
(pinnace/machinery/codec.py) applies it; test_codec_kubernetes_fields checks
that it covers every field of every kind served.
"""

from __future__ import annotations

__all__ = ["NULL", "OMIT", "QUANTITY", "RULES", "ZERO"]

OMIT = "omit"
ZERO = "zero"
NULL = "null"
QUANTITY = "quantity"

RULES: dict[str, dict[str, str]] = {{
'''


def render(table: dict[str, dict[str, str]], commits: dict[str, str]) -> str:
    lines = [HEADER.format(**commits)]
    for name in sorted(table):
        rules = table[name]
        if not rules:
            lines.append(f'    "{name}": {{}},\n')
            continue
        lines.append(f'    "{name}": {{\n')
        lines += [f'        "{field}": {rule},\n' for field, rule in rules.items()]
        lines.append("    },\n")
    lines.append("}\n")
    return "".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", type=Path, required=True, help="a kubernetes/api checkout")
    parser.add_argument(
        "--apimachinery", type=Path, required=True, help="a kubernetes/apimachinery checkout"
    )
    parser.add_argument("--api-commit", help="the commit of --api (default: git rev-parse)")
    parser.add_argument("--apimachinery-commit", help="the commit of --apimachinery")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    types, commits = load(args.api, args.apimachinery)
    commits["api"] = args.api_commit or commits["api"]
    commits["apimachinery"] = args.apimachinery_commit or commits["apimachinery"]
    text = render(build_table(types), commits)
    text = subprocess.run(
        ["ruff", "format", "--stdin-filename", str(OUT), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if args.check:
        if OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is out of date", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
