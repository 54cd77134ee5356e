"""How the CLI prints objects: kubectl-style tables, YAML, JSON and names.

Tables are Kubernetes' own: the CLI builds the meta.k8s.io/v1 Table the
REST front door serves (pinnace.machinery.printers, one implementation of
every kind's columns) and prints it as kubectl prints a server's Table
(pinnace/cli/tableprinter.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import yaml
from google.protobuf.message import Message

from pinnace.cli.tableprinter import print_table
from pinnace.machinery import codec, kinds, printers
from pinnace.machinery.objects import object_meta

__all__ = ["age", "as_list_dict", "render", "table"]


def age(timestamp: str, now: datetime | None = None) -> str:
    """kubectl's age of ``timestamp``: 42s, 2m5s, 10m, 3h1m, 10h, 3d4h, 30d."""
    return printers.since(timestamp, now or datetime.now(UTC))


def table(
    objects: Sequence[Message],
    *,
    all_namespaces: bool = False,
    wide: bool = False,
    now: datetime | None = None,
) -> str:
    """kubectl's table for objects of one kind (and its -o wide columns)."""
    if not objects:
        return ""
    info = kinds.by_message(objects[0])
    doc = printers.table(info.kind, objects, now=now or datetime.now(UTC))
    return print_table(doc, wide=wide, with_namespace=all_namespaces and info.namespaced)


def as_list_dict(objects: Sequence[Message]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [codec.to_dict(o) for o in objects],
        "metadata": {"resourceVersion": ""},
    }


def render(
    objects: Sequence[Message], output: str, *, single: bool, all_namespaces: bool = False
) -> str:
    """Objects in the requested output format (table, wide, yaml, json, name)."""
    if output in ("", "wide"):
        return table(objects, all_namespaces=all_namespaces, wide=output == "wide")
    if output == "name":
        return "\n".join(f"{kinds.by_message(o).singular}/{object_meta(o).name}" for o in objects)
    if output == "json":
        doc = codec.to_dict(objects[0]) if single else as_list_dict(objects)
        return json.dumps(doc, indent=4)
    if output == "yaml":
        doc = codec.to_dict(objects[0]) if single else as_list_dict(objects)
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False).rstrip()
    raise ValueError(f'unknown output format "{output}"; allowed: wide, yaml, json, name')
