"""The Apply and Update operations of server-side apply, over codec dicts.

Ownership is a FieldSet per manager, kept in ``metadata.managedFields``
(one entry per manager, operation, and for Update the apiVersion, and
subresource), as Kubernetes' structured-merge-diff keeps it:

apply(live, applied, manager=m):
  1. merged = live with the applied configuration merged in (structs and
     maps field by field, keyed lists item by item, sets by value, atomic
     fields and scalars replaced);
  2. m's set becomes exactly the fields of the applied configuration;
  3. the fields m owned before and no longer applies are removed from
     merged, unless another manager owns them (or something below them);
  4. live and merged are compared: a field another manager owns that the
     apply changes or adds is a conflict. Without force the apply fails
     (ApplyConflict lists them all); with force the others lose those
     fields. Fields the apply removed leave every owner's set.

update_managed(live, new, manager=m) records a non-apply write: the fields
it changed, added or removed leave every other manager and the changed and
added ones join m's "Update" entry (no conflicts: an update always wins).

Example: "kubectl" applies replicas: 3, then `kubectl scale` (Update by
"kubectl-client-side-apply"... or any other manager) sets 5: the scaler
now owns .spec.replicas. "kubectl" applies replicas: 3 again: .spec.replicas
changes from 5 to 3 and is owned by the scaler, so the apply fails with
`Apply failed with 1 conflict: conflict with "<scaler>" using apps/v1:
.spec.replicas`; with force it succeeds and the scaler's entry loses it.

The manager "kubectl" also gets Kubernetes' bridge from client-side apply
(lastapplied.py).

An object that has no managedFields when it is first applied is first
given whole to the Update manager "before-first-apply" (as Kubernetes).

Never tracked (Kubernetes' stripped fields): apiVersion, kind, and
metadata's name, namespace, uid, resourceVersion, generation,
creationTimestamp, selfLink, managedFields. On the main resource status is
not tracked; through the status subresource only status is.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from .fieldsets import (
    FieldSet,
    Path,
    decode_fields_v1,
    decode_key_element,
    encode_fields_v1,
    key_element,
    path_string,
    value_element,
)
from .lastapplied import KUBECTL, allowed_conflicts, with_last_applied
from .schema import KEY_DEFAULTS, ListKindFn, Node, root, table_list_kind

__all__ = [
    "ApplyConflict",
    "ApplyError",
    "ManagerEntry",
    "apply",
    "update_entries",
    "update_managed",
]

APPLY, UPDATE = "Apply", "Update"
BEFORE_FIRST_APPLY = "before-first-apply"
_STRIPPED: FieldSet = frozenset(
    {("f:apiVersion",), ("f:kind",), ("f:metadata",)}
    | {
        ("f:metadata", "f:" + f)
        for f in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        )
    }
)


class ApplyError(ValueError):
    """The applied configuration cannot be applied (a 400 BadRequest)."""


@dataclass(frozen=True)
class Conflict:
    manager: str  # as printed: '"kubectl" using apps/v1'
    path: Path


class ApplyConflict(Exception):
    """Fields the apply changes are owned by other managers (a 409 Conflict).
    ``message`` and ``causes`` are worded as kube-apiserver words them."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = sorted(conflicts, key=lambda c: (c.manager, c.path))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        cs = self.conflicts
        if len(cs) == 1:
            return (
                f"Apply failed with 1 conflict: conflict with {cs[0].manager}: "
                f"{path_string(cs[0].path)}"
            )
        lines = []
        for manager in sorted({c.manager for c in cs}):
            lines.append(f"conflicts with {manager}:")
            lines += [f"- {path_string(c.path)}" for c in cs if c.manager == manager]
        return f"Apply failed with {len(cs)} conflicts: " + "\n".join(lines)

    @property
    def causes(self) -> list[tuple[str, str]]:
        """(message, field) of each conflict, for StatusCauses of type FieldManagerConflict."""
        return [(f"conflict with {c.manager}", path_string(c.path)) for c in self.conflicts]


