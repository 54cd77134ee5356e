"""The watch cache: every object of one resource in memory, serving lists and watches.

Each resource's cache holds its objects already serialized for the wire and
the last ``capacity`` events. The ``CacheHub`` feeds all caches from one etcd
watch, so however many clients watch, etcd sees one watch.

Guarantees:
* Events reach every watcher in etcd revision order, each exactly once.
* A watch may start from any resourceVersion inside the cache's window (the
  last ``capacity`` events); an older one raises ``Expired`` (Kubernetes'
  410), and the client must relist.
* A selector watch sees an object that starts matching as ADDED and one that
  stops matching as DELETED, as Kubernetes' watch cache does.
* ``wait_fresh`` makes a list consistent: it waits until the cache has seen
  every revision etcd had committed when the list was asked for.
* A watcher that falls too far behind is closed; it resumes from its last
  resourceVersion.
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from google.protobuf.message import Message

from apiserver.etcd.types import Event, EventType, KeyValue
from pinnace.machinery import errors
from pinnace.machinery.fields import FieldSelector
from pinnace.machinery.labels import Selector

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED, BOOKMARK = "ADDED", "MODIFIED", "DELETED", "BOOKMARK"

# A watcher with more undelivered events than this is closed (it resumes).
WATCHER_BUFFER = 20_000


@dataclass(slots=True)
class CachedObject:
    """One object as the cache holds it: wire bytes plus what filters read."""

    key: str
    namespace: str
    name: str
    rv: int
    raw: bytes  # serialized message, metadata.resourceVersion set
    labels: dict[str, str]
    fields: dict[str, str]


@dataclass(slots=True)
class CacheEvent:
    type: str
    obj: CachedObject  # for DELETED: the last state, rv = the deletion revision
    prev: CachedObject | None
    rv: int


@dataclass(frozen=True, slots=True)
class Filter:
    """What a list or watch asks for: a namespace and selectors."""

    namespace: str = ""
    labels: Selector | None = None
    fields: FieldSelector | None = None

    def matches(self, obj: CachedObject) -> bool:
        if self.namespace and obj.namespace != self.namespace:
            return False
        if self.labels is not None and not self.labels.matches(obj.labels):
            return False
        return self.fields is None or self.fields.matches(obj.fields)


@dataclass(eq=False)
class Watcher:
    """One client watch: a queue of events that pass its filter."""

    filter: Filter
    bookmarks: bool
    queue: asyncio.Queue[CacheEvent | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def offer(self, ev: CacheEvent) -> None:
        """Queue ev translated for this watcher's filter (or nothing)."""
        now = self.filter.matches(ev.obj)
        before = ev.prev is not None and self.filter.matches(ev.prev)
        if ev.type == DELETED:
            if now:
                self._put(ev)
        elif now and before:
            self._put(ev)
        elif now:
            self._put(CacheEvent(ADDED, ev.obj, ev.prev, ev.rv))
        elif before:
            gone = ev.obj
            self._put(CacheEvent(DELETED, gone, ev.prev, ev.rv))

    def _put(self, item: CacheEvent | None) -> None:
        if self.closed:
            return
        if item is not None and self.queue.qsize() >= WATCHER_BUFFER:
            log.warning("closing a watcher that fell %d events behind", WATCHER_BUFFER)
            self.close()
            return
        self.queue.put_nowait(item)

    def bookmark(self, rv: int) -> None:
        if self.bookmarks and self.queue.empty():
            self._put(CacheEvent(BOOKMARK, _BOOKMARK_OBJ, None, rv))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


_BOOKMARK_OBJ = CachedObject("", "", "", 0, b"", {}, {})

Decoder = Callable[[bytes, int], Message]


class Freshness(Protocol):
    """What feeds a cache and knows how far it has read etcd (the ``CacheHub``)."""

    async def wait_fresh(self, revision: int, timeout: float = 5.0) -> None: ...


Extractor = Callable[[Message], tuple[str, str, dict[str, str], dict[str, str]]]


