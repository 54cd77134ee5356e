"""Read Kubernetes' Go API types, for the generators of tools/gen_*.py.

Not a Go parser: enough of gofmt'ed k8s.io/api and apimachinery ``types.go``
to list each struct's fields with their type, struct tag and doc comment
(the ``//`` lines right above the field, generator markers such as
``+optional`` and ``+listType=map`` included), each struct's own doc
comment, and the other named types. The generators that use it:

* tools/gen_omitempty.py -> pinnace/machinery/omitempty.py (zero values)
* tools/gen_patchmeta.py -> pinnace/machinery/patchmeta.py (patch strategies)
* tools/gen_apischema.py -> pinnace/machinery/apischema.py (docs, required)
* tools/gen_k8sproto.py -> pinnace/machinery/k8sproto/schema.py (protobuf request bodies)

Each maps Pinnace's API messages (protos/pinnace/api, except the API
service's own) to the Go struct of the same name in the package of the
same group, and a message field to the Go field of the same JSON name,
embedded structs flattened (``json:""`` / ``json:",inline"``).
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
sys.path.insert(0, str(ROOT))

# Pinnace proto package -> (checkout, path of the Go types file).
GO_FILES = {
    "pinnace.api.core.v1": ("api", "core/v1/types.go"),
    "pinnace.api.apps.v1": ("api", "apps/v1/types.go"),
    "pinnace.api.batch.v1": ("api", "batch/v1/types.go"),
    "pinnace.api.coordination.v1": ("api", "coordination/v1/types.go"),
    "pinnace.api.autoscaling.v1": ("api", "autoscaling/v1/types.go"),
    "pinnace.api.discovery.v1": ("api", "discovery/v1/types.go"),
    "pinnace.api.rbac.v1": ("api", "rbac/v1/types.go"),
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
    "k8s.io/api/rbac/v1": "pinnace.api.rbac.v1",
    "k8s.io/apimachinery/pkg/apis/meta/v1": "pinnace.api.meta.v1",
}
GO_PACKAGE = {pkg: path for path, pkg in IMPORTS.items()}
# Pinnace messages that are not Go structs of these files.
# The codec prints these specially: IntOrString as a bare number or string,
# FieldsV1 as its raw JSON text.
SKIP_MESSAGES = {"pinnace.api.meta.v1.IntOrString", "pinnace.api.meta.v1.FieldsV1"}


@dataclass(frozen=True)
class GoField:
    json_name: str
    go_type: str  # as written, e.g. "*int32", "[]Container", "metav1.Time"
    options: frozenset[str]  # json tag options: omitempty, omitzero
    package: str  # the Go import path whose scope the type is written in
    optional_parent: bool  # inside an embedded pointer: nil when the parent is
    tag: str = ""  # the whole struct tag
    comment: tuple[str, ...] = ()  # the doc comment's lines, "//" stripped

    def tag_value(self, key: str) -> str:
        """The value of one key of the struct tag ("" if absent)."""
        found = re.search(rf'(?:^|\s){key}:"([^"]*)"', self.tag)
        return found.group(1) if found else ""

    def markers(self) -> dict[str, list[str]]:
        """The doc comment's generator markers: "+listMapKey=a" -> {"listMapKey": ["a"]}."""
        return _markers(self.comment)


@dataclass
class GoStruct:
    fields: list[tuple[str, str, str, tuple[str, ...]]]  # (go name, type, tag, comment)
    comment: tuple[str, ...]  # the struct's doc comment


@dataclass
class GoFile:
    import_path: str
    imports: dict[str, str]  # qualifier -> import path
    structs: dict[str, GoStruct]
    named: dict[str, str]  # name -> underlying type (non-struct declarations)


_STRUCT = re.compile(r"^type (\w+) struct \{\n(.*?)^\}", re.M | re.S)
_NAMED = re.compile(r"^type (\w+) (?:= )?(\S.*)$", re.M)
_IMPORT = re.compile(r'^\t(?:(\w+) )?"([^"]+)"$', re.M)
_FIELD = re.compile(r"^\t(\w+)\s+([^\s`]+)\s*(?:`([^`]*)`)?\s*(?://.*)?$")
_EMBEDDED = re.compile(r"^\t(\*?[\w.]+)\s*(?:`([^`]*)`)?\s*(?://.*)?$")
_JSON_TAG = re.compile(r'json:"([^"]*)"')
_MARKER = re.compile(r"^\+(?:k8s:)?([\w.-]+)(?:=(.*))?$")


