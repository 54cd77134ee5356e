"""List-watch informers: a local, indexed cache of one kind kept in step with
the API, and notifications of every change (client-go's reflector, shared
informer and indexer, for asyncio).

    informer = Informer(client, "pods", namespace="default")
    informer.add_handler(on_add=enqueue, on_update=lambda old, new: enqueue(new))
    task = asyncio.create_task(informer.run())
    await informer.wait_synced()
    pod = informer.store.get_by_name("default", "web-0")

How it works: ``run()`` lists (a consistent list, paged), replaces the store
with the result, then watches from the list's resourceVersion (with
bookmarks, so an idle watch stays current) and applies each event. A watch
that is too far behind (``Expired``, Kubernetes' 410) leads to a fresh list;
any other failure is logged and retried after a jittered exponential
backoff (0.1 s doubling to 5 s), resuming the watch where it stopped when
there is a point to resume from, else listing again. ``run()`` only ends
when it is cancelled; a later ``run()`` of the same informer resumes from
``last_resource_version`` with the store it had.

Guarantees (as client-go's shared_informer.go):

* Eventual consistency: while ``run()`` runs, the store converges to the
  server's state for the kind, namespace and selectors; after any outage it
  catches up by resuming the watch or, if the server no longer has the
  history, by relisting.
* Per-object ordering: the notifications about one object arrive in the
  order the server changed it. Across objects there is no ordering promise.
* No lost or duplicated state across relists: a relist is diffed against
  the store. An object that appeared is an ``on_add``, one whose
  resourceVersion changed an ``on_update(old, new)``, one that vanished an
  ``on_delete`` of a ``DeletedFinalStateUnknown(key, last_known)`` tombstone
  (the delete happened while we were not watching, its final state is
  unknown), and one that was deleted and re-created under the same name
  (new uid) an ``on_delete`` tombstone followed by an ``on_add``. Unchanged
  objects produce no notification. Events the server repeats (at or below
  the last applied resourceVersion) are dropped.
* Handlers are called synchronously on the event loop, in the order they
  were added, after the store has been updated. They must be fast (map the
  object to a key and enqueue it; never call the API) and must not mutate
  the objects they get: those are the cache's own objects, shared with every
  other handler and lister. Copy first (``type(obj)(); copy.CopyFrom(obj)``).
  A handler that raises is logged; the informer and the other handlers go
  on.
* A handler added after the store has content is first given an
  ``on_add`` for every object in it, so every handler sees every object.
* ``resync_period > 0`` re-delivers ``on_update(obj, obj)`` for every cached
  object every period (client-go's resync): level-triggered consumers use it
  to retry work that depends on things outside the cache. Handlers that only
  care about changes compare resourceVersions.

A ``Store`` belongs to one event loop and is not thread-safe.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from pinnace.client._accessors import kind_info
from pinnace.client.aio import AsyncClient
from pinnace.machinery import cachedigest, errors
from pinnace.machinery.kinds import KindInfo
from pinnace.machinery.objects import object_meta

__all__ = [
    "NAMESPACE_INDEX",
    "DeletedFinalStateUnknown",
    "HandlerRegistration",
    "IndexFunc",
    "Informer",
    "SharedInformerFactory",
    "Store",
    "StoreDiff",
    "namespace_index",
    "object_key",
]

log = logging.getLogger(__name__)

IndexFunc = Callable[[Any], list[str]]
NAMESPACE_INDEX = "namespace"

# Retry delays after a failed list or watch: BACKOFF_START doubling to
# BACKOFF_MAX, each multiplied by a random factor in [1 - JITTER, 1].
BACKOFF_START = 0.1
BACKOFF_MAX = 5.0
BACKOFF_JITTER = 0.5
LIST_PAGE_SIZE = 500


def object_key(obj: Message) -> str:
    """The store key of an object: ``namespace/name``, or ``name`` when it has
    no namespace (cluster-scoped kinds)."""
    meta = object_meta(obj)
    return f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name


def namespace_index(obj: Message) -> list[str]:
    """The default index: an object's namespace ("" for cluster-scoped)."""
    return [object_meta(obj).namespace]


@dataclass(frozen=True)
class DeletedFinalStateUnknown:
    """Given to ``on_delete`` for an object found gone at a relist: it was
    deleted while nobody watched, so ``obj`` is the last state seen, not the
    final one."""

    key: str
    obj: Any