class WatchCache:
    """Cache of one resource. Passive: the ``CacheHub`` feeds it from the one
    etcd watch over the whole registry, so its ``rv`` is etcd's revision as
    far as the hub has seen it."""

    def __init__(
        self,
        *,
        prefix: str,
        decode: Decoder,
        extract: Extractor,
        capacity: int = 10_000,
        resource: str = "",
    ) -> None:
        self._prefix = prefix
        self._decode = decode
        self._extract = extract
        self._capacity = capacity
        self.resource = resource or prefix
        self._objects: dict[str, CachedObject] = {}
        self._sorted_keys: list[str] | None = None
        self._history: deque[CacheEvent] = deque()
        self._window_start = 0  # every event with rv > window_start is in history
        self.rv = 0
        # Counts changes to the objects (not bookmarks): what a view built
        # over them (the RBAC authorizer's index) compares to know it is stale.
        self.changes = 0
        self._watchers: set[Watcher] = set()
        self.hub: Freshness | None = None

    @property
    def prefix(self) -> str:
        return self._prefix

    def close_watchers(self) -> None:
        for w in list(self._watchers):
            w.close()
        self._watchers.clear()

    # ---- fed by the hub --------------------------------------------------------

    def replace(self, kvs: builtins.list[KeyValue], rev: int) -> None:
        """Start over from a full list at revision rev. Watchers cannot be told
        what changed while nobody was watching: they are closed and resume."""
        objects: dict[str, CachedObject] = {}
        for kv in kvs:
            try:
                obj = self._to_cached(kv.key.decode(), kv.value, kv.mod_revision)
            except Exception:
                log.exception("%s: cannot decode %s; skipping", self.resource, kv.key)
                continue
            objects[obj.key] = obj
        self.close_watchers()
        self.changes += 1
        self._objects = objects
        self._sorted_keys = None
        self._history.clear()
        self._window_start = rev
        self.rv = rev

    def _to_cached(self, key: str, value: bytes, rv: int) -> CachedObject:
        obj = self._decode(value, rv)
        namespace, name, labels, fields = self._extract(obj)
        return CachedObject(key, namespace, name, rv, obj.SerializeToString(), labels, fields)

    def apply(self, ev: Event) -> None:
        """One etcd event under this cache's prefix."""
        key = ev.kv.key.decode()
        rv = ev.kv.mod_revision
        prev = self._objects.get(key)
        if ev.type == EventType.DELETE:
            if prev is None:
                return
            del self._objects[key]
            self._sorted_keys = None
            gone = CachedObject(
                key, prev.namespace, prev.name, rv, prev.raw, prev.labels, prev.fields
            )
            self._record(CacheEvent(DELETED, gone, prev, rv))
            return
        try:
            obj = self._to_cached(key, ev.kv.value, rv)
        except Exception:
            log.exception("%s: cannot decode %s at revision %d; skipping", self.resource, key, rv)
            return
        if prev is None:
            self._sorted_keys = None
        self._objects[key] = obj
        self._record(CacheEvent(MODIFIED if prev else ADDED, obj, prev, rv))

    def _record(self, ev: CacheEvent) -> None:
        self.changes += 1
        self._history.append(ev)
        while len(self._history) > self._capacity:
            self._window_start = self._history.popleft().rv
        self.rv = max(self.rv, ev.rv)
        for w in list(self._watchers):
            if w.closed:
                self._watchers.discard(w)
            else:
                w.offer(ev)

    def advance(self, rv: int) -> None:
        """Nothing under this prefix changed up to rv."""
        if rv > self.rv:
            self.rv = rv

    async def wait_fresh(self, revision: int, timeout: float = 5.0) -> None:
        """Wait until the cache has seen everything up to ``revision``."""
        if self.rv >= revision:
            return
        assert self.hub is not None
        await self.hub.wait_fresh(revision, timeout)

    # ---- reads ---------------------------------------------------------------

    def get(self, key: str) -> CachedObject | None:
        return self._objects.get(key)

    def __len__(self) -> int:
        return len(self._objects)

    def list(
        self, flt: Filter, *, limit: int = 0, after_key: str = ""
    ) -> tuple[list[CachedObject], str]:
        """Objects passing flt in key order, starting after after_key; returns
        them and the last key when more remain (else "")."""
        if not limit and not after_key:
            keys: Iterator[str] | list[str] = self._keys_sorted()
        else:
            keys = self._keys_sorted()
            if after_key:
                keys = keys[bisect.bisect_right(keys, after_key) :]
        prefix = self._namespace_prefix(flt.namespace)
        out: list[CachedObject] = []
        objects = self._objects
        for k in keys:
            if prefix and not k.startswith(prefix):
                continue
            obj = objects[k]
            if flt.matches(obj):
                if limit and len(out) == limit:
                    return out, out[-1].key
                out.append(obj)
        return out, ""

    def _namespace_prefix(self, namespace: str) -> str:
        return f"{self._prefix}{namespace}/" if namespace else ""

    def _keys_sorted(self) -> builtins.list[str]:
        if self._sorted_keys is None:
            self._sorted_keys = sorted(self._objects)
        return self._sorted_keys

    def objects(self) -> builtins.list[CachedObject]:
        return builtins.list(self._objects.values())

    # ---- watches ---------------------------------------------------------------

    def watch(self, flt: Filter, *, since: int | None, bookmarks: bool) -> Watcher:
        """A watcher fed every event after ``since``; None means "start with
        the current state as ADDED events" (resourceVersion "" or "0")."""
        w = Watcher(flt, bookmarks)
        if since is None:
            for obj in self.list(flt)[0]:
                w.queue.put_nowait(CacheEvent(ADDED, obj, None, obj.rv))
            if bookmarks:
                # The end of the initial events: a client resumes from here
                # (Kubernetes' "initial-events-end" bookmark).
                w.queue.put_nowait(CacheEvent(BOOKMARK, _BOOKMARK_OBJ, None, self.rv))
        else:
            if since < self._window_start:
                raise errors.Expired(
                    f"too old resource version: {since} ({self._window_start}); relist"
                )
            if since < self.rv:
                for ev in self._history_after(since):
                    w.offer(ev)
        self._watchers.add(w)
        return w

    def _history_after(self, rv: int) -> Iterator[CacheEvent]:
        # History is sorted by rv; find the first event after rv.
        hist = self._history
        lo, hi = 0, len(hist)
        while lo < hi:
            mid = (lo + hi) // 2
            if hist[mid].rv <= rv:
                lo = mid + 1
            else:
                hi = mid
        for i in range(lo, len(hist)):
            yield hist[i]

    def unwatch(self, w: Watcher) -> None:
        self._watchers.discard(w)
        w.closed = True

    def send_bookmarks(self) -> None:
        for w in list(self._watchers):
            w.bookmark(self.rv)

    @property
    def watcher_count(self) -> int:
        return len(self._watchers)