def _comment_line(line: str) -> str | None:
    """The text of a "//" line without the slashes and one space, else None."""
    stripped = line.strip()
    if not stripped.startswith("//"):
        return None
    text = stripped[2:]
    return text[1:] if text.startswith(" ") else text


def _markers(comment: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in comment:
        found = _MARKER.match(line.strip())
        if found:
            out.setdefault(found.group(1), []).append((found.group(2) or "").strip())
    return out


def _doc_above(text: str, at: int) -> tuple[str, ...]:
    """The "//" lines directly above offset `at` (the start of a line)."""
    lines: list[str] = []
    for line in reversed(text[:at].splitlines()):
        comment = _comment_line(line)
        if comment is None:
            break
        lines.append(comment)
    return tuple(reversed(lines))


def parse_go(text: str, import_path: str) -> GoFile:
    """The structs, named types and imports of one gofmt'ed Go file."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # block comments
    block = re.search(r"^import \((.*?)^\)", text, re.M | re.S)
    imports: dict[str, str] = {}
    for alias, path in _IMPORT.findall(block.group(1) if block else ""):
        imports[alias or path.rsplit("/", 1)[-1]] = path
    structs: dict[str, GoStruct] = {}
    for match in _STRUCT.finditer(text):
        fields = []
        comment: list[str] = []
        for line in match.group(2).splitlines():
            if not line.strip():
                comment = []
                continue
            text_line = _comment_line(line)
            if text_line is not None:
                comment.append(text_line)
                continue
            field = _FIELD.match(line)
            if field:
                name, go_type, tag = field.group(1), field.group(2), field.group(3) or ""
            else:
                embedded = _EMBEDDED.match(line)
                if not embedded:
                    raise SystemExit(f"{import_path}: cannot read struct line {line!r}")
                name, go_type, tag = "", embedded.group(1), embedded.group(2) or ""
            fields.append((name, go_type, tag, tuple(comment)))
            comment = []
        structs[match.group(1)] = GoStruct(fields, _doc_above(text, match.start()))
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

    def struct(self, package: str, name: str) -> GoStruct | None:
        """The struct of that name in that package, if it is one."""
        file = self.files.get(package)
        return file.structs.get(name) if file else None

    def fields(self, package: str, struct: str, *, optional: bool = False) -> list[GoField]:
        """The JSON fields of a struct, embedded structs flattened, in Go order."""
        out: list[GoField] = []
        for go_name, go_type, tag, comment in self.files[package].structs[struct].fields:
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
            out.append(GoField(json_name, go_type, options, package, optional, tag, comment))
        return out

    def message_fields(self, message: Descriptor) -> dict[str, GoField] | None:
        """The Go fields of a Pinnace message by JSON name; None if no Go struct."""
        package = GO_PACKAGE[message.file.package]
        if self.struct(package, message.name) is None:
            return None
        return {f.json_name: f for f in self.fields(package, message.name)}


def load(api: Path, apimachinery: Path) -> tuple[GoTypes, dict[str, str]]:
    """The Go types, and the commit each checkout is at (for the header)."""
    roots = {"api": api, "apimachinery": apimachinery}
    files = {}
    for pinnace_package, (root, rel) in GO_FILES.items():
        import_path = GO_PACKAGE[pinnace_package]
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


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options every generator takes."""
    add = parser.add_argument
    add("--api", type=Path, required=True, help="a kubernetes/api checkout")
    add("--apimachinery", type=Path, required=True, help="a kubernetes/apimachinery checkout")
    add("--api-commit", help="the commit of --api (default: git rev-parse)")
    add("--apimachinery-commit", help="the commit of --apimachinery")
    add("--check", action="store_true", help="compare, do not write")


def load_from_args(args: argparse.Namespace) -> tuple[GoTypes, dict[str, str]]:
    """The Go types and the commits to name, from add_source_arguments' options."""
    types, commits = load(args.api, args.apimachinery)
    commits["api"] = args.api_commit or commits["api"]
    commits["apimachinery"] = args.apimachinery_commit or commits["apimachinery"]
    return types, commits


def write_generated(out: Path, text: str, *, check: bool) -> int:
    """ruff-format `text` and write it to `out`; with check, compare instead (1 = stale)."""
    text = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(out), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if check:
        if out.read_text() != text:
            print(f"{out.relative_to(ROOT)} is out of date", file=sys.stderr)
            return 1
        return 0
    out.write_text(text)
    return 0
