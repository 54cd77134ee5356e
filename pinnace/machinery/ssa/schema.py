"""How each field of an API object merges under server-side apply.

Kubernetes builds this from the OpenAPI schema of the kind (structured-merge-
diff reads ``x-kubernetes-list-type`` and friends); Pinnace reads the same
facts from the message descriptors and the patch metadata table
(pinnace/machinery/patchmeta.py, generated from the Go types):

* a message field is a **struct**: its fields are owned one by one, unless
  the Go type is marked ``+structType=atomic`` (ATOMIC_STRUCTS), then it is
  one **leaf**, owned and replaced whole (``selector: {}`` in FieldsV1);
* a ``map<string, …>`` is a granular **map** (``f:<key>`` per entry) unless
  marked ``+mapType=atomic`` (ATOMIC_MAPS);
* a list is what ``list_kind(message, json_field)`` says: ``atomic`` (a leaf),
  ``set`` (items ``v:<value>``) or ``map`` (items ``k:{keys}``). From the
  table: ``+listType`` wins; else ``patchStrategy=merge`` with a merge key is
  a map keyed by it, without one a set; else atomic — the rule
  Kubernetes' schema conversion applies to built-in types;
* scalars, IntOrString and free-form JSON (Struct) are leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from pinnace.machinery.codec import JSON_MESSAGES
from pinnace.machinery.patchmeta import PATCH

__all__ = [
    "ATOMIC_MAPS",
    "ATOMIC_STRUCTS",
    "KEY_DEFAULTS",
    "ListKind",
    "ListKindFn",
    "Node",
    "root",
    "table_list_kind",
]

# ("atomic" | "set" | "map", the keys of a map).
ListKind = tuple[str, tuple[str, ...]]
ListKindFn = Callable[[str, str], ListKind]

# Go structs marked +structType=atomic (kubernetes/api and apimachinery
# types.go): owned and replaced as one value.
ATOMIC_STRUCTS = frozenset(
    "pinnace.api." + n
    for n in (
        "core.v1.SecretReference",
        "core.v1.ObjectFieldSelector",
        "core.v1.ResourceFieldSelector",
        "core.v1.ConfigMapKeySelector",
        "core.v1.SecretKeySelector",
        "core.v1.NodeSelector",
        "core.v1.NodeSelectorTerm",
        "core.v1.TopologySelectorTerm",
        "core.v1.ObjectReference",
        "core.v1.LocalObjectReference",
        "core.v1.TypedLocalObjectReference",
        "core.v1.EndpointAddress",
        "core.v1.EndpointPort",
        "autoscaling.v1.CrossVersionObjectReference",
        "discovery.v1.EndpointPort",
        "meta.v1.OwnerReference",
        "meta.v1.LabelSelector",
    )
)
# map fields marked +mapType=atomic: (message, JSON field).
ATOMIC_MAPS = frozenset(
    {
        ("pinnace.api.core.v1.PodSpec", "nodeSelector"),
        ("pinnace.api.core.v1.ReplicationControllerSpec", "selector"),
        ("pinnace.api.core.v1.ServiceSpec", "selector"),
    }
)
# Values Kubernetes' schema defaults a missing list-map key to.
KEY_DEFAULTS = {"protocol": "TCP"}

_LEAF_MESSAGES = frozenset({"pinnace.api.meta.v1.IntOrString"})


def table_list_kind(message: str, json_field: str) -> ListKind:
    """The list kind of ``message``'s ``json_field`` from patchmeta.PATCH."""
    fp = PATCH.get(message, {}).get(json_field)
    if fp is None:
        return ("atomic", ())
    if fp.list_type == "map":
        return ("map", fp.list_map_keys or ((fp.merge_key,) if fp.merge_key else ()))
    if fp.list_type in ("set", "atomic"):
        return (fp.list_type, ())
    if "merge" in fp.strategy.split(","):
        return ("map", (fp.merge_key,)) if fp.merge_key else ("set", ())
    return ("atomic", ())


@dataclass(frozen=True)
class Node:
    """One field's merge behaviour.

    kind: "leaf", "struct" (``message`` set), "map" (entries are ``element``),
    "set" or "list" (a keyed list of ``element`` items with ``keys``).
    """

    kind: str
    message: Descriptor | None = None
    element: Node | None = None
    keys: tuple[str, ...] = ()

    def child(self, name: str, list_kind: ListKindFn) -> Node:
        """The node of field or entry ``name`` below this one (a leaf if unknown)."""
        if self.kind == "map" and self.element is not None:
            return self.element
        if self.kind != "struct" or self.message is None:
            return LEAF
        return _struct_child(self.message, name, list_kind)


LEAF = Node("leaf")


def root(schema: Descriptor | type[Message]) -> Node:
    """The node of a whole object of this kind (its message or descriptor)."""
    # The stubs type DESCRIPTOR as either Descriptor implementation.
    message: Any = schema if isinstance(schema, Descriptor) else schema.DESCRIPTOR
    return Node("struct", message)


@cache
def _fields(message: Descriptor) -> dict[str, FieldDescriptor]:
    return {fd.json_name: fd for fd in message.fields}


@cache
def _struct_child(message: Descriptor, name: str, list_kind: ListKindFn) -> Node:
    fd = _fields(message).get(name)
    return LEAF if fd is None else _field_node(message, fd, list_kind)


def _message_node(message: Descriptor) -> Node:
    name = message.full_name
    if name in ATOMIC_STRUCTS or name in _LEAF_MESSAGES or name in JSON_MESSAGES:
        return LEAF
    return Node("struct", message)


def _value_node(fd: FieldDescriptor) -> Node:
    message = fd.message_type
    return _message_node(message) if message is not None else LEAF


def _field_node(owner: Descriptor, fd: FieldDescriptor, list_kind: ListKindFn) -> Node:
    message = fd.message_type
    if message is not None and message.GetOptions().map_entry:
        if (owner.full_name, fd.json_name) in ATOMIC_MAPS:
            return LEAF
        return Node("map", element=_value_node(message.fields_by_name["value"]))
    if fd.is_repeated:
        kind, keys = list_kind(owner.full_name, fd.json_name)
        if kind == "set":
            return Node("set")
        if kind == "map" and keys and message is not None:
            return Node("list", element=_value_node(fd), keys=keys)
        return LEAF
    return _value_node(fd)
