"""Loading Kubernetes manifests (YAML or JSON) into typed Pinnace messages.

    from pinnace.machinery.manifests import load_manifests
    objs = load_manifests("deploy/")          # every *.yaml, *.yml, *.json, sorted
    objs = load_manifests("web.yaml")         # one file, any number of documents
    objs = load_manifests("-")                # stdin
    objs = load_manifests("apiVersion: v1\\nkind: Namespace\\nmetadata: {name: x}\\n")

Guarantees:

* Input is what ``kubectl apply -f`` takes: multi-document YAML (empty
  documents are skipped), one JSON object or a stream of them, and
  ``kind: List`` documents (and typed lists such as ``PodList``, as
  ``kubectl get -o yaml`` prints them) whose ``items`` are loaded in order. Objects come
  back in input order (files in name order).
* Each document is dispatched on ``apiVersion``/``kind`` through the kinds
  registry and decoded by the strict codec (``codec.from_dict``).
* Nothing is returned unless everything loaded: every problem in every
  document is collected into one ``ManifestError``, each naming the file,
  the document (1-based, with the line it starts on for YAML) and the field
  path (``items[2].spec.template.spec.containers[0].image``).
* ``strict=False`` drops unknown fields (logging each) instead of failing on
  them, like ``kubectl --validate=ignore``; every other error still fails.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from google.protobuf.message import Message

from pinnace.machinery import codec, kinds

__all__ = ["MANIFEST_SUFFIXES", "ManifestError", "ManifestProblem", "load_manifests"]

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".json", ".yaml", ".yml")
_TEXT_SOURCE = "<text>"
_STDIN_SOURCE = "<stdin>"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ManifestProblem:
    """One thing wrong with one document.

    ``document`` is 1-based (0: the whole source, e.g. unreadable YAML);
    ``line`` is the 1-based line the document starts on (0 if unknown).
    """

    source: str
    document: int
    path: str
    message: str
    line: int = 0

    def __str__(self) -> str:
        where = self.source
        if self.document:
            where += f": document {self.document}"
            if self.line:
                where += f" (line {self.line})"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ManifestError(ValueError):
    """Every problem found while loading; ``str()`` lists them, one a line."""

    def __init__(self, problems: list[ManifestProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class _Document:
    source: str
    number: int  # 1-based
    line: int  # 1-based, 0 if unknown
    data: Any


def load_manifests(path_or_text: str | Path, *, strict: bool = True) -> list[Message]:
    """Typed messages from a file, a directory, "-" (stdin) or manifest text.

    A ``str`` is manifest text when it spans several lines or starts with
    ``{`` or ``[``; otherwise it names a file or directory.
    """
    problems: list[ManifestProblem] = []
    documents: list[_Document] = []
    for source, text in _sources(path_or_text, problems):
        documents.extend(_documents(source, text, problems))
    objects: list[Message] = []
    for doc in documents:
        objects.extend(_decode_document(doc, strict, problems))
    if problems:
        raise ManifestError(problems)
    return objects


# ---- sources -------------------------------------------------------------------


def _sources(
    path_or_text: str | Path, problems: list[ManifestProblem]
) -> Iterator[tuple[str, str]]:
    """(source name, text) pairs for what the caller passed."""
    if isinstance(path_or_text, str):
        if path_or_text == "-":
            yield _STDIN_SOURCE, sys.stdin.read()
            return
        if _looks_like_text(path_or_text):
            yield _TEXT_SOURCE, path_or_text
            return
    path = Path(path_or_text)
    try:
        is_dir = path.is_dir()
    except (OSError, ValueError) as exc:  # a name too long, a NUL in it
        problems.append(ManifestProblem(str(path_or_text), 0, "", f"cannot read: {exc}"))
        return
    if is_dir:
        files = sorted(p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file())
    else:
        files = [path]
    for file in files:
        try:
            yield str(file), file.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(ManifestProblem(str(file), 0, "", "no such file or directory"))
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            problems.append(ManifestProblem(str(file), 0, "", f"cannot read: {exc}"))


def _looks_like_text(value: str) -> bool:
    stripped = value.strip()
    return "\n" in stripped or stripped.startswith(("{", "[")) or not stripped


# ---- documents -----------------------------------------------------------------


def _documents(source: str, text: str, problems: list[ManifestProblem]) -> list[_Document]:
    """Split one source into its non-empty documents (JSON stream or YAML)."""
    if text.lstrip().startswith(("{", "[")):
        docs = _json_documents(source, text)
        if docs is not None:
            return docs
    return _yaml_documents(source, text, problems)


def _json_documents(source: str, text: str) -> list[_Document] | None:
    """Documents of a stream of JSON values, or None if it is not JSON (then
    the YAML reader, which also reads JSON, reports the problem)."""
    decoder = json.JSONDecoder()
    docs: list[_Document] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return docs
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return None
        if value is not None:
            docs.append(_Document(source, len(docs) + 1, line, value))


def _yaml_documents(source: str, text: str, problems: list[ManifestProblem]) -> list[_Document]:
    docs: list[_Document] = []
    loader = _Loader(text)
    number = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            number += 1
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is not None:
                docs.append(_Document(source, number, node.start_mark.line + 1, data))
    except yaml.YAMLError as exc:
        problems.append(ManifestProblem(source, 0, "", f"invalid YAML: {exc}"))
    finally:
        loader.dispose()
    return docs


# ---- decoding ------------------------------------------------------------------


def _decode_document(
    doc: _Document, strict: bool, problems: list[ManifestProblem]
) -> list[Message]:
    data = doc.data
    if not isinstance(data, Mapping):
        problems.append(_problem(doc, "", f"expected an object (a manifest), got {_kind_of(data)}"))
        return []
    kind = data.get("kind")
    if isinstance(kind, str) and (kind == "List" or (kind.endswith("List") and "items" in data)):
        items = data.get("items")
        if items is None:
            return []
        if not isinstance(items, list):
            problems.append(_problem(doc, "items", f"expected a list, got {_kind_of(items)}"))
            return []
        out: list[Message] = []
        for i, item in enumerate(items):
            decoded = _decode_object(doc, item, f"items[{i}]", strict, problems)
            if decoded is not None:
                out.append(decoded)
        return out
    decoded = _decode_object(doc, data, "", strict, problems)
    return [] if decoded is None else [decoded]


def _decode_object(
    doc: _Document, data: Any, path: str, strict: bool, problems: list[ManifestProblem]
) -> Message | None:
    if not isinstance(data, Mapping):
        problems.append(_problem(doc, path, f"expected an object, got {_kind_of(data)}"))
        return None
    api_version, kind = data.get("apiVersion"), data.get("kind")
    missing = [
        f'missing "{field}" (every manifest names its {field}, e.g. {example})'
        for field, value, example in (
            ("apiVersion", api_version, '"apps/v1"'),
            ("kind", kind, '"Deployment"'),
        )
        if not value
    ]
    if missing:
        for message in missing:
            problems.append(_problem(doc, path, message))
        return None
    if not isinstance(api_version, str) or not isinstance(kind, str):
        problems.append(_problem(doc, path, "apiVersion and kind must be strings"))
        return None
    try:
        info = kinds.by_kind(api_version, kind)
    except kinds.UnknownKindError as exc:
        problems.append(_problem(doc, _join(path, "kind"), str(exc)))
        return None
    cls = info.message_class
    try:
        return codec.from_dict(cls, data, path=path)
    except codec.CodecError as exc:
        errors = exc.errors
    if not strict:
        unknown = [e for e in errors if e.message.startswith("unknown field ")]
        if len(unknown) == len(errors):
            pruned = _without(data, [e.path for e in unknown], path)
            if pruned is not None:
                for e in unknown:
                    log.warning("%s: ignoring %s", _where(doc), e)
                try:
                    return codec.from_dict(cls, pruned, path=path)
                except codec.CodecError as again:
                    errors = again.errors
    for e in errors:
        problems.append(_problem(doc, e.path, e.message))
    return None


_PATH_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


def _without(data: Mapping[str, Any], paths: list[str], prefix: str) -> Any:
    """A copy of data with the fields at paths removed (None if a path cannot
    be followed, which leaves the original errors to be reported)."""
    pruned = copy.deepcopy(dict(data))
    for full in paths:
        relative = full[len(prefix) :].lstrip(".") if prefix and full.startswith(prefix) else full
        tokens = [
            m.group(1) if m.group(1) is not None else m.group(2)
            for m in _PATH_TOKEN.finditer(relative)
        ]
        node: Any = pruned
        for token in tokens[:-1]:
            if isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            elif isinstance(node, dict) and token in node:
                node = node[token]
            else:
                return None
        if not tokens or not isinstance(node, dict) or tokens[-1] not in node:
            return None
        del node[tokens[-1]]
    return pruned


def _problem(doc: _Document, path: str, message: str) -> ManifestProblem:
    return ManifestProblem(doc.source, doc.number, path, message, doc.line)


def _where(doc: _Document) -> str:
    return f"{doc.source}: document {doc.number}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"