@dataclass(frozen=True)
class ManagerEntry:
    """One managedFields entry, its FieldsV1 decoded."""

    manager: str
    operation: str
    api_version: str
    time: str
    fields: FieldSet
    subresource: str = ""

    @property
    def identity(self) -> tuple[str, str, str, str]:
        # Appliers are one manager whatever the version they applied.
        version = "" if self.operation == APPLY else self.api_version
        return (self.manager, self.operation, version, self.subresource)

    @property
    def display(self) -> str:
        out = f'"{self.manager}"'
        if self.subresource:
            out += f' with subresource "{self.subresource}"'
        if self.operation == UPDATE:
            out += f" using {self.api_version}"
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": encode_fields_v1(self.fields),
        }
        if self.subresource:
            out["subresource"] = self.subresource
        return out


Managers = dict[tuple[str, str, str, str], ManagerEntry]


# ---- operations ----------------------------------------------------------------


def apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    force: bool,
    now: str,
    schema: Descriptor | type[Message],
    list_kind: ListKindFn = table_list_kind,
    subresource: str = "",
    zero: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The object after ``manager`` applies ``applied`` to ``live`` (None:
    the object does not exist yet), with its managedFields, and those
    managedFields. Raises ApplyConflict, or ApplyError for a configuration
    that cannot be applied. ``zero`` is the kind's zero object
    (codec.to_dict(Kind())), which an untracked live object is compared
    with. Inputs are not modified."""
    meta = applied.get("metadata")
    if isinstance(meta, dict) and meta.get("managedFields"):
        raise ApplyError("metadata.managedFields must be nil")
    node = root(schema)
    live_obj, managers = _split_managed(live)
    if live is not None and not managers:
        managers = _before_first_apply(live_obj, zero or {}, node, api_version, now, list_kind)
    applied = _drop_nulls(applied)
    config = _scoped_config(
        {k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}, subresource
    )
    merged = _merge(live_obj, config, node, list_kind)
    ident = ManagerEntry(manager, APPLY, api_version, now, frozenset(), subresource).identity
    last = managers.get(ident)
    mine = _tracked(_to_set(config, node, (), list_kind), subresource)
    managers[ident] = ManagerEntry(manager, APPLY, api_version, now, mine, subresource)
    merged = _prune(merged, last.fields if last else frozenset(), managers)
    added, modified, removed = _compare(live_obj, merged, node, list_kind)
    changed = added | modified
    conflicts = [
        Conflict(entry.display, path)
        for key, entry in managers.items()
        if key != ident
        for path in sorted(entry.fields & changed)
    ]
    if conflicts and not force and manager == KUBECTL and live is not None:
        allowed = allowed_conflicts(
            live_obj,
            api_version,
            lambda c: _to_set(c, node, (), list_kind),
            lambda lhs, rhs: _compare(lhs, rhs, node, list_kind),
        )
        conflicts = [c for c in conflicts if c.path not in allowed]
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    for key, entry in list(managers.items()):
        if key != ident:
            managers[key] = replace(entry, fields=entry.fields - changed - removed)
    if last is not None and last.fields == mine and merged == live_obj:
        managers[ident] = replace(managers[ident], time=last.time)
    if manager == KUBECTL:
        merged = with_last_applied(merged, applied)
    return _with_managed(merged, _ordered(managers))


def update_entries(
    live: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    now: str,
    schema: Descriptor | type[Message],
    list_kind: ListKindFn = table_list_kind,
    subresource: str = "",
    zero: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[ManagerEntry]]:
    """``new`` (the object a create, update or patch stores over ``live``;
    None for a create) without managedFields, and the managedFields that
    record the write as an Update by ``manager``, in the order they are
    written.

    A create is compared with ``zero``, the kind's zero object
    (codec.to_dict(Kind()), {} if not given), as Kubernetes compares it
    with the Go zero value.

    The managedFields ``new`` brings replace the live ones (how kubectl
    rewrites ownership), unless it brings none or this is a subresource
    write: then the live ones carry over."""
    node = root(schema)
    live_obj, live_managers = _split_managed(live if live is not None else zero)
    new_obj, new_managers = _split_managed(new)
    managers = new_managers if new_managers and not subresource else live_managers
    added, modified, removed = _compare(live_obj, new_obj, node, list_kind)
    touched = added | modified | removed
    for key, entry in list(managers.items()):
        managers[key] = replace(entry, fields=entry.fields - touched)
    ident = ManagerEntry(manager, UPDATE, api_version, now, frozenset(), subresource).identity
    mine = _tracked((added | modified) - removed, subresource)
    if mine:
        prev = managers.get(ident)
        fields = mine | (prev.fields if prev else frozenset())
        managers[ident] = ManagerEntry(manager, UPDATE, api_version, now, fields, subresource)
    return new_obj, _ordered(managers)


def update_managed(
    live: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    now: str,
    schema: Descriptor | type[Message],
    list_kind: ListKindFn = table_list_kind,
    subresource: str = "",
    zero: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``new`` with managedFields recording the write as an Update by
    ``manager`` (see update_entries), and those managedFields."""
    obj, entries = update_entries(
        live,
        new,
        manager=manager,
        api_version=api_version,
        now=now,
        schema=schema,
        list_kind=list_kind,
        subresource=subresource,
        zero=zero,
    )
    return _with_managed(obj, entries)


