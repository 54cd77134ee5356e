"""What this process's informer caches hold, in a form a test can compare
with etcd: the ``/debug/caches`` page of the metrics listener
(``--metrics-listen``, metrics_http.py).

Every informer registers itself while it runs (``track`` at the start of
``Informer.run``, ``untrack`` at its end). ``report()`` answers, for each,
what a checker needs to tell whether the cache equals etcd::

    {"name": "pods@node-1", "resource": "pods", "group": "",
     "namespace": "", "labelSelector": "", "fieldSelector": "spec.nodeName=node-1",
     "synced": true, "resourceVersion": "4711", "count": 12,
     "digest": "9f86d0..."}

``digest`` is ``digest(pairs)`` of the cache's ``(key, resourceVersion)``
pairs (key ``namespace/name``, or ``name`` for cluster-scoped kinds). A
cache current to resourceVersion R holds exactly the objects etcd held at
revision R under the kind's prefix that pass its namespace and selectors,
so a checker reads etcd at R, filters the same way, and compares digests
(``?items=1`` adds the pairs themselves, to say which differ). It is a
diagnostic: the page names objects (never their content), so the metrics
listener belongs on loopback, as its default (off) and the tests have it.

Thread safety: a Store belongs to its event loop; the HTTP server runs in
a thread of its own, so ``report`` reads each cache on its loop
(``run_coroutine_threadsafe``) and waits at most ``timeout`` seconds (a
loop that does not answer is reported as such, never read from outside).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from collections.abc import Iterable
from typing import Any, Protocol

from pinnace.machinery.kinds import KindInfo
from pinnace.machinery.objects import object_meta

__all__ = ["CacheSource", "digest", "report", "track", "untrack"]


class _Listing(Protocol):
    def list(self) -> list[Any]: ...


class CacheSource(Protocol):
    """What an informer shows of itself (pinnace.client.informer.Informer)."""

    @property
    def name(self) -> str: ...
    @property
    def info(self) -> KindInfo: ...
    @property
    def namespace(self) -> str: ...
    @property
    def label_selector(self) -> str: ...
    @property
    def field_selector(self) -> str: ...
    @property
    def store(self) -> _Listing: ...
    @property
    def last_resource_version(self) -> str: ...

    def has_synced(self) -> bool: ...


_lock = threading.Lock()
_sources: weakref.WeakKeyDictionary[Any, asyncio.AbstractEventLoop] = weakref.WeakKeyDictionary()


def track(source: CacheSource) -> None:
    """Report ``source`` from now on; call on its running event loop."""
    loop = asyncio.get_running_loop()
    with _lock:
        _sources[source] = loop


def untrack(source: CacheSource) -> None:
    with _lock:
        _sources.pop(source, None)


def digest(pairs: Iterable[tuple[str, str]]) -> str:
    """sha256 of the sorted ``key rv`` lines: equal iff the pairs are equal."""
    h = hashlib.sha256()
    for key, rv in sorted(pairs):
        h.update(f"{key} {rv}\n".encode())
    return h.hexdigest()


def _key(obj: Any) -> str:
    meta = object_meta(obj)
    return f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name


def snapshot(source: CacheSource, *, items: bool = False) -> dict[str, Any]:
    """One cache's entry of the report; run on the source's event loop."""
    pairs = [(_key(obj), object_meta(obj).resource_version) for obj in source.store.list()]
    entry: dict[str, Any] = {
        "name": source.name,
        "resource": source.info.resource,
        "group": source.info.group,
        "namespace": source.namespace,
        "labelSelector": source.label_selector,
        "fieldSelector": source.field_selector,
        "synced": source.has_synced(),
        "resourceVersion": source.last_resource_version,
        "count": len(pairs),
        "digest": digest(pairs),
    }
    if items:
        entry["items"] = [list(pair) for pair in sorted(pairs)]
    return entry


async def _snapshots(sources: list[CacheSource], items: bool) -> list[dict[str, Any]]:
    return [snapshot(s, items=items) for s in sources]


def report(*, items: bool = False, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Every tracked cache's entry (see the module docstring), from any
    thread other than the caches' own loop. A loop that does not answer in
    ``timeout`` seconds gives ``{"name": ..., "error": ...}`` entries."""
    with _lock:
        by_loop: dict[asyncio.AbstractEventLoop, list[CacheSource]] = {}
        for source, loop in list(_sources.items()):
            by_loop.setdefault(loop, []).append(source)
    out: list[dict[str, Any]] = []
    for loop, sources in by_loop.items():
        try:
            future = asyncio.run_coroutine_threadsafe(_snapshots(sources, items), loop)
        except RuntimeError as e:  # a closed loop
            out += [{"name": s.name, "error": f"RuntimeError: {e}"} for s in sources]
            continue
        try:
            out += future.result(timeout)
        except TimeoutError:  # a stuck loop
            future.cancel()
            out += [{"name": s.name, "error": f"TimeoutError after {timeout}s"} for s in sources]
    return sorted(out, key=lambda entry: entry["name"])
