"""Kubernetes' table printers: the columns ``kubectl get`` shows for every
served kind, computed once for both front doors.

kube-apiserver fills these columns (pkg/printers/internalversion/printers.go,
1.32) and kubectl prints the server's Table. Pinnace does the same: the REST
front door answers ``as=Table`` requests with `table`, and the Pinnace CLI
prints the very same Table (pinnace/cli/printing.py), so the two never
disagree.

Interface:

* `column_definitions(kind)` - the kind's columns (name, type, format,
  description, priority; priority 1 = ``-o wide`` only), in order;
* `rows(objects, now)` / `row_cells(obj, now)` - the cells, one per column,
  wide ones included (the apiserver always prints wide; kubectl hides
  priority-1 columns itself);
* `table(kind, objects, now=..., include_object=..., list_meta=...,
  no_headers=...)` - the exact meta.k8s.io/v1 Table JSON;
* `human_duration` / `since` - the AGE format ("45s", "3m20s", "3d4h");
* `partial_object_metadata(obj)` / `partial_object_metadata_list(objects,
  list_meta)` - the metadata-only answers (``as=PartialObjectMetadata``).

A kind without a printer gets Kubernetes' default columns: Name and
Created At (type date, an RFC 3339 cell).
"""

from __future__ import annotations

from pinnace.machinery.printers.columns import Cell, ColumnDefinition, human_duration, since
from pinnace.machinery.printers.partial import (
    list_meta_dict,
    partial_object_metadata,
    partial_object_metadata_list,
)
from pinnace.machinery.printers.registry import printer_for
from pinnace.machinery.printers.table import (
    INCLUDE_OBJECT_POLICIES,
    IncludeObjectError,
    column_definitions,
    row_cells,
    rows,
    table,
)

__all__ = [
    "INCLUDE_OBJECT_POLICIES",
    "Cell",
    "ColumnDefinition",
    "IncludeObjectError",
    "column_definitions",
    "human_duration",
    "list_meta_dict",
    "partial_object_metadata",
    "partial_object_metadata_list",
    "printer_for",
    "row_cells",
    "rows",
    "since",
    "table",
]
