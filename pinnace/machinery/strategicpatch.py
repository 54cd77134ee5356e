"""Kubernetes' strategic merge patch, over plain JSON dicts.

``strategic_merge_patch(original, patch, schema)`` applies an
``application/strategic-merge-patch+json`` body to an object as
``codec.to_dict`` prints it, where ``schema`` is the object's protobuf
message descriptor. Field by field, the rules of the patch strategies that
Kubernetes' Go types declare (``patchmeta.PATCH``, generated from them):

* An object merges key by key; ``null`` deletes a key; a scalar replaces.
* A list whose field declares strategy "merge" merges: objects by their
  merge key (an item of the patch updates the item of the same key,
  recursively, or is added), scalars as a set (added when absent).
  Every other list is replaced whole (``tolerations``, ``args``).
* Order of a merged list: the patch's items in the patch's order, with
  the items only the server has put back where they were relative to
  them; a new item the server did not have comes before the server's own.
  Worked: original containers [a, b], patch [{name: c}] -> [c, a, b];
  patch [{name: b, image: x}, {name: c}] -> [a, b', c] (a stays before b,
  which it preceded in the original).
* Directives:
  ``{"$patch": "replace"}`` in an object: the object is the patch's, not
  merged. In a merged list: the list is the patch's other items.
  ``{"$patch": "delete"}`` in an object: it becomes ``{}``. In a merged
  list with a merge key (``{"name": "x", "$patch": "delete"}``): every
  item with that key is removed.
  ``"$retainKeys": [..]`` in an object: keys of the original not listed
  are dropped before merging (DeploymentSpec.strategy, volumes); every key
  the patch sets must be listed.
  ``"$deleteFromPrimitiveList/<field>": [..]``: those values are removed
  from the scalar list ``field``.
  ``"$setElementOrder/<field>": [..]``: the order of the merged list
  ``field`` (items listed come in that order; others keep their place
  relative to them as above).
* A value the original lacks is taken from the patch, with its
  directives and nulls dropped.

Inputs are never modified. A malformed patch raises StrategicPatchError
naming the field. Behaviour follows k8s.io/apimachinery
pkg/util/strategicpatch (patch.go) and the community doc
strategic-merge-patch.md.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from .codec import JSON_MESSAGES
from .patchmeta import PATCH, FieldPatch

__all__ = ["StrategicPatchError", "strategic_merge_patch"]

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"
SET_ELEMENT_ORDER = "$setElementOrder/"

_NO_PATCH = FieldPatch("", "")


class StrategicPatchError(ValueError):
    """The strategic merge patch is malformed or does not apply."""


@dataclass(frozen=True)
class _MapOf:
    """The schema of a JSON object with free keys (a proto map field)."""

    values: Schema


Schema = Descriptor | _MapOf | None


def strategic_merge_patch(
    original: dict[str, Any], patch: dict[str, Any], schema: Descriptor | type[Message]
) -> dict[str, Any]:
    """The object `original` with `patch` applied; see the module doc.
    `schema`: the object's message class or descriptor."""
    if not isinstance(patch, dict):
        raise StrategicPatchError("a strategic merge patch must be a JSON object")
    root = schema if isinstance(schema, Descriptor) else _descriptor(schema)
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch), root, "")


def _descriptor(cls: type[Message]) -> Descriptor:
    """A generated class's descriptor (the stubs type it as the Python or the
    C class; ``Descriptor`` is both at run time)."""
    descriptor = cls.DESCRIPTOR
    if not isinstance(descriptor, Descriptor):  # pragma: no cover - every implementation passes
        raise TypeError(f"not a message descriptor: {descriptor!r}")
    return descriptor


# ---- schema lookups ---------------------------------------------------------------


