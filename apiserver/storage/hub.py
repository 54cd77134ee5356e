"""The cache hub: one etcd watch over the whole registry feeds every watch cache.

Why one watch over ``/registry/`` rather than one per resource: every write
the apiserver makes is a single-key transaction under ``/registry/``, so each
etcd revision shows up on this one watch as exactly one event. The hub thus
knows, without asking etcd, that it has seen every revision up to the last
event, and a consistent list only has to wait until the hub has reached the
revision etcd reported when the list began.

When the hub has not reached that revision soon (a write outside
``/registry/``, or a hub still catching up after a relist), it writes a
sentinel key, ``PROGRESS_KEY``, and waits for that write's event: events
come in revision order on one watch, so seeing it proves every earlier one
arrived. etcd's own progress notifications cannot prove that: etcd before
3.4.24 / 3.5.8 (the Debian 3.4.23 package among them) answers a progress
request of a watch that is still catching up with the current revision
before the events below it (etcd issue #15220). A hub that believed one
skipped events, and its clients lost them: after an etcd outage a
controller-manager never saw a Deployment created a second later.

N client watches still cost one etcd watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from apiserver.etcd.client import EtcdClient, prefix_range_end
from apiserver.etcd.errors import CompactedError
from apiserver.etcd.types import KeyValue
from apiserver.etcd.watch import Watch
from apiserver.storage.watchcache import WatchCache
from pinnace.machinery import errors

log = logging.getLogger(__name__)

REGISTRY_PREFIX = b"/registry/"
# Written (never read) to learn how far the hub's watch has come; no cache
# routes it, so no client sees it.
PROGRESS_KEY = b"/registry/pinnace.io/progress"
LIST_PAGE = 2000


class CacheHub:
    """Lists the registry, then follows it with one watch, feeding caches."""

    def __init__(self, etcd: EtcdClient, caches: list[WatchCache]) -> None:
        self._etcd = etcd
        # Longest prefix first, so routing picks the most specific cache.
        self._caches = sorted(caches, key=lambda c: len(c.prefix), reverse=True)
        for c in caches:
            c.hub = self
        self.rv = 0
        self._ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._watch: Watch | None = None
        self._nudge: asyncio.Task[None] | None = None
        self.relists = 0
        self.nudges = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cache-hub")
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            self._task.result()

    async def stop(self) -> None:
        if self._nudge:
            self._nudge.cancel()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for c in self._caches:
            c.close_watchers()

    def _route(self, key: bytes) -> WatchCache | None:
        text = key.decode()
        for c in self._caches:
            if text.startswith(c.prefix):
                return c
        return None

    async def _run(self) -> None:
        delay = 0.05
        while True:
            try:
                await self._relist()
                delay = 0.05
                await self._follow()
            except asyncio.CancelledError:
                raise
            except CompactedError as e:
                log.warning("registry watch fell behind compaction (%s); relisting", e)
            except Exception as e:
                log.warning(
                    "registry watch failed (%s: %s); relisting in %.2fs", type(e).__name__, e, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _relist(self) -> None:
        end = prefix_range_end(REGISTRY_PREFIX)
        by_cache: dict[WatchCache, list[KeyValue]] = {c: [] for c in self._caches}
        rev = 0
        key = REGISTRY_PREFIX
        while True:
            page = await self._etcd.range(key, end, limit=LIST_PAGE, revision=rev)
            rev = page.revision
            for kv in page.kvs:
                cache = self._route(kv.key)
                if cache is not None:
                    by_cache[cache].append(kv)
            if not page.more or not page.kvs:
                break
            key = page.kvs[-1].key + b"\0"
        for cache, kvs in by_cache.items():
            cache.replace(kvs, rev)
        self.relists += 1
        await self._advance(rev)
        self._ready.set()
        log.info(
            "registry listed at revision %d (%d objects)", rev, sum(map(len, by_cache.values()))
        )

    async def _follow(self) -> None:
        watch = self._etcd.watch(
            REGISTRY_PREFIX,
            prefix_range_end(REGISTRY_PREFIX),
            start_revision=self.rv + 1,
            prev_kv=False,
        )
        self._watch = watch
        try:
            async for batch in watch:
                last = self.rv
                for ev in batch.events:
                    cache = self._route(ev.kv.key)
                    if cache is not None:
                        cache.apply(ev)
                    last = max(last, ev.kv.mod_revision)
                await self._advance(last)
        finally:
            self._watch = None
            with contextlib.suppress(Exception):
                await watch.cancel()
        raise ConnectionError("the etcd watch ended")

    async def _advance(self, rv: int) -> None:
        if rv > self.rv:
            self.rv = rv
        for c in self._caches:
            c.advance(self.rv)
        async with self._changed:
            self._changed.notify_all()

    async def wait_fresh(self, revision: int, timeout: float = 5.0) -> None:
        """Wait until every cache has seen everything up to ``revision``."""
        if self.rv >= revision:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        nudged = False
        async with self._changed:
            while self.rv < revision:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise errors.Timeout(
                        f"the watch cache did not reach revision {revision} within {timeout}s"
                        f" (it is at {self.rv}); try again"
                    )
                # Our own writes arrive within milliseconds; a revision that
                # does not is a write outside /registry/ or a hub catching up.
                wait = min(remaining, 0.2)
                try:
                    await asyncio.wait_for(self._changed.wait(), wait)
                except TimeoutError:
                    if not nudged:
                        nudged = True
                        self._nudge_once()

    def _nudge_once(self) -> None:
        """Write ``PROGRESS_KEY`` unless a write of it is already under way:
        its event, once the watch delivers it, moves ``rv`` past every
        revision committed before it."""
        if self._nudge is None or self._nudge.done():
            self._nudge = asyncio.create_task(self._write_progress(), name="cache-hub-nudge")

    async def _write_progress(self) -> None:
        self.nudges += 1
        try:
            await self._etcd.put(PROGRESS_KEY, b"")
        except Exception as e:
            log.debug("could not write the progress key: %s", e)
