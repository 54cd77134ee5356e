"""How kubectl prints a server's meta.k8s.io/v1 Table (cli-runtime's
tableprinter): the CLI prints the same Table the REST front door serves.

* Columns of priority 0 only, unless ``-o wide``; headers upper-cased.
* ``-A`` on a namespaced kind puts a NAMESPACE column first, read from each
  row's object metadata.
* A string cell is cut at its first newline (``\\n``, ``\\r``, ``\\f``) and
  marked "..."; ESC prints as "^[". Numbers print as numbers, booleans as
  Go does ("true"/"false"), a null cell as nothing.
* Go's tabwriter aligns it: minwidth 6, padding 3, spaces.
* A Table without rows prints nothing, not even the header.
"""

from __future__ import annotations

import re
from typing import Any

from pinnace.cli.tabwriter import tabbed

__all__ = ["print_table"]

_MIN_WIDTH = 6
_PADDING = 3
_BREAK = re.compile(r"[\f\n\r]")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        return str(value)
    cut = _BREAK.search(value)
    text = value[: cut.start()] if cut else value
    text = text.replace("\x1b", "^[")
    return text + "..." if cut else text


def _namespace(row: dict[str, Any]) -> str:
    obj = row.get("object") or {}
    return str(obj.get("metadata", {}).get("namespace", ""))


def print_table(table: dict[str, Any], *, wide: bool = False, with_namespace: bool = False) -> str:
    """The text kubectl prints for ``table`` (module docstring)."""
    if not table["rows"]:
        return ""
    columns = table["columnDefinitions"] or []
    shown = [wide or c["priority"] == 0 for c in columns]
    header = ["NAMESPACE"] if with_namespace else []
    header += [c["name"].upper() for c, show in zip(columns, shown, strict=True) if show]
    lines = ["\t".join(header)]
    for row in table["rows"]:
        cells = [_namespace(row)] if with_namespace else []
        cells += [
            _cell(cell)
            for cell, show in zip(row["cells"], shown, strict=False)  # extra cells are ignored
            if show
        ]
        lines.append("\t".join(cells))
    return tabbed(lines, minwidth=_MIN_WIDTH, padding=_PADDING)