@functools.cache
def _fields(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    return {fd.json_name: fd for fd in descriptor.fields}


def _lookup(schema: Schema, key: str) -> tuple[Schema, FieldPatch]:
    """The schema of `key`'s value (an item's, for a list) and its patch metadata."""
    if isinstance(schema, _MapOf):
        return schema.values, _NO_PATCH
    if schema is None:
        return None, _NO_PATCH
    fd = _fields(schema).get(key)
    if fd is None:
        return None, _NO_PATCH
    meta = PATCH.get(schema.full_name, {}).get(key, _NO_PATCH)
    return _value_schema(fd), meta


def _value_schema(fd: FieldDescriptor) -> Schema:
    message = fd.message_type
    if message is None or message.full_name in JSON_MESSAGES:
        return None
    if message.GetOptions().map_entry:
        return _MapOf(_value_schema(message.fields_by_name["value"]))
    return message


def _strategies(meta: FieldPatch) -> set[str]:
    return {s for s in meta.strategy.split(",") if s}


# ---- objects ----------------------------------------------------------------------


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], schema: Schema, path: str
) -> dict[str, Any]:
    if DIRECTIVE in patch:
        return _map_directive(patch, path)
    _retain_keys(original, patch, path)
    _set_element_orders(original, patch, schema, path)
    for key, value in patch.items():
        delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
        if delete_list:
            key = key[len(DELETE_FROM_PRIMITIVE_LIST) :]
        elif key.startswith("$"):
            raise StrategicPatchError(f"{_at(path, key)}: unknown directive {key!r}")
        if value is None:
            original.pop(key, None)
            continue
        if key not in original or _kind(original[key]) != _kind(value):
            if not delete_list:
                _put(original, key, value)
            continue
        child, meta = _lookup(schema, key)
        where = _at(path, key)
        if isinstance(value, dict):
            if "replace" in _strategies(meta):
                _put(original, key, value)
            else:
                original[key] = _merge_map(original[key], value, child, where)
        elif isinstance(value, list):
            original[key] = _merge_list_field(original[key], value, child, meta, where, delete_list)
        else:
            original[key] = value
    return original


def _map_directive(patch: dict[str, Any], path: str) -> dict[str, Any]:
    directive = patch[DIRECTIVE]
    if directive == "replace":
        return _clean({k: v for k, v in patch.items() if k != DIRECTIVE})
    if directive == "delete":
        return {}
    raise StrategicPatchError(
        f"{path or 'the patch'}: unknown patch type {directive!r} in an object "
        '(allowed: "replace", "delete")'
    )


def _retain_keys(original: dict[str, Any], patch: dict[str, Any], path: str) -> None:
    """$retainKeys: drop the original's keys that are not listed."""
    if RETAIN_KEYS not in patch:
        return
    keep = patch.pop(RETAIN_KEYS)
    if not isinstance(keep, list):
        raise StrategicPatchError(f"{_at(path, RETAIN_KEYS)}: must be a list of field names")
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in keep:
            raise StrategicPatchError(
                f"{_at(path, RETAIN_KEYS)}: the patch sets {key!r}, which is not listed"
            )
    for key in [k for k in original if k not in keep]:
        del original[key]


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Take a patch value the original lacks, without directives and nulls."""
    if isinstance(value, dict) and DIRECTIVE in value:
        target.pop(key, None)  # a directive on nothing: nothing to keep
        return
    target[key] = _clean(value)


def _clean(value: Any) -> Any:
    """`value` without directive keys, directive items and null members."""
    if isinstance(value, dict):
        return {
            k: _clean(v)
            for k, v in value.items()
            if v is not None
            and not k.startswith("$")
            and not (isinstance(v, dict) and DIRECTIVE in v)
        }
    if isinstance(value, list):
        return [_clean(v) for v in value if not (isinstance(v, dict) and DIRECTIVE in v)]
    return value


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    return "scalar"


# ---- lists ------------------------------------------------------------------------


def _merge_list_field(
    original: list[Any],
    patch: list[Any],
    schema: Schema,
    meta: FieldPatch,
    path: str,
    delete_list: bool,
) -> list[Any]:
    """A list field of the original and the patch's value for it."""
    if delete_list:
        if any(isinstance(v, (dict, list)) for v in patch):
            raise StrategicPatchError(
                f"{path}: $deleteFromPrimitiveList applies to lists of scalars only"
            )
        return [v for v in original if v not in patch]
    if "merge" not in _strategies(meta):
        return _clean(patch)
    return _merge_list(original, patch, schema, meta.merge_key, path)