def _before_first_apply(
    live: dict[str, Any],
    zero: dict[str, Any],
    node: Node,
    api_version: str,
    now: str,
    list_kind: ListKindFn,
) -> Managers:
    """An object nobody owns a field of yet (written before tracking) is
    first given to the Update manager "before-first-apply", as Kubernetes
    does, so an apply that changes its fields conflicts."""
    added, _, _ = _compare(zero, live, node, list_kind)
    entry = ManagerEntry(BEFORE_FIRST_APPLY, UPDATE, api_version, now, _tracked(added, ""))
    return {entry.identity: entry} if entry.fields else {}


# ---- managedFields ---------------------------------------------------------------


def _split_managed(obj: dict[str, Any] | None) -> tuple[dict[str, Any], Managers]:
    """(the object without managedFields, its managers)."""
    if obj is None:
        return {}, {}
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    entries = meta.pop("managedFields", None) or []
    if "metadata" in out:
        out["metadata"] = meta
    managers: Managers = {}
    for e in entries:
        try:
            fields = decode_fields_v1(e.get("fieldsV1") or {})
        except ValueError:
            continue
        entry = ManagerEntry(
            manager=e.get("manager", ""),
            operation=e.get("operation", UPDATE),
            api_version=e.get("apiVersion", ""),
            time=e.get("time", ""),
            fields=fields,
            subresource=e.get("subresource", ""),
        )
        managers[entry.identity] = entry
    return out, managers


def _ordered(managers: Managers) -> list[ManagerEntry]:
    """The entries that own a field, in the order managedFields lists them."""
    return sorted(
        (e for e in managers.values() if e.fields),
        key=lambda e: (e.operation, e.time, e.manager, e.api_version, e.subresource),
    )


