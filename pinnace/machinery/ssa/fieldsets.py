"""Sets of field paths, and Kubernetes' FieldsV1 encoding of them.

A path is a tuple of elements in FieldsV1's own spelling:

* ``f:<name>``    a field of a struct, or a key of a map (``f:replicas``)
* ``k:<json>``    the item of a keyed list whose keys have these values,
                  the keys sorted by name: ``k:{"containerPort":80,"protocol":"TCP"}``
* ``v:<json>``    the item of a set with this value: ``v:"example.com/foo"``
* ``i:<n>``       the item at an index (lists without keys that are not atomic)

A FieldSet is a frozenset of paths; Python's set operations are the set
operations server-side apply needs. FieldsV1 is the tree of those paths as
a JSON object, each element a key, every member an object; a member that
also has members below it carries ``".": {}``. So the set
{(f:spec, f:replicas), (f:spec, f:containers, k:{"name":"c"}),
(f:spec, f:containers, k:{"name":"c"}, f:image)} encodes as::

    {"f:spec": {"f:replicas": {},
                "f:containers": {"k:{\\"name\\":\\"c\\"}": {".": {}, "f:image": {}}}}}

``path_string`` prints a path as Kubernetes' conflict messages do:
``.spec.containers[name="c"].image``, ``[containerPort=80,protocol="TCP"]``,
``[="x"]`` for a set item, ``[0]`` for an index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

__all__ = [
    "FieldSet",
    "Path",
    "decode_fields_v1",
    "decode_key_element",
    "encode_fields_v1",
    "fields_v1_json",
    "key_element",
    "path_string",
    "subtree",
    "value_element",
]

Path = tuple[str, ...]
FieldSet = frozenset[Path]


def key_element(keys: Mapping[str, Any]) -> str:
    """The ``k:`` element of a keyed list item with these key values."""
    # The type is part of the cache key: True == 1, but prints as true.
    items = tuple((k, type(v), v) for k, v in sorted(keys.items()))
    try:
        return _key_element(items)
    except TypeError:  # a key value that is not hashable (a list, an object)
        return "k:" + json.dumps(dict(sorted(keys.items())), separators=(",", ":"))


@lru_cache(maxsize=4096)
def _key_element(items: tuple[tuple[str, type, Any], ...]) -> str:
    # Cached: every write of a pod names the same containers and ports.
    return "k:" + json.dumps({k: v for k, _, v in items}, separators=(",", ":"))


def decode_key_element(element: str) -> dict[str, Any]:
    """The key values of a ``k:`` element ({} if it holds none)."""
    keys = json.loads(element[2:])
    return keys if isinstance(keys, dict) else {}


def value_element(value: Any) -> str:
    """The ``v:`` element of a set item."""
    return "v:" + json.dumps(value, separators=(",", ":"), sort_keys=True)


def encode_fields_v1(fields: Iterable[Path]) -> dict[str, Any]:
    """The FieldsV1 JSON object of a set of paths (see the module doc)."""
    paths = set(fields)
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = root
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return _sorted_tree(root)


@lru_cache(maxsize=1024)
def fields_v1_json(fields: FieldSet) -> bytes:
    """The compact JSON text of ``encode_fields_v1(fields)``, as a FieldsV1
    message keeps it. Cached: writes of one shape record the same set."""
    return json.dumps(encode_fields_v1(fields), separators=(",", ":")).encode()


def _sorted_tree(node: dict[str, Any]) -> dict[str, Any]:
    # "." first, then the elements in order, as Kubernetes writes them.
    return {k: _sorted_tree(node[k]) for k in sorted(node, key=lambda k: (k != ".", k))}


def decode_fields_v1(tree: Mapping[str, Any]) -> FieldSet:
    """The set of paths a FieldsV1 object holds. Raises ValueError if it
    is not one (a non-object value, an element without a known prefix)."""
    out: set[Path] = set()
    _decode(tree, (), out)
    return frozenset(out)


def _decode(node: Mapping[str, Any], path: Path, out: set[Path]) -> None:
    if not isinstance(node, Mapping):
        raise ValueError(f"FieldsV1 at {path_string(path) or '.'}: not an object")
    if path and (not node or "." in node):
        out.add(path)
    for element, child in node.items():
        if element == ".":
            continue
        if element[:2] not in ("f:", "k:", "v:", "i:"):
            raise ValueError(f"FieldsV1: unknown path element {element!r}")
        _decode(child, (*path, element), out)


def subtree(fields: Iterable[Path], prefix: Path) -> set[Path]:
    """The paths of ``fields`` at or below ``prefix``."""
    n = len(prefix)
    return {p for p in fields if p[:n] == prefix}


def path_string(path: Path) -> str:
    """``path`` as Kubernetes prints a field path in a conflict."""
    parts = []
    for element in path:
        kind, text = element[:2], element[2:]
        if kind == "f:":
            parts.append("." + text)
        elif kind == "k:":
            keys = decode_key_element(element)
            inner = ",".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in keys.items())
            parts.append(f"[{inner}]")
        elif kind == "v:":
            parts.append(f"[={text}]")
        else:
            parts.append(f"[{text}]")
    return "".join(parts)