def _merge_list(
    original: list[Any], patch: list[Any], schema: Schema, merge_key: str, path: str
) -> list[Any]:
    if not original and not patch:
        return original
    if _all_scalars(original) and _all_scalars(patch):
        merged = _dedupe([*original, *patch])
        return _ordered(merged, patch, original, "")
    if not merge_key:
        raise StrategicPatchError(f"{path}: cannot merge a list of objects without a merge key")
    original, patch = _list_directives(original, patch, merge_key, path)
    merged = list(original)
    for item in patch:
        _require_key(item, merge_key, path)
        at = _find(merged, merge_key, item[merge_key], path)
        if at is None:
            merged.append(_clean(item))
        else:
            merged[at] = _merge_map(merged[at], item, schema, f"{path}[{at}]")
    return _ordered(merged, patch, original, merge_key)


def _list_directives(
    original: list[Any], patch: list[Any], merge_key: str, path: str
) -> tuple[list[Any], list[Any]]:
    """Apply the $patch items of a merged list: (new original, patch without them)."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if not isinstance(item, dict):
            raise StrategicPatchError(f"{path}: an item is not an object: {item!r}")
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            _require_key(item, merge_key, path)
            original = [
                v
                for v in original
                if not (isinstance(v, dict) and v.get(merge_key) == item[merge_key])
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise StrategicPatchError(f"{path}: merging lists cannot yet be specified in the patch")
        else:
            raise StrategicPatchError(f"{path}: unknown patch type {directive!r} in a list")
    if replace:
        return [_clean(v) for v in plain], []
    return original, plain


def _require_key(item: Any, merge_key: str, path: str) -> None:
    if not isinstance(item, dict) or merge_key not in item:
        raise StrategicPatchError(f"{path}: an item has no merge key {merge_key!r}: {item!r}")


def _find(items: list[Any], merge_key: str, value: Any, path: str) -> int | None:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise StrategicPatchError(f"{path}[{i}]: not an object")
        if merge_key in item and item[merge_key] == value:
            return i
    return None


def _all_scalars(items: list[Any]) -> bool:
    return all(not isinstance(v, (dict, list)) for v in items)


def _dedupe(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in items:
        if v not in out:
            out.append(v)
    return out


# ---- order ------------------------------------------------------------------------


def _identity(item: Any, merge_key: str) -> Any:
    return item.get(merge_key) if merge_key and isinstance(item, dict) else item


def _index(order: list[Any], item: Any, merge_key: str) -> int:
    """Where `item` is in `order` (matched by merge key, or by value), -1 if absent."""
    wanted = _identity(item, merge_key)
    for i, other in enumerate(order):
        if _identity(other, merge_key) == wanted:
            return i
    return -1


def _ordered(
    merged: list[Any], patch_order: list[Any], server_order: list[Any], key: str
) -> list[Any]:
    """Order `merged`: items named in `patch_order` in that order, the others
    in `server_order`'s order, interleaved so that a server item comes before
    a patch item when it did so in `server_order` (Kubernetes' rule)."""
    in_patch = [v for v in merged if _index(patch_order, v, key) >= 0]
    server_only = [v for v in merged if _index(patch_order, v, key) < 0]
    in_patch.sort(key=lambda v: _index(patch_order, v, key))
    server_only.sort(key=lambda v: _index(server_order, v, key))
    out: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(in_patch):
        if j >= len(in_patch):
            out.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            out.append(in_patch[j])
            j += 1
        else:
            left = _index(server_order, server_only[i], key)
            right = _index(server_order, in_patch[j], key)
            if left >= 0 and right >= 0 and left < right:
                out.append(server_only[i])
                i += 1
            else:
                out.append(in_patch[j])
                j += 1
    return out


def _set_element_orders(
    original: dict[str, Any], patch: dict[str, Any], schema: Schema, path: str
) -> None:
    """Merge each list named by a $setElementOrder/<field> and order it by that list."""
    for directive in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(directive)
        key = directive[len(SET_ELEMENT_ORDER) :]
        where = _at(path, key)
        if not isinstance(order, list):
            raise StrategicPatchError(f"{_at(path, directive)}: must be a list")
        child, meta = _lookup(schema, key)
        here, given = original.get(key), patch.pop(key, None)
        if given is not None and not isinstance(given, list):
            raise StrategicPatchError(f"{where}: must be a list")
        if here is not None and not isinstance(here, list):
            here = None
        if here is None and given is None:
            continue
        merged: list[Any]
        if given is None:
            merged = here or []
        elif here is None:
            merged = _clean(given)
        else:
            merged = _merge_list_field(here, given, child, meta, where, False)
        original[key] = _ordered(merged, order, here or [], meta.merge_key)


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
