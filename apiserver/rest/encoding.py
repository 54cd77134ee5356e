"""JSON bodies of stored objects, each object version encoded once.

Turning a stored object into Kubernetes JSON (decode the wire bytes, build
the dict, dump it) costs ~0.1 ms per pod; a LIST of 10,000 pods paid it for
every item on every request, and a watch event once per watcher. The watch
cache hands out the same ``raw`` bytes object for one object version until
the object changes, so ``ObjectEncoder`` keeps each version's JSON keyed by
those bytes (the resource version is inside them): computed once, reused by
every list and watch event, least recently used dropped beyond a byte
budget. A list body is its envelope with the items' encodings joined in.

The bytes are exactly what ``json.dumps(object_dict(res, obj),
separators=(",", ":"), ensure_ascii=False)`` gives, so what is served does
not change.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec
from pinnace.machinery.kinds import KindInfo

__all__ = ["DEFAULT_BUDGET", "ObjectEncoder", "dumps", "list_envelope"]

# Bytes of JSON kept; 10,000 pods of ~2.7 KB JSON each take ~27 MB.
DEFAULT_BUDGET = 128 * 1024 * 1024


def dumps(body: Any) -> bytes:
    """A JSON body as this front door writes every one."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def list_envelope(info: KindInfo, lm: meta_pb2.ListMeta) -> dict[str, Any]:
    """A list's fields other than its items (which come last)."""
    meta: dict[str, Any] = {"resourceVersion": lm.resource_version}
    if lm.continue_token:
        meta["continue"] = lm.continue_token
    return {
        "apiVersion": info.api_version,
        "kind": f"{info.kind}List",
        "metadata": meta,
        "items": [],
    }


class ObjectEncoder:
    """Each stored object version's JSON (with apiVersion and kind), by its wire bytes."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self.size = 0
        # (resource, wire bytes) → JSON; a bytes object caches its own hash,
        # so a lookup of the cache's bytes costs no hashing after the first.
        self._cache: OrderedDict[tuple[str, bytes], bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cache)

    def encode(self, info: KindInfo, raw: bytes) -> bytes:
        """The JSON of the ``info`` object whose wire bytes are ``raw``."""
        key = (info.resource, raw)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        obj = info.message_class.FromString(raw)
        out = dumps({"apiVersion": info.api_version, "kind": info.kind, **codec.to_dict(obj)})
        if len(out) <= self.budget:
            self._cache[key] = out
            self.size += len(out)
            while self.size > self.budget:
                _, dropped = self._cache.popitem(last=False)
                self.size -= len(dropped)
        return out

    def list_body(self, info: KindInfo, raws: list[bytes], lm: meta_pb2.ListMeta) -> bytes:
        """A ``<Kind>List`` of the objects whose wire bytes are ``raws``."""
        head = dumps(list_envelope(info, lm))
        assert head.endswith(b"[]}")
        # One join of every piece: the body (tens of MB) is copied once.
        parts = [head[:-2]]
        for raw in raws:
            parts.append(self.encode(info, raw))
            parts.append(b",")
        if raws:
            parts.pop()
        parts.append(b"]}")
        return b"".join(parts)

    def watch_line(self, info: KindInfo, event_type: str, raw: bytes) -> bytes:
        """One watch event of the object whose wire bytes are ``raw``, newline-terminated."""
        return b"".join(
            (b'{"type":', dumps(event_type), b',"object":', self.encode(info, raw), b"}\n")
        )
