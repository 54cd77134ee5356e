"""What a command line names: ``KIND NAME`` / ``KIND/NAME`` targets, the
``kind.group/name`` form the CLI prints back (kubectl's), and the
``KEY=VALUE`` / ``KEY-`` edits of label, annotate and set env."""

from __future__ import annotations

from google.protobuf.message import Message

from pinnace.client import object_meta
from pinnace.machinery import kinds


def split_kind(kind: str, names: list[str]) -> tuple[kinds.KindInfo, list[str]]:
    """The kind and names of ``KIND NAME...`` or ``KIND/NAME NAME...``."""
    if "/" in kind:
        k, _, name = kind.partition("/")
        return kinds.lookup(k), [name, *names]
    return kinds.lookup(kind), names


def kind_ref(info: kinds.KindInfo, name: str) -> str:
    """kubectl's KIND.group/name form: deployment.apps/web, pod/p."""
    return f"{info.kind.lower()}{'.' + info.group if info.group else ''}/{name}"


def ref(obj: Message) -> str:
    """kind_ref of an object."""
    return kind_ref(kinds.by_message(obj), object_meta(obj).name)


def parse_pairs(items: list[str]) -> dict[str, str | None]:
    """``KEY=VALUE`` sets (a value), ``KEY-`` removes (None)."""
    out: dict[str, str | None] = {}
    for item in items:
        if item.endswith("-") and "=" not in item:
            out[item[:-1]] = None
        elif "=" in item:
            key, _, value = item.partition("=")
            out[key] = value
        else:
            raise ValueError(f'"{item}" is not KEY=VALUE or KEY-')
    return out