def _with_managed(
    obj: dict[str, Any], entries: list[ManagerEntry]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    managed = [e.to_dict() for e in entries]
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    if managed:
        meta["managedFields"] = managed
    out["metadata"] = meta
    return out, managed


def _tracked(fields: Iterable[Path], subresource: str) -> FieldSet:
    """The fields a manager can own through this (sub)resource."""
    if subresource == "status":
        return frozenset(p for p in fields if p[:1] == ("f:status",))
    return frozenset(p for p in fields if p not in _STRIPPED and p[:1] != ("f:status",))


def _scoped_config(config: dict[str, Any], subresource: str) -> dict[str, Any]:
    """The part of an applied configuration this (sub)resource applies."""
    if subresource == "status":
        return {
            k: v for k, v in config.items() if k in ("apiVersion", "kind", "metadata", "status")
        }
    return {k: v for k, v in config.items() if k != "status"}


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


# ---- the field set of a configuration --------------------------------------------


def _item_element(item: Any, node: Node) -> str:
    if node.kind == "set":
        return value_element(item)
    if not isinstance(item, dict):
        raise ApplyError(f"an item of a list keyed by {', '.join(node.keys)} is not an object")
    keys = {}
    for k in node.keys:
        v = item.get(k, KEY_DEFAULTS.get(k))
        if v is not None:
            keys[k] = v
    if not keys:
        raise ApplyError(
            f"associative list with keys has an element that omits key field "
            f'"{node.keys[0]}" (and doesn\'t have default value)'
        )
    return key_element(keys)


def _is_leaf(value: Any, node: Node) -> bool:
    return node.kind == "leaf" or not isinstance(value, (dict, list)) or not value


def _to_set(value: Any, node: Node, path: Path, list_kind: ListKindFn) -> set[Path]:
    """The paths ``value`` sets: its leaves, and each list item."""
    if _is_leaf(value, node):
        return {path} if path else set()
    out: set[Path] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out |= _to_set(v, node.child(k, list_kind), (*path, "f:" + k), list_kind)
        return out
    if node.kind not in ("set", "list"):
        return {path}
    for item in value:
        item_path = (*path, _item_element(item, node))
        out.add(item_path)
        if node.kind == "list" and node.element is not None and isinstance(item, dict):
            for k, v in item.items():
                out |= _to_set(
                    v, node.element.child(k, list_kind), (*item_path, "f:" + k), list_kind
                )
    return out


# ---- merge -------------------------------------------------------------------------


def _merge(live: Any, config: Any, node: Node, list_kind: ListKindFn) -> Any:
    """``config`` merged into ``live`` (see the module doc); new objects."""
    if live is None or node.kind == "leaf":
        return copy.deepcopy(config)
    if isinstance(live, dict) and isinstance(config, dict) and node.kind in ("struct", "map"):
        out = dict(live)
        for k, v in config.items():
            out[k] = _merge(live.get(k), v, node.child(k, list_kind), list_kind)
        return out
    if isinstance(live, list) and isinstance(config, list) and node.kind in ("set", "list"):
        return _merge_list(live, config, node, list_kind)
    return copy.deepcopy(config)


def _merge_list(live: list[Any], config: list[Any], node: Node, list_kind: ListKindFn) -> list[Any]:
    """Items only in live keep their place; the applied items come in the
    applied order, each merged into its live counterpart."""
    live_by = {_item_element(i, node): i for i in live}
    config_keys = [_item_element(i, node) for i in config]
    wanted = set(config_keys)
    out: list[Any] = []
    li = 0
    for key, item in zip(config_keys, config, strict=True):
        while li < len(live) and _item_element(live[li], node) not in wanted:
            out.append(live[li])
            li += 1
        if li < len(live) and _item_element(live[li], node) == key:
            li += 1
        if node.kind == "list" and node.element is not None:
            out.append(_merge(live_by.get(key), item, node.element, list_kind))
        else:
            out.append(copy.deepcopy(item))
    out += [i for i in live[li:] if _item_element(i, node) not in wanted]
    return out


# ---- prune -------------------------------------------------------------------------


def _prune(obj: dict[str, Any], last: FieldSet, managers: Managers) -> dict[str, Any]:
    """obj without the fields the applier gave up that nobody else owns."""
    owned: set[Path] = set()
    for entry in managers.values():
        owned |= entry.fields
    # Shortest first: a removed list item takes its fields along (removing
    # its key field first would leave an item no path can name).
    gone = sorted(last - owned, key=len)
    out = copy.deepcopy(obj)
    for path in gone:
        if any(p[: len(path)] == path for p in owned):
            continue  # someone owns a field below it: keep the item
        _remove(out, path)
    return out


def _remove(obj: Any, path: Path) -> None:
    node = obj
    for element in path[:-1]:
        node = _step(node, element)
        if node is None:
            return
    last = path[-1]
    if isinstance(node, dict) and last.startswith("f:"):
        node.pop(last[2:], None)
    elif isinstance(node, list):
        node[:] = [i for i in node if not _matches(i, last)]


def _step(node: Any, element: str) -> Any:
    if isinstance(node, dict) and element.startswith("f:"):
        return node.get(element[2:])
    if isinstance(node, list):
        for item in node:
            if _matches(item, element):
                return item
    return None


def _matches(item: Any, element: str) -> bool:
    if element.startswith("v:"):
        return value_element(item) == element
    if element.startswith("k:") and isinstance(item, dict):
        keys = decode_key_element(element)
        return all(item.get(k, KEY_DEFAULTS.get(k)) == v for k, v in keys.items())
    return False


# ---- compare -------------------------------------------------------------------------


def _compare(
    lhs: Any, rhs: Any, node: Node, list_kind: ListKindFn
) -> tuple[set[Path], set[Path], set[Path]]:
    """(added, modified, removed) paths from lhs to rhs, as structured-merge-
    diff's comparison: leaves that appear, change or disappear, and every
    struct, map or list item that appears or disappears as a whole. A field
    present as null is present: Kubernetes compares with the Go zero value
    of the kind, whose non-pointer structs are ``{}`` and nil lists null,
    so a create owns ``f:spec`` fields but not ``f:spec`` itself."""
    added: set[Path] = set()
    modified: set[Path] = set()
    removed: set[Path] = set()

    def walk(lv: Any, rv: Any, n: Node, path: Path) -> None:
        if lv is _ABSENT:  # all of rv is added (a create: most of the object)
            _added(rv, n, path, added, modified, list_kind)
            return
        if _is_leaf(lv, n) and _is_leaf(rv, n):
            if lv is _ABSENT:
                added.add(path)
            elif rv is _ABSENT:
                removed.add(path)
            elif lv != rv:
                modified.add(path)
            return
        if isinstance(lv, dict) or isinstance(rv, dict):
            ld = lv if isinstance(lv, dict) else {}
            rd = rv if isinstance(rv, dict) else {}
            for k in {**ld, **rd}:
                child = n.child(k, list_kind)
                walk(ld.get(k, _ABSENT), rd.get(k, _ABSENT), child, (*path, "f:" + k))
        elif n.kind in ("set", "list"):
            lm = {_item_element(i, n): i for i in (lv if isinstance(lv, list) else [])}
            rm = {_item_element(i, n): i for i in (rv if isinstance(rv, list) else [])}
            element = n.element if n.kind == "list" and n.element else Node("leaf")
            for k in {**lm, **rm}:
                walk(lm.get(k, _ABSENT), rm.get(k, _ABSENT), element, (*path, k))
        elif lv != rv:
            modified.add(path)
        if lv is _ABSENT:
            added.add(path)
        elif rv is _ABSENT:
            removed.add(path)

    walk(lhs, rhs, node, ())
    for s in (added, modified, removed):
        s.discard(())
    return added, modified, removed


def _added(
    value: Any, n: Node, path: Path, added: set[Path], modified: set[Path], list_kind: ListKindFn
) -> None:
    """What _compare's walk finds for a ``value`` that is new at ``path``
    (the same sets, in one lean pass: a create walks the whole object)."""
    added.add(path)
    if n.kind == "leaf" or not value:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _added(v, n.child(k, list_kind), (*path, "f:" + k), added, modified, list_kind)
    elif isinstance(value, list):
        if n.kind not in ("set", "list"):
            modified.add(path)
            return
        items = {_item_element(i, n): i for i in value}
        element = n.element if n.kind == "list" and n.element else _LEAF_NODE
        for k, item in items.items():
            _added(item, element, (*path, k), added, modified, list_kind)


_LEAF_NODE = Node("leaf")
_ABSENT = object()  # a field not in the object (unlike one present as null)
