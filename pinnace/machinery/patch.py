"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over plain dicts,
and ``apply_patch``, the one dispatch over every patch type the API takes.

All return a new document and never modify their inputs. A JSON patch that
cannot apply (missing path, failed ``test``) raises ``PatchError`` naming the
operation and the path; so does a malformed strategic merge patch
(pinnace/machinery/strategicpatch.py), through ``apply_patch``.

Patch types, by the names the API service takes (``PATCH_TYPES``) and the
HTTP Content-Types they stand for (``CONTENT_TYPES``): "merge"
(application/merge-patch+json), "json" (application/json-patch+json) and
"strategic" (application/strategic-merge-patch+json).
"""

from __future__ import annotations

import copy
from typing import Any

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from .strategicpatch import StrategicPatchError, strategic_merge_patch

PATCH_TYPES = ("merge", "json", "strategic")
CONTENT_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
}


class PatchError(ValueError):
    """A patch is malformed or does not apply to the document."""


def apply_patch(
    patch_type: str, document: Any, patch: Any, *, schema: Descriptor | type[Message]
) -> Any:
    """`document` with `patch` of `patch_type` (one of PATCH_TYPES) applied.

    `schema` is the message class (or descriptor) of the document's kind (the strategic
    merge patch reads the patch strategies of its fields). Raises PatchError
    for an unknown type, or a patch that is malformed or does not apply.
    """
    if patch_type == "merge":
        if not isinstance(patch, dict):
            raise PatchError("a merge patch must be a JSON object")
        return merge_patch(document, patch)
    if patch_type == "json":
        return json_patch(document, patch)
    if patch_type == "strategic":
        if not isinstance(patch, dict) or not isinstance(document, dict):
            raise PatchError("a strategic merge patch must be a JSON object")
        try:
            return strategic_merge_patch(document, patch, schema)
        except StrategicPatchError as e:
            raise PatchError(str(e)) from None
    raise PatchError(f'unsupported patch type "{patch_type}"; supported: {", ".join(PATCH_TYPES)}')


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(doc: Any, operations: Any) -> Any:
    """RFC 6902: apply each operation in order to a copy of doc."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    result = copy.deepcopy(doc)
    for i, op in enumerate(operations):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"operation {i}: must be an object with 'op' and 'path'")
        result = _apply(result, op, i)
    return result


def _apply(doc: Any, op: dict[str, Any], i: int) -> Any:
    kind, path = op["op"], _pointer(op["path"], i)
    if kind in ("add", "replace", "test") and "value" not in op:
        raise PatchError(f"operation {i} ({kind} {op['path']}): missing 'value'")
    if kind == "add":
        return _add(doc, path, copy.deepcopy(op["value"]), i)
    if kind == "remove":
        return _remove(doc, path, i)[0]
    if kind == "replace":
        doc = _remove(doc, path, i)[0]
        return _add(doc, path, copy.deepcopy(op["value"]), i)
    if kind == "test":
        if _get(doc, path, i) != op["value"]:
            raise PatchError(f"operation {i} (test {op['path']}): value differs")
        return doc
    if kind in ("move", "copy"):
        if "from" not in op:
            raise PatchError(f"operation {i} ({kind}): missing 'from'")
        src = _pointer(op["from"], i)
        if kind == "move":
            doc, value = _remove(doc, src, i)
        else:
            value = copy.deepcopy(_get(doc, src, i))
        return _add(doc, path, value, i)
    raise PatchError(
        f"operation {i}: unknown op {kind!r}; allowed: add, remove, replace, move, copy, test"
    )


def _pointer(text: Any, i: int) -> list[str]:
    if not isinstance(text, str) or (text and not text.startswith("/")):
        raise PatchError(f"operation {i}: path {text!r} is not a JSON pointer")
    return [p.replace("~1", "/").replace("~0", "~") for p in text.split("/")[1:]]


def _index(container: list[Any], token: str, i: int, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit():
        raise PatchError(f"operation {i}: {token!r} is not a list index")
    idx = int(token)
    if idx > len(container) or (idx == len(container) and not allow_end):
        raise PatchError(f"operation {i}: index {idx} out of range")
    return idx


def _parent(doc: Any, path: list[str], i: int) -> Any:
    node = doc
    for token in path[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, i, allow_end=False)]
        else:
            raise PatchError(f"operation {i}: path /{'/'.join(path)} does not exist")
    return node


def _get(doc: Any, path: list[str], i: int) -> Any:
    if not path:
        return doc
    parent = _parent(doc, path, i)
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, i, allow_end=False)]
    raise PatchError(f"operation {i}: path /{'/'.join(path)} does not exist")


def _add(doc: Any, path: list[str], value: Any, i: int) -> Any:
    if not path:
        return value
    parent = _parent(doc, path, i)
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, i, allow_end=True), value)
    else:
        raise PatchError(f"operation {i}: cannot add below a scalar at /{'/'.join(path)}")
    return doc


def _remove(doc: Any, path: list[str], i: int) -> tuple[Any, Any]:
    if not path:
        return None, doc
    parent = _parent(doc, path, i)
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, last, i, allow_end=False))
    raise PatchError(f"operation {i}: path /{'/'.join(path)} does not exist")
