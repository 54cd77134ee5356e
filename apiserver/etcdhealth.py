"""Is etcd there? The apiserver's readiness, as kube-apiserver's etcd check.

Every ``period`` seconds a linearizable read of one key, with a deadline of
``timeout`` seconds, asks etcd (through the apiserver's own client, so over
the same endpoints and TLS). When it fails the apiserver reports itself not
ready: the gRPC health service answers NOT_SERVING and the HTTP API's
``/readyz`` (and ``/healthz``) 503 ``[-]etcd failed``; when it answers
again, ready. Requests are still served meanwhile: a read from the watch
cache needs no etcd, and a write fails fast with UNAVAILABLE (the client
asks for a member with a leader).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from apiserver.etcd.client import EtcdClient
from apiserver.etcd.errors import EtcdError

__all__ = ["EtcdHealth"]

log = logging.getLogger(__name__)

HEALTH_KEY = b"/registry/health"


class EtcdHealth:
    """Watches whether etcd answers; calls ``on_change(healthy)`` on each change."""

    def __init__(
        self,
        etcd: EtcdClient,
        *,
        period: float,
        timeout: float,
        on_change: Callable[[bool], Awaitable[None]],
    ) -> None:
        self._etcd = etcd
        self._period = period
        self._timeout = timeout
        self._on_change = on_change
        self.healthy = True
        self.reason = ""

    async def check(self) -> bool:
        """One read; whether it came back in time (``reason`` says why not)."""
        try:
            await asyncio.wait_for(
                self._etcd.range(HEALTH_KEY, count_only=True), timeout=self._timeout
            )
        except TimeoutError:
            self.reason = f"no answer within {self._timeout:g}s"
            return False
        except EtcdError as e:
            self.reason = str(e)
            return False
        self.reason = ""
        return True

    async def run(self) -> None:
        while True:
            healthy = await self.check()
            if healthy != self.healthy:
                self.healthy = healthy
                if healthy:
                    log.info("etcd answers again: ready")
                else:
                    log.warning("etcd does not answer (%s): not ready", self.reason)
                await self._on_change(healthy)
            await asyncio.sleep(self._period)
