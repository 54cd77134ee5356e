"""pinnace-scheduler: binds pending pods to nodes.

pinnace-scheduler --apiserver 127.0.0.1:6443 [--leader-elect=false] [--health-listen 127.0.0.1:10259]

Informers on pods (all namespaces) and nodes start at once, leader or not,
so a follower that takes over has warm caches; the health service says
SERVING once both have synced. Only the leader of the Lease
``kube-system/pinnace-scheduler`` schedules; a leader that loses its lease
exits (status 1), as kube-scheduler does, and is restarted by its
supervisor. SIGTERM / SIGINT stop cleanly and hand the lease back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import sys
import uuid
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from pinnace.client.aio import AsyncClient
from pinnace.client.events import EventRecorder
from pinnace.client.informer import Informer
from pinnace.client.leaselock import run_leader_elected
from pinnace.machinery.flags import Parser, add_bool_flag, add_kubeconfig_flag
from pinnace.machinery.logging_setup import setup_logging
from pinnace.machinery.metrics_http import serve_metrics
from scheduler import metrics
from scheduler.cache import Cache
from scheduler.control import ApiPodControl
from scheduler.plugins import default_framework
from scheduler.plugins.volume_binding import pre_bind
from scheduler.queue import SchedulingQueue
from scheduler.scheduler import DEFAULT_SCHEDULER_NAME, Scheduler

log = logging.getLogger("scheduler")

COMPONENT = "default-scheduler"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = Parser(prog="pinnace-scheduler", description=__doc__.splitlines()[0])
    p.add_argument(
        "--apiserver", default=None, help="apiserver endpoint(s) host:port, comma-separated"
    )
    add_kubeconfig_flag(p)
    p.add_argument(
        "--scheduler-name",
        default=DEFAULT_SCHEDULER_NAME,
        help="pods with this spec.schedulerName (or none) are ours",
    )
    add_bool_flag(p, "--leader-elect", default=True, help="run leader election")
    p.add_argument("--leader-elect-lease-duration", type=float, default=15.0, help="seconds")
    p.add_argument("--leader-elect-renew-deadline", type=float, default=10.0, help="seconds")
    p.add_argument("--leader-elect-retry-period", type=float, default=2.0, help="seconds")
    p.add_argument("--leader-elect-resource-namespace", default="kube-system")
    p.add_argument("--leader-elect-resource-name", default="pinnace-scheduler")
    p.add_argument(
        "--identity", default="", help="leader election identity (default: hostname_<random>)"
    )
    p.add_argument(
        "--pod-initial-backoff", type=float, default=1.0, help="seconds (default %(default)s)"
    )
    p.add_argument(
        "--pod-max-backoff", type=float, default=10.0, help="seconds (default %(default)s)"
    )
    p.add_argument(
        "--unschedulable-flush-interval",
        type=float,
        default=60.0,
        help="pods unschedulable for longer than this many seconds are retried anyway (default %(default)s)",
    )
    p.add_argument(
        "--assumed-pod-ttl",
        type=float,
        default=30.0,
        help="seconds a bound but unobserved pod stays assumed",
    )
    p.add_argument("--max-binds-in-flight", type=int, default=128)
    p.add_argument(
        "--percentage-of-nodes-to-score",
        type=int,
        default=0,
        help="stop filtering once this percentage of nodes fit (0: adaptive, as Kubernetes; 100: all)",
    )
    p.add_argument(
        "--health-listen", default="", help="gRPC health service on host:port (default: off)"
    )
    p.add_argument(
        "--metrics-listen", default="", help="serve /metrics on host:port (default: off)"
    )
    p.add_argument("--log-level", default="info", help="debug, info, warning or error")
    args = p.parse_args(argv)
    if args.pod_initial_backoff <= 0 or args.pod_max_backoff < args.pod_initial_backoff:
        p.error("need 0 < --pod-initial-backoff <= --pod-max-backoff")
    return args


async def _start_health(listen: str) -> tuple[grpc.aio.Server | None, health.aio.HealthServicer]:
    servicer = health.aio.HealthServicer()
    await servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    if not listen:
        return None, servicer
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    if server.add_insecure_port(listen) == 0:
        raise SystemExit(f"cannot listen on {listen}")
    await server.start()
    log.info("health service on %s", listen)
    return server, servicer


def _move_all_on_change(informer: Informer, queue: SchedulingQueue, reason: str) -> None:
    """Any add or update of the informer's objects moves every waiting pod
    back to the active queue (a claim or volume may make them fit)."""

    def on_add(obj: Any) -> None:
        queue.move_all(reason)

    def on_update(old: Any, new: Any) -> None:
        queue.move_all(reason)

    informer.add_handler(on_add, on_update, None)


async def run(args: argparse.Namespace) -> int:
    identity = args.identity or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
    health_server, health_servicer = await _start_health(args.health_listen)
    serve_metrics(args.metrics_listen)
    client = AsyncClient(args.apiserver, kubeconfig=args.kubeconfig)
    recorder = EventRecorder(client, COMPONENT, host=identity)
    pods = Informer(client, "pods", namespace="")
    nodes = Informer(client, "nodes")
    claims = Informer(client, "persistentvolumeclaims", namespace="")
    volumes = Informer(client, "persistentvolumes")
    queue = SchedulingQueue(
        initial_backoff=args.pod_initial_backoff,
        max_backoff=args.pod_max_backoff,
        max_unschedulable=args.unschedulable_flush_interval,
    )
    sched = Scheduler(
        pods=pods.store,
        cache=Cache(assumed_ttl=args.assumed_pod_ttl),
        queue=queue,
        framework=default_framework(claims.store, volumes.store),
        control=ApiPodControl(client),
        recorder=recorder,
        scheduler_name=args.scheduler_name,
        max_binds_in_flight=args.max_binds_in_flight,
        percentage_of_nodes_to_score=args.percentage_of_nodes_to_score,
        pre_bind=lambda pod, node: pre_bind(
            pod,
            node,
            claims=claims.store,
            patch_claim=lambda ns, name, patch: client.persistent_volume_claims(ns).patch(
                name, patch
            ),
        ),
    )
    metrics.watch_queue(queue.pending)
    nodes.add_handler(sched.on_node_add, sched.on_node_update, sched.on_node_delete)
    pods.add_handler(sched.on_pod_add, sched.on_pod_update, sched.on_pod_delete)
    # A claim or volume appearing or changing may make waiting pods fit.
    for inf, reason in ((claims, "PvcChange"), (volumes, "PvChange")):
        _move_all_on_change(inf, queue, reason)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    recorder.start()
    informers = [
        asyncio.create_task(nodes.run(), name="informer-nodes"),
        asyncio.create_task(pods.run(), name="informer-pods"),
        asyncio.create_task(claims.run(), name="informer-claims"),
        asyncio.create_task(volumes.run(), name="informer-volumes"),
    ]
    code = 0
    try:
        synced = asyncio.ensure_future(
            asyncio.gather(
                nodes.wait_synced(),
                pods.wait_synced(),
                claims.wait_synced(),
                volumes.wait_synced(),
            )
        )
        waiters: list[asyncio.Future[Any]] = [synced, asyncio.ensure_future(stop.wait())]
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if synced in done:
            log.info(
                "caches synced: %d nodes, %d pods; identity %s",
                len(nodes.store),
                len(pods.store),
                identity,
            )
            await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
            code = await _work(args, client, sched, identity, stop)
        else:
            synced.cancel()
    finally:
        await health_servicer.enter_graceful_shutdown()
        for t in informers:
            t.cancel()
        await asyncio.gather(*informers, return_exceptions=True)
        await recorder.stop(timeout=2.0)
        if health_server is not None:
            await health_server.stop(0.5)
        await client.close()
    return code


async def _work(
    args: argparse.Namespace,
    client: AsyncClient,
    sched: Scheduler,
    identity: str,
    stop: asyncio.Event,
) -> int:
    """Schedule (as leader when electing) until stopped; the exit status."""
    if args.leader_elect:

        def on_new_leader(holder: str) -> None:
            if holder == identity:
                log.info("%s is now the leader", identity)
            else:
                log.info("new leader is %s; %s is not leading", holder, identity)

        async def campaign() -> None:
            # Leading ends when the Lease cannot be renewed in time (an etcd
            # or apiserver outage) or another took it: scheduling stops (binds
            # in flight finish) and the scheduler campaigns again. Its
            # informers stay in sync meanwhile, so a new term starts current.
            while True:
                await run_leader_elected(
                    client,
                    namespace=args.leader_elect_resource_namespace,
                    name=args.leader_elect_resource_name,
                    identity=identity,
                    lease_duration=args.leader_elect_lease_duration,
                    renew_deadline=args.leader_elect_renew_deadline,
                    retry_period=args.leader_elect_retry_period,
                    run=sched.run,
                    on_new_leader=on_new_leader,
                )
                log.warning("leadership lost; scheduling stopped, campaigning again")

        work = campaign()
    else:
        work = sched.run()
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
    if stopping.done():
        log.info("shutting down")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return 0
    stopping.cancel()
    try:
        task.result()
    except Exception:
        log.exception("scheduling stopped with an error")
        return 1
    log.error("scheduling ended")
    return 1


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging(args.log_level)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
