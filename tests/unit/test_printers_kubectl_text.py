"""The CLI prints a Table as kubectl prints a server's Table (cli-runtime
tableprinter): priority-1 columns only with -o wide, NAMESPACE from row
metadata with -A, cells cut at a newline, Go's tabwriter (minwidth 6,
padding 3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pinnace.api.core.v1 import pod_pb2
from pinnace.cli.printing import table as cli_table
from pinnace.cli.tableprinter import print_table
from pinnace.machinery import codec

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def doc(*rows: list[Any], wide_last: bool = True) -> dict[str, Any]:
    cols = [
        {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
        {"name": "Up", "type": "boolean", "format": "", "description": "", "priority": 0},
        {"name": "Note", "type": "string", "format": "", "description": "", "priority": 1},
    ]
    if not wide_last:
        cols[2]["priority"] = 0
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": cols,
        "rows": [
            {"cells": r, "object": {"metadata": {"namespace": f"ns-{i}"}}}
            for i, r in enumerate(rows)
        ],
    }


@pytest.mark.parametrize(
    ("wide", "ns", "want"),
    [
        (False, False, ["NAME   UP", "a      true", "bb     false"]),
        (True, False, ["NAME   UP      NOTE", "a      true    one...", "bb     false   ^[x"]),
        (
            False,
            True,
            ["NAMESPACE   NAME   UP", "ns-0        a      true", "ns-1        bb     false"],
        ),
    ],
    ids=["default", "wide", "all-namespaces"],
)
def test_print_table(wide: bool, ns: bool, want: list[str]) -> None:
    text = print_table(
        doc(["a", True, "one\ntwo"], ["bb", False, "\x1bx"]), wide=wide, with_namespace=ns
    )
    assert text.splitlines() == want


def test_null_and_extra_cells() -> None:
    text = print_table(doc(["a", None, "n", "extra"], wide_last=False))
    # UP is 2 wide + 3 padding = 5, under the minimum width of 6.
    assert text.splitlines() == ["NAME   UP    NOTE", "a" + " " * 12 + "n"]


def test_no_rows_prints_nothing() -> None:
    assert print_table(doc()) == ""


def test_cli_table_of_pods_is_kubectls() -> None:
    pods = [
        codec.from_dict(
            pod_pb2.Pod,
            {
                "metadata": {
                    "name": n,
                    "namespace": "team",
                    "creationTimestamp": "2026-01-01T11:00:00Z",
                },
                "spec": {"containers": [{"name": "c", "image": "i"}], "nodeName": "node-a"},
                "status": {"phase": "Pending"},
            },
        )
        for n in ("web-0", "web-1")
    ]
    assert cli_table(pods, all_namespaces=True, now=NOW).splitlines() == [
        "NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE",
        "team        web-0   0/1     Pending   0          60m",
        "team        web-1   0/1     Pending   0          60m",
    ]
    wide = cli_table(pods, wide=True, now=NOW).splitlines()
    assert wide[0] == (
        "NAME    READY   STATUS    RESTARTS   AGE   IP       NODE     NOMINATED NODE   READINESS GATES"
    )
    assert (
        wide[1]
        == "web-0   0/1     Pending   0          60m   <none>   node-a   <none>           <none>"
    )