@dataclass(frozen=True)
class StoreDiff:
    """What ``Store.replace`` changed.

    ``deleted`` holds (key, last object) pairs; an object re-created under the
    same key (its uid changed) is in ``deleted`` (old) and ``added`` (new).
    """

    added: list[Any] = field(default_factory=list)
    updated: list[tuple[Any, Any]] = field(default_factory=list)
    deleted: list[tuple[str, Any]] = field(default_factory=list)
    unchanged: int = 0

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.deleted)


class Store:
    """Objects by key, with secondary indexes (client-go's Indexer).

    Each indexer maps an object to the index values it is found under;
    ``by_index(name, value)`` returns the objects with that value. A
    "namespace" index is always there. Loop-local, not thread-safe. The
    objects are shared: never mutate what the store returns.
    """

    def __init__(
        self,
        indexers: Mapping[str, IndexFunc] | None = None,
        *,
        key_func: Callable[[Any], str] = object_key,
    ) -> None:
        self.key_func = key_func
        self._items: dict[str, Any] = {}
        self._indexers: dict[str, IndexFunc] = {NAMESPACE_INDEX: namespace_index}
        # index name -> index value -> keys; key -> index name -> values it is under
        self._indices: dict[str, dict[str, set[str]]] = {NAMESPACE_INDEX: {}}
        self._values: dict[str, dict[str, list[str]]] = {}
        if indexers:
            self.add_indexers(indexers)

    # ---- reads ---------------------------------------------------------------

    def get(self, key: str) -> Any | None:
        return self._items.get(key)

    def get_by_name(self, namespace: str, name: str) -> Any | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def list(self) -> builtins.list[Any]:
        return list(self._items.values())

    def keys(self) -> builtins.list[str]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def by_index(self, index_name: str, value: str) -> builtins.list[Any]:
        """The objects whose ``index_name`` indexer returned ``value``."""
        return [self._items[k] for k in sorted(self.index_keys(index_name, value))]

    def by_index_values(self, index_name: str, values: Iterable[str]) -> builtins.list[Any]:
        """The objects under any of ``values`` of ``index_name``, each once,
        in key order (as ``by_index``)."""
        keys: set[str] = set()
        for value in values:
            keys |= self.index_keys(index_name, value)
        return [self._items[k] for k in sorted(keys)]

    def index_keys(self, index_name: str, value: str) -> set[str]:
        try:
            index = self._indices[index_name]
        except KeyError:
            raise KeyError(
                f'no index named "{index_name}"; have: {sorted(self._indices)}'
            ) from None
        return set(index.get(value, ()))

    def index_values(self, index_name: str) -> builtins.list[str]:
        """Every value under which ``index_name`` holds at least one object."""
        return sorted(v for v, keys in self._indices[index_name].items() if keys)

    # ---- writes --------------------------------------------------------------

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Add indexers (also after objects were stored: they are indexed now)."""
        for name, fn in indexers.items():
            if name in self._indexers and self._indexers[name] is not fn:
                raise ValueError(f'an indexer named "{name}" exists already')
            self._indexers[name] = fn
            self._indices.setdefault(name, {})
            for key, obj in self._items.items():
                values = _index_values(fn, obj, name)
                self._values.setdefault(key, {})[name] = values
                for v in values:
                    self._indices[name].setdefault(v, set()).add(key)

    def upsert(self, obj: Any) -> Any | None:
        """Store obj under its key; returns the object it replaced, if any."""
        key = self.key_func(obj)
        old = self._items.get(key)
        self._items[key] = obj
        if old is None:
            self._index(key, obj)
        else:
            self._reindex(key, obj)
        return old

    def delete(self, key: str) -> Any | None:
        """Remove the object under key; returns it (None if there was none)."""
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key)
        return old

    def replace(self, objects: Iterable[Any]) -> StoreDiff:
        """Make the store hold exactly ``objects``; returns what changed
        (an object counts as changed when its resourceVersion differs)."""
        diff = StoreDiff()
        seen: set[str] = set()
        unchanged = 0
        for obj in objects:
            key = self.key_func(obj)
            seen.add(key)
            old = self._items.get(key)
            if old is None:
                diff.added.append(obj)
            elif old.metadata.uid != obj.metadata.uid:
                diff.deleted.append((key, old))
                diff.added.append(obj)
            elif old.metadata.resource_version != obj.metadata.resource_version:
                diff.updated.append((old, obj))
            else:
                unchanged += 1
                continue  # keep the object handlers have already seen
            self.upsert(obj)
        for key in [k for k in self._items if k not in seen]:
            diff.deleted.append((key, self.delete(key)))
        return StoreDiff(diff.added, diff.updated, diff.deleted, unchanged)

    def _index(self, key: str, obj: Any) -> None:
        per_key: dict[str, list[str]] = {}
        for name, fn in self._indexers.items():
            values = _index_values(fn, obj, name)
            per_key[name] = values
            index = self._indices[name]
            for v in values:
                index.setdefault(v, set()).add(key)
        self._values[key] = per_key

    def _reindex(self, key: str, obj: Any) -> None:
        """Index an updated object: only the indexes whose values changed are
        touched (most updates, e.g. a pod's status, change none)."""
        per_key = self._values.setdefault(key, {})
        for name, fn in self._indexers.items():
            values = _index_values(fn, obj, name)
            before = per_key.get(name)
            if values == before:
                continue
            index = self._indices[name]
            for v in before or ():
                keys = index.get(v)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[v]
            for v in values:
                index.setdefault(v, set()).add(key)
            per_key[name] = values

    def _unindex(self, key: str) -> None:
        for name, values in self._values.pop(key, {}).items():
            index = self._indices[name]
            for v in values:
                keys = index.get(v)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[v]


def _index_values(fn: IndexFunc, obj: Any, name: str) -> list[str]:
    try:
        return list(dict.fromkeys(fn(obj)))
    except Exception:
        log.exception('indexer "%s" failed on %s; not indexing it there', name, object_key(obj))
        return []


# ---- informer --------------------------------------------------------------------


@dataclass(eq=False)
class HandlerRegistration:
    """One set of callbacks added with ``Informer.add_handler``."""

    on_add: Callable[[Any], None] | None = None
    on_update: Callable[[Any, Any], None] | None = None
    on_delete: Callable[[Any], None] | None = None


class _Backoff:
    """Jittered exponential delays between retries."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next = BACKOFF_START

    def reset(self) -> None:
        self._next = BACKOFF_START

    def next(self) -> float:
        delay = self._next * (1 - BACKOFF_JITTER * self._rng.random())
        self._next = min(self._next * 2, BACKOFF_MAX)
        return delay


class Informer:
    """A cache of one kind (in one namespace, "" for all, filtered by
    selectors) kept in step with the API by list + watch; see the module
    docstring for its guarantees."""

    def __init__(
        self,
        client: AsyncClient,
        kind: Any,
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        indexers: Mapping[str, IndexFunc] | None = None,
        resync_period: float = 0,
        name: str = "",
        rng: random.Random | None = None,
    ) -> None:
        self.info: KindInfo = kind_info(kind)
        self.namespace = namespace if self.info.namespaced else ""
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.name = name or _describe(self.info, self.namespace, label_selector, field_selector)
        self.store = Store(indexers)
        self._resource = client.resource(self.info, self.namespace)
        self._handlers: list[HandlerRegistration] = []
        self._synced = asyncio.Event()
        self._rv = ""  # last resourceVersion applied (list, event or bookmark)
        self._applied = 0  # the same as an int, to drop repeated events
        self._running = False
        self._rng = rng or random.Random()
        self.relists = 0  # lists after the first, for metrics and tests

    # ---- state -----------------------------------------------------------------

    @property
    def last_resource_version(self) -> str:
        """The resourceVersion the store is current to ("" before the first list)."""
        return self._rv

    def has_synced(self) -> bool:
        """True once the first list is in the store and handlers were told."""
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> bool:
        """Wait for ``has_synced()``; False if ``timeout`` seconds passed first."""
        try:
            async with asyncio.timeout(timeout):
                await self._synced.wait()
        except TimeoutError:
            return False
        return True

    # ---- handlers ----------------------------------------------------------------

    def add_handler(
        self,
        on_add: Callable[[Any], None] | None = None,
        on_update: Callable[[Any, Any], None] | None = None,
        on_delete: Callable[[Any], None] | None = None,
    ) -> HandlerRegistration:
        """Register callbacks; objects already cached are delivered to
        ``on_add`` now. Returns a registration for ``remove_handler``."""
        reg = HandlerRegistration(on_add, on_update, on_delete)
        self._handlers.append(reg)
        if on_add is not None:
            for obj in self.store.list():
                self._call(on_add, "on_add", obj)
        return reg

    def remove_handler(self, registration: HandlerRegistration) -> None:
        self._handlers = [h for h in self._handlers if h is not registration]

    def _call(self, fn: Callable[..., None], what: str, *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            obj = args[-1]
            key = obj.key if isinstance(obj, DeletedFinalStateUnknown) else object_key(obj)
            log.exception("informer %s: %s handler failed for %s", self.name, what, key)

    def _added(self, obj: Any) -> None:
        for h in list(self._handlers):
            if h.on_add is not None:
                self._call(h.on_add, "on_add", obj)

    def _updated(self, old: Any, new: Any) -> None:
        # The hottest fan-out (every pod status change, to every controller
        # watching pods): the handler is called here, not through _call.
        for h in list(self._handlers):
            fn = h.on_update
            if fn is None:
                continue
            try:
                fn(old, new)
            except Exception:
                log.exception(
                    "informer %s: on_update handler failed for %s", self.name, object_key(new)
                )

    def _deleted(self, obj: Any) -> None:
        for h in list(self._handlers):
            if h.on_delete is not None:
                self._call(h.on_delete, "on_delete", obj)

    # ---- running -----------------------------------------------------------------

    async def run(self) -> None:
        """List and watch until cancelled. After an earlier run, resumes the
        watch from ``last_resource_version`` (relisting if that is too old)."""
        if self._running:
            raise RuntimeError(f"informer {self.name} is already running")
        self._running = True
        cachedigest.track(self)  # /debug/caches of the metrics listener
        resync = (
            asyncio.create_task(self._resync_loop(), name=f"informer-resync-{self.name}")
            if self.resync_period > 0
            else None
        )
        try:
            await self._list_and_watch()
        finally:
            self._running = False
            cachedigest.untrack(self)
            if resync is not None:
                resync.cancel()
                await asyncio.gather(resync, return_exceptions=True)

    async def _list_and_watch(self) -> None:
        backoff = _Backoff(self._rng)
        need_list = not self._rv
        while True:
            listed_now = False
            try:
                if need_list:
                    await self._list()
                    need_list = False
                    listed_now = True
                    backoff.reset()
                await self._watch(backoff)
            except errors.Expired as err:
                # The server no longer has the history from our point: relist,
                # at once unless a fresh list's point was too old already
                # (a tiny watch window under heavy writes): then back off.
                log.info("informer %s: %s; relisting", self.name, err)
                need_list = True
                if listed_now:
                    await asyncio.sleep(backoff.next())
            except Exception as err:
                delay = backoff.next()
                log.warning(
                    "informer %s: %s failed: %s; retrying in %.2fs",
                    self.name,
                    "list" if need_list else "watch",
                    err,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _list(self) -> None:
        """One consistent list, page by page, replacing the store."""
        items: list[Any] = []
        token = ""
        rv = ""
        while True:
            page = await self._resource.list(
                label_selector=self.label_selector,
                field_selector=self.field_selector,
                limit=LIST_PAGE_SIZE,
                continue_token=token,
            )
            items.extend(page.items)
            rv = rv or page.resource_version
            token = page.continue_token
            if not token:
                break
        diff = self.store.replace(items)
        if self._synced.is_set():
            self.relists += 1
        self._set_rv(rv, force=True)
        log.debug(
            "informer %s: listed %d at %s (+%d ~%d -%d)",
            self.name,
            len(items),
            rv,
            len(diff.added),
            len(diff.updated),
            len(diff.deleted),
        )
        for key, old in diff.deleted:
            self._deleted(DeletedFinalStateUnknown(key, old))
        for old, new in diff.updated:
            self._updated(old, new)
        for obj in diff.added:
            self._added(obj)
        self._synced.set()

    async def _watch(self, backoff: _Backoff) -> None:
        """Apply watch events from the current resourceVersion until the
        stream fails (the SDK resumes broken streams by itself)."""
        events = self._resource.watch(
            resource_version=self._rv,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            allow_bookmarks=True,
        )
        try:
            async for ev in events:
                backoff.reset()
                self._apply(ev)
        finally:
            await events.aclose()

    def _apply(self, ev: Any) -> None:
        if not self._set_rv(ev.resource_version):
            log.debug(
                "informer %s: dropping repeated %s at %s", self.name, ev.type, ev.resource_version
            )
            return
        obj = ev.object
        if ev.type == "BOOKMARK" or obj is None:
            return
        if ev.type == "DELETED":
            old = self.store.delete(self.store.key_func(obj))
            if old is not None:
                self._deleted(obj)
            return
        if ev.type not in ("ADDED", "MODIFIED"):
            log.warning("informer %s: ignoring a watch event of type %r", self.name, ev.type)
            return
        old = self.store.upsert(obj)
        if old is None:
            self._added(obj)
        elif old.metadata.uid != obj.metadata.uid:
            key = self.store.key_func(obj)
            self._deleted(DeletedFinalStateUnknown(key, old))
            self._added(obj)
        else:
            self._updated(old, obj)

    def _set_rv(self, rv: str, *, force: bool = False) -> bool:
        """Record rv as applied; False if it is not after the last one applied
        (a repeated event). Pinnace resourceVersions are etcd revisions; ones
        that are not integers are taken as they come."""
        if not rv:
            return True
        try:
            number = int(rv)
        except ValueError:
            self._rv = rv
            return True
        if not force and number <= self._applied:
            return False
        self._applied = number
        self._rv = rv
        return True

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_period)
            if not self.has_synced():
                continue
            for obj in self.store.list():
                self._updated(obj, obj)


def _describe(info: KindInfo, namespace: str, labels: str, fields: str) -> str:
    text = info.resource + (f"/{namespace}" if namespace else "")
    extra = ",".join(s for s in (labels, fields) if s)
    return f"{text}[{extra}]" if extra else text


# ---- factory -----------------------------------------------------------------------


class SharedInformerFactory:
    """One informer per (kind, namespace, label selector, field selector),
    shared by every consumer that asks for it.

        factory = SharedInformerFactory(client)
        pods = factory.informer("pods")
        pods.add_handler(on_add=...)
        factory.start()
        await factory.wait_for_cache_sync()
        ...
        await factory.stop()
    """

    def __init__(self, client: AsyncClient, *, resync_period: float = 0) -> None:
        self._client = client
        self._resync_period = resync_period
        self._informers: dict[tuple[str, str, str, str], Informer] = {}
        self._tasks: dict[tuple[str, str, str, str], asyncio.Task[None]] = {}

    def informer(
        self,
        kind: Any,
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        indexers: Mapping[str, IndexFunc] | None = None,
        resync_period: float | None = None,
    ) -> Informer:
        """The shared informer for these arguments, made on first request.
        ``indexers`` are added to it; an informer is made with the resync
        period of its first request (the factory's when not given)."""
        info = kind_info(kind)
        ns = namespace if info.namespaced else ""
        key = (info.resource, ns, label_selector, field_selector)
        inf = self._informers.get(key)
        if inf is None:
            inf = Informer(
                self._client,
                info,
                namespace=ns,
                label_selector=label_selector,
                field_selector=field_selector,
                indexers=indexers,
                resync_period=self._resync_period if resync_period is None else resync_period,
            )
            self._informers[key] = inf
        elif indexers:
            inf.store.add_indexers(indexers)
        return inf

    @property
    def informers(self) -> list[Informer]:
        return list(self._informers.values())

    def start(self) -> None:
        """Run every informer not yet running (call again after adding more)."""
        for key, inf in self._informers.items():
            task = self._tasks.get(key)
            if task is None or task.done():
                self._tasks[key] = asyncio.create_task(inf.run(), name=f"informer-{inf.name}")

    async def wait_for_cache_sync(self, timeout: float | None = None) -> bool:
        """Wait until every informer has synced; False if ``timeout`` passed first."""
        results = await asyncio.gather(
            *(inf.wait_synced(timeout) for inf in self._informers.values())
        )
        return all(results)

    async def stop(self) -> None:
        """Cancel every running informer and wait for them to end."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
