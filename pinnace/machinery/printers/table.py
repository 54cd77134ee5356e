"""The meta.k8s.io/v1 Table of a list (or one object), as kube-apiserver
answers ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``.

Shape (keys in Kubernetes' order)::

    {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
     "metadata": {"resourceVersion": "42", "continue": "..."},
     "columnDefinitions": [{"name", "type", "format", "description", "priority"}],
     "rows": [{"cells": [...], "conditions": [...], "object": {...}}]}

* ``metadata`` is always there; its fields only when set (ListMeta omitempty).
* ``columnDefinitions`` is null when ``no_headers`` (a watch event after the
  first one, Kubernetes' TableOptions.noHeaders).
* ``rows`` is a list, empty for no objects. ``conditions`` appears only
  when a row has some (finished pods).
* ``object`` per includeObject: ``Metadata`` (the default, also for "") a
  PartialObjectMetadata, ``Object`` the whole object, ``None`` null. Any
  other value is an `IncludeObjectError` (the REST layer answers 400 with
  its message, as Kubernetes does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from google.protobuf.message import Message

from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec, kinds
from pinnace.machinery.printers.columns import Cell, ColumnDefinition
from pinnace.machinery.printers.partial import (
    META_API_VERSION,
    list_meta_dict,
    partial_object_metadata,
)
from pinnace.machinery.printers.registry import printer_for

__all__ = [
    "INCLUDE_OBJECT_POLICIES",
    "IncludeObjectError",
    "column_definitions",
    "row_cells",
    "rows",
    "table",
]

INCLUDE_OBJECT_POLICIES = ("None", "Object", "Metadata")


class IncludeObjectError(ValueError):
    """An includeObject value Kubernetes does not know; the message is its."""

    def __init__(self, value: str) -> None:
        super().__init__(f'unrecognized includeObject value: "{value}"')


def column_definitions(kind: str) -> list[ColumnDefinition]:
    """The columns kube-apiserver defines for ``kind`` ("Pod"), wide ones
    (priority 1) included, in order."""
    return list(printer_for(kind).columns)


def row_cells(obj: Message, now: datetime) -> list[Cell]:
    """One cell per column of obj's kind, as Kubernetes fills them."""
    return printer_for(kinds.by_message(obj).kind).cells(obj, now)


def rows(objects: Sequence[Message], now: datetime) -> list[list[Cell]]:
    """The cells of each object's row (objects of one kind)."""
    if not objects:
        return []
    fill = printer_for(kinds.by_message(objects[0]).kind).cells
    return [fill(obj, now) for obj in objects]


def _whole_object(obj: Message) -> dict[str, Any]:
    doc = codec.to_dict(obj)
    if doc.get("apiVersion") and doc.get("kind"):
        return doc
    info = kinds.by_message(obj)
    return {"apiVersion": info.api_version, "kind": info.kind, **doc}


Encoder = Callable[[Message], dict[str, Any] | None]


def _object_encoder(include_object: str, whole: Encoder | None) -> Encoder:
    if include_object in ("Metadata", ""):
        return partial_object_metadata
    if include_object == "Object":
        return whole or _whole_object
    if include_object == "None":
        return lambda obj: None
    raise IncludeObjectError(include_object)


def table(
    kind: str,
    objects: Sequence[Message],
    *,
    now: datetime,
    include_object: str = "Metadata",
    list_meta: meta_pb2.ListMeta | None = None,
    no_headers: bool = False,
    encode_object: Encoder | None = None,
) -> dict[str, Any]:
    """The Table JSON of ``objects`` (all of ``kind``), module docstring.

    For a single GET pass the object's resourceVersion in ``list_meta``, as
    Kubernetes puts it in the Table's metadata. ``encode_object`` encodes a
    row's whole object for includeObject=Object (default: the codec's JSON
    with apiVersion and kind).
    """
    encode = _object_encoder(include_object, encode_object)
    printer = printer_for(kind)
    out_rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        conditions = printer.conditions(obj) if printer.conditions else []
        if conditions:
            row["conditions"] = conditions
        row["object"] = encode(obj)
        out_rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": META_API_VERSION,
        "metadata": list_meta_dict(list_meta),
        "columnDefinitions": None if no_headers else [c.to_dict() for c in printer.columns],
        "rows": out_rows,
    }
