"""Running controllers: shared informers, events, leader election, health.

Only the leader runs controllers; a manager that loses its lease exits (its
caches and queues may hold work the new leader is now doing), and is
restarted by whoever supervises it (``pinnace up`` restarts nothing: the
Lease simply moves to another manager if one runs).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from typing import Any

from controllers.base import Controller, ControllerContext
from controllers.registry import CONTROLLERS
from pinnace.client.aio import AsyncClient
from pinnace.client.events import EventRecorder
from pinnace.client.informer import SharedInformerFactory
from pinnace.client.leaselock import run_leader_elected
from pinnace.client.workqueue import PrometheusWorkqueueMetrics

log = logging.getLogger("controllers.manager")

LEASE_NAMESPACE = "kube-system"
LEASE_NAME = "pinnace-controller-manager"


def identity() -> str:
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


async def run_controllers(
    client: AsyncClient,
    names: list[str],
    opts: Any,
    *,
    who: str,
    metrics: PrometheusWorkqueueMetrics,
) -> None:
    """Build the named controllers on shared informers and run them until
    cancelled. ``metrics``: the process's workqueue metrics, kept across
    terms of leadership (Prometheus registers each metric once)."""
    factory = SharedInformerFactory(client)
    recorder = EventRecorder(client, "controller-manager", host=who)
    recorder.start()
    ctx = ControllerContext(
        client=client,
        informers=factory,
        recorder=recorder,
        metrics=metrics,
        options=opts,
    )
    controllers: list[Controller] = [CONTROLLERS[n](ctx) for n in names]
    factory.start()
    try:
        if not await factory.wait_for_cache_sync(timeout=60):
            raise RuntimeError("informer caches did not sync within 60s")
        log.info("caches synced; running controllers: %s", ", ".join(names) or "(none)")
        # Runs until cancelled (the manager idles if no controller is enabled).
        await asyncio.gather(
            asyncio.Event().wait(), *(c.run(_workers(opts, c)) for c in controllers)
        )
    finally:
        await factory.stop()
        await recorder.stop()


def _workers(opts: Any, controller: Controller) -> int:
    flag = f"concurrent_{controller.name.replace('-', '_')}_syncs"
    value = getattr(opts, flag, None)
    return int(value) if value else controller.default_workers


async def run_manager(opts: Any, names: list[str]) -> None:
    """Campaign for the lease (unless --leader-elect=false) and run the controllers."""
    async with AsyncClient(opts.apiserver, kubeconfig=opts.kubeconfig) as client:
        who = identity()
        log.info("identity %s", who)
        metrics = PrometheusWorkqueueMetrics()
        if not opts.leader_elect:
            await run_controllers(client, names, opts, who=who, metrics=metrics)
            return
        # Leading ends when the Lease cannot be renewed in time (an etcd or
        # apiserver outage) or another took it: the controllers stop, and the
        # manager campaigns again; a new term builds every informer and
        # controller afresh, as a restarted process would.
        while True:
            await run_leader_elected(
                client,
                namespace=LEASE_NAMESPACE,
                name=LEASE_NAME,
                identity=who,
                lease_duration=opts.leader_elect_lease_duration,
                renew_deadline=opts.leader_elect_renew_deadline,
                retry_period=opts.leader_elect_retry_period,
                run=lambda: run_controllers(client, names, opts, who=who, metrics=metrics),
                on_new_leader=lambda holder: log.info("the leader is now %s", holder),
            )
            log.warning("leadership lost; controllers stopped, campaigning again")
