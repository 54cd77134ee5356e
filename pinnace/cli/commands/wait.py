"""pinnace wait: block until objects meet a condition (kubectl wait).

``--for=condition=NAME[=VALUE]`` (case-insensitive, as kubectl),
``--for=jsonpath='{.path}'=VALUE`` (a simple JSONPath: fields and list
indexes) or ``--for=delete``; polls until met or ``--timeout``.
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

from google.protobuf.message import Message

from pinnace.cli.connect import connect
from pinnace.cli.targets import ref, split_kind
from pinnace.client import NotFound
from pinnace.machinery import codec, errors
from pinnace.machinery.flags import duration


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("wait", help="wait for a condition on objects")
    p.add_argument("kind", help="KIND or KIND/NAME")
    p.add_argument("names", nargs="*")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument(
        "--for",
        dest="condition",
        required=True,
        help="condition=NAME[=VALUE], delete, or jsonpath='{.path}'=VALUE",
    )
    p.add_argument("--timeout", type=duration, default="30s", help="how long to wait: 30s, 5m, 1h")
    p.set_defaults(func=wait)


def jsonpath(doc: Any, path: str) -> Any:
    """The value at a simple JSONPath like {.status.conditions[0].type}."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    value = doc
    for name, index in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", path):
        if name:
            value = value.get(name) if isinstance(value, dict) else None
        else:
            value = (
                value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
            )
        if value is None:
            return None
    return value


def condition_met(obj: Message, condition: str) -> bool:
    doc = codec.to_dict(obj)
    if condition.startswith("condition="):
        name, _, want = condition[len("condition=") :].partition("=")
        want = want or "True"
        for c in doc.get("status", {}).get("conditions", []):
            if c.get("type", "").lower() == name.lower():
                return str(c.get("status", "")).lower() == want.lower()
        return False
    if condition.startswith("jsonpath="):
        expr = condition[len("jsonpath=") :].strip("'\"")
        path, sep, want = expr.rpartition("=") if "}=" in expr else (expr, "", "")
        value = jsonpath(doc, path if sep else expr)
        if not sep:
            return value not in (None, "", [], {})
        return (
            str(value).lower() == want.strip("'\"").lower()
            if isinstance(value, bool)
            else str(value) == want
        )
    raise ValueError(
        f'unrecognized condition "{condition}": use condition=NAME, delete or jsonpath='
    )


def wait(args: argparse.Namespace) -> int:
    info, names = split_kind(args.kind, args.names)
    if not names:
        raise ValueError("wait needs at least one name")
    deadline = time.monotonic() + args.timeout
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        for name in names:
            while True:
                try:
                    obj = handle.get(name)
                    done = (
                        False if args.condition == "delete" else condition_met(obj, args.condition)
                    )
                except NotFound:
                    if args.condition == "delete":
                        done, obj = True, None
                    else:
                        raise
                if done:
                    target = ref(obj) if obj is not None else f"{info.singular}/{name}"
                    print(f"{target} condition met")
                    break
                if time.monotonic() > deadline:
                    raise errors.Timeout(
                        f"timed out waiting for the condition on {info.plural}/{name}"
                    )
                time.sleep(0.2)
    return 0
