"""What this controller last wrote to each Service's slices, so a sync on a
cache that has not yet seen those writes does not act on it (Kubernetes'
endpointSliceTracker).

Without it, a sync right after creating a slice would find the slice
missing from the cache and create a second one. The tracker records, per
Service key, the resourceVersion each slice write returned and the names of
slices deleted; the cache is *stale* for the Service while a written slice
is missing from it or older there, or a deleted one is still in it.

Kubernetes compares ``metadata.generation``; Pinnace compares
resourceVersions as integers instead, because they are etcd mod revisions
(increasing across every write), and a label-only update, which this
controller also makes, bumps no generation. An entry is dropped once the
cache has caught up, when the slice's delete is observed (someone else,
e.g. the garbage collector, may delete a slice we wrote before the cache
saw our write), and after ``TTL`` seconds, so a lost event cannot stall a
Service forever (as ControllerExpectations' five minutes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pinnace.api.discovery.v1 import endpointslice_pb2 as es_pb2

__all__ = ["SliceTracker"]

TTL = 300.0
DELETED = -1


@dataclass
class _Write:
    version: int  # DELETED for a delete
    at: float


def _version(es: es_pb2.EndpointSlice) -> int:
    rv = es.metadata.resource_version
    return int(rv) if rv.isdigit() else 0


class SliceTracker:
    """Per Service key: slice name → the write the cache must show."""

    def __init__(self, *, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._writes: dict[str, dict[str, _Write]] = {}

    def wrote(self, key: str, es: es_pb2.EndpointSlice) -> None:
        """A create or update of es (as the server returned it) succeeded."""
        self._writes.setdefault(key, {})[es.metadata.name] = _Write(_version(es), self._clock())

    def deleted(self, key: str, name: str) -> None:
        self._writes.setdefault(key, {})[name] = _Write(DELETED, self._clock())

    def delete_observed(self, key: str, name: str) -> None:
        writes = self._writes.get(key)
        if writes is not None:
            writes.pop(name, None)

    def forget(self, key: str) -> None:
        self._writes.pop(key, None)

    def stale(self, key: str, cached: Iterable[es_pb2.EndpointSlice]) -> bool:
        """Whether the cached slices of the Service miss one of our writes."""
        writes = self._writes.get(key)
        if not writes:
            return False
        have = {es.metadata.name: _version(es) for es in cached}
        now = self._clock()
        stale = False
        for name, write in list(writes.items()):
            seen = have.get(name)
            caught_up = seen is None if write.version == DELETED else (seen or 0) >= write.version
            if caught_up or now - write.at > TTL:
                del writes[name]
            else:
                stale = True
        return stale
