"""The proxy's sync loop: Services and EndpointSlices in, one nft transaction out.

Informer handlers only mark the state dirty (they never render or run
nft). ``Proxier.run`` waits for that, then renders the whole table from
the informers' caches and applies it when the text differs from what was
last applied (level triggered: each sync recomputes everything, so a missed
or repeated event costs nothing). Changes are batched: a sync starts at
most once per ``min_sync_period`` (0.1 s by default), so 50 endpoint
changes in a burst become one or two transactions, and a single change is
in the kernel about one ``nft`` run (~10-50 ms) after the event arrives.

Every ``sync_period`` (30 s) the table is written again even when nothing
changed, which repairs a table someone deleted or edited by hand. A failed
``nft`` run leaves the previous rules in force (the transaction is all or
nothing) and is retried after 0.5 s, doubling to 30 s, until one succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pinnace.client.informer import Store
from pinnace.machinery import hostnet
from proxy.rules import ProxyConfig, Ruleset, render

__all__ = ["Proxier"]

log = logging.getLogger(__name__)

RETRY_START = 0.5
RETRY_MAX = 30.0


class Proxier:
    """Keeps the kernel's rules equal to the rendering of two caches."""

    def __init__(
        self,
        *,
        services: Store,
        slices: Store,
        config: ProxyConfig,
        apply: Callable[[str], Awaitable[None]],
        min_sync_period: float = 0.1,
        sync_period: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.slices = slices
        self.config = config
        self._apply = apply
        self.min_sync_period = min_sync_period
        self.sync_period = sync_period
        self._clock = clock
        self._dirty = asyncio.Event()
        self._applied = ""  # the script last applied successfully
        self._counts: tuple[int, ...] = ()
        self._last_sync = float("-inf")
        self._retry = 0.0
        self.syncs = 0  # successful applies, for tests and logs
        self.first_applied = asyncio.Event()

    def mark_dirty(self, *_: Any) -> None:
        """An informer handler: something changed; sync soon."""
        self._dirty.set()

    @property
    def pending(self) -> bool:
        """Whether a change waits for the next sync."""
        return self._dirty.is_set()

    def handlers(self) -> tuple[Callable[..., None], Callable[..., None], Callable[..., None]]:
        """(on_add, on_update, on_delete) for an informer."""
        return self.mark_dirty, self.mark_dirty, self.mark_dirty

    async def sync(self, *, force: bool = False) -> bool:
        """Render and apply if changed (or forced); whether nft ran.
        HostNetError if nft failed (the old rules stay)."""
        started = self._clock()
        self._last_sync = started
        # The caches' lists are taken here, on the loop; rendering them (40 ms
        # for 1,000 Services with 3,000 endpoints) runs in a thread. Cached
        # objects are replaced on change, never mutated, so this is safe.
        services, slices = self.services.list(), self.slices.list()
        ruleset = await asyncio.to_thread(render, services, slices, self.config)
        if ruleset.script == self._applied and not force:
            log.debug("sync: no change (%.1f ms)", (self._clock() - started) * 1000)
            return False
        await self._apply(ruleset.script)
        self._applied = ruleset.script
        self.syncs += 1
        self.first_applied.set()
        self._log_counts(ruleset)
        log.debug(
            "sync: applied %d bytes in %.1f ms",
            len(ruleset.script),
            (self._clock() - started) * 1000,
        )
        return True

    def _log_counts(self, ruleset: Ruleset) -> None:
        if ruleset.counts != self._counts:
            self._counts = ruleset.counts
            log.info(
                "rules: %d service ports with %d endpoints, %d without endpoints, %d node ports",
                *ruleset.counts,
            )

    async def run(self) -> None:
        """Sync whenever marked dirty (batched by min_sync_period), and every
        sync_period anyway; until cancelled."""
        while True:
            force = not await self._wait_dirty(self.sync_period)
            wait = self._last_sync + self.min_sync_period - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            self._dirty.clear()
            try:
                await self.sync(force=force)
                self._retry = 0.0
            except hostnet.HostNetError as e:
                self._retry = min(RETRY_MAX, self._retry * 2 or RETRY_START)
                log.error("applying the rules failed (retrying in %.1f s): %s", self._retry, e)
                await asyncio.sleep(self._retry)
                self._applied = ""
                self._dirty.set()

    async def _wait_dirty(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._dirty.wait(), timeout)
        except TimeoutError:
            return False
        return True
