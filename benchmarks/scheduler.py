"""Scheduler throughput and latency over hollow nodes, end to end through the API.

    python benchmarks/scheduler.py [--nodes 1000] [--backlog 10000] [--steady 5000] [--rate 100]
    python benchmarks/scheduler.py --smoke     # seconds: 20 nodes, 200 + 100 pods (CI)

Starts a local cluster (etcd, apiserver, controller-manager, the proxy when
root) with --nodes hollow nodes in one process (kubelet/fleet.py) and no
scheduler, then:

1. backlog: creates --backlog pending pods (64 in flight), then starts a
   real scheduler process and measures pods bound per second from the
   first bind to the last (Kubernetes' SchedulingThroughput), and from the
   scheduler's start; the hollow kubelets start every pod meanwhile;
2. steady: --steady more pods created at --rate per second while the
   scheduler runs: per-pod scheduling latency, creation → seen bound via a
   watch (p50/p99/max), and the rate achieved;
3. baseline, in the same run: --baseline binds made directly through the
   API at 64 in flight with no scheduling decision (the hollow kubelets
   start those pods too): what the API allows the scheduler at most;
4. the algorithm alone, in this process with the cluster stopped, over
   --nodes and 5,000 nodes (as Kubernetes' scheduler_perf).

Also the CPU each process spends per pod bound and started during the
backlog (their sum bounds the pods per second two cores allow), the
scheduler's mean filter+score time per pod (its metrics), and how many
nodes it looks at per pod (Kubernetes' adaptive percentageOfNodesToScore).
Prints a Markdown table, row by row.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.hollow import (
    PodWatch,
    Table,
    bench_pod,
    cpu_seconds,
    hollow_cluster,
    ms,
    pct,
    pids,
)
from pinnace.api.core.v1 import node_pb2
from pinnace.client import AsyncClient
from pinnace.client.informer import Store
from pinnace.localcluster import process
from pinnace.localcluster.cluster import LocalCluster
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import codec, kinds
from scheduler.cache import Cache
from scheduler.framework import num_feasible_nodes_to_find
from scheduler.nodeinfo import PodInfo
from scheduler.plugins import default_framework
from scheduler.scheduler import Scheduler

NAMESPACE = "bench"
BASELINE_NAMESPACE = "bench-baseline"
IN_FLIGHT = 64


async def create_all(client: AsyncClient, names: list[str], namespace: str, **pod: Any) -> float:
    """Create the pods, IN_FLIGHT at a time; the creates per second."""
    api = client.pods(namespace)
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def one(name: str) -> None:
        async with slots:
            await api.create(bench_pod(name, namespace, **pod))

    start = time.perf_counter()
    await asyncio.gather(*(one(n) for n in names))
    return len(names) / (time.perf_counter() - start)


async def create_paced(
    client: AsyncClient, names: list[str], rate: float, watch: PodWatch
) -> tuple[float, list[str]]:
    """Create one pod every 1/rate seconds (each create its own task, so a
    slow answer does not slow the pace); the rate achieved and the errors
    of the creates that failed (reported, not hidden)."""
    api = client.pods(NAMESPACE)
    tasks = []
    start = time.perf_counter()
    for i, name in enumerate(names):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        watch.times.created[f"{NAMESPACE}/{name}"] = time.perf_counter()
        tasks.append(asyncio.create_task(api.create(bench_pod(name, NAMESPACE))))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failed = [(n, r) for n, r in zip(names, results, strict=True) if isinstance(r, Exception)]
    for name, _ in failed:  # not made: no latency to count
        watch.times.created.pop(f"{NAMESPACE}/{name}", None)
    return len(names) / (time.perf_counter() - start), [repr(r) for _, r in failed]


def decisions_per_second(node_count: int, pods: int) -> tuple[float, int]:
    """The scheduling algorithm alone, in this process, as Kubernetes'
    scheduler_perf measures it: ``pods`` decisions over ``node_count`` nodes
    like the hollow ones (each pod assumed on its node, as the scheduler
    does); decisions per second and the nodes looked at per pod."""
    cache = Cache()
    for i in range(node_count):
        cache.add_node(hollow_node(f"n-{i:05}"))
    sched = Scheduler(
        pods=cast(Any, None),
        cache=cache,
        queue=cast(Any, None),
        framework=default_framework(Store(), Store()),  # no claims, as the pods have none
        control=cast(Any, None),
        recorder=cast(Any, None),
    )
    infos = []
    for i in range(pods):
        pod = bench_pod(f"p-{i:05}", NAMESPACE)
        pod.metadata.uid = f"uid-{i}"
        infos.append(PodInfo.of(pod))
    start = time.perf_counter()
    for info in infos:
        node, _ = sched.find_node(info)
        assert node is not None
        cache.assume_pod(info, node)
    return pods / (time.perf_counter() - start), num_feasible_nodes_to_find(node_count)


def hollow_node(name: str) -> Any:
    """A Ready node shaped as a hollow node reports itself (benchmarks/hollow.py)."""
    capacity = {"cpu": "32", "memory": "128Gi", "pods": "110"}
    return codec.from_dict(
        node_pb2.Node,
        {
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {
                "capacity": capacity,
                "allocatable": capacity,
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        },
    )


def start_scheduler(cluster: LocalCluster) -> tuple[process.Component, str]:
    health, metrics = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    sched = process.Component(
        "scheduler-bench",
        "scheduler.main",
        [
            *cluster.identities.component_flags("scheduler", cluster.server),
            *("--health-listen", health, "--metrics-listen", metrics),
            "--log-level",
            "warning",
        ],
        log_file=cluster.data_dir / "logs" / "scheduler-bench.log",
    )
    sched.start()
    try:
        sched.wait_serving(health, 60)
    except BaseException:
        sched.stop()
        raise
    return sched, metrics


def attempt_seconds(metrics: str) -> tuple[float, int]:
    """The scheduler's filter+score seconds in total and its attempts (its /metrics)."""
    body = urllib.request.urlopen(f"http://{metrics}/metrics", timeout=10).read().decode()
    total = count = 0.0
    for line in body.splitlines():
        if line.startswith('scheduler_scheduling_attempt_duration_seconds_sum{result="scheduled"}'):
            total = float(line.split()[-1])
        if line.startswith(
            'scheduler_scheduling_attempt_duration_seconds_count{result="scheduled"}'
        ):
            count = float(line.split()[-1])
    return total, int(count)


async def direct_binds(client: AsyncClient, count: int, nodes: list[str]) -> tuple[float, int]:
    """The baseline: ``count`` pods no scheduler is responsible for, bound
    straight through the API, IN_FLIGHT at a time; binds made per second,
    and how many failed."""
    names = [f"b-{i:05}" for i in range(count)]
    await create_all(client, names, BASELINE_NAMESPACE, scheduler="nobody")
    api = client.pods(BASELINE_NAMESPACE)
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def bind(i: int, name: str) -> None:
        async with slots:
            await api.bind(name, nodes[i % len(nodes)])

    start = time.perf_counter()
    results = await asyncio.gather(
        *(bind(i, n) for i, n in enumerate(names)), return_exceptions=True
    )
    failed = sum(isinstance(r, Exception) for r in results)
    return (count - failed) / (time.perf_counter() - start), failed


async def measure(cluster: LocalCluster, args: argparse.Namespace, table: Table) -> None:
    async with AsyncClient(config=cluster.client_config(), timeout=120) as client:
        for name in (NAMESPACE, BASELINE_NAMESPACE):
            ns: Any = kinds.by_resource("namespaces").new()
            ns.metadata.name = name
            await client.namespaces().create(ns)
        nodes = sorted(n.metadata.name for n in (await client.nodes().list()).items)
        watch = PodWatch(client, NAMESPACE)
        await watch.start()
        backlog = [f"p-{i:05}" for i in range(args.backlog)]
        create_rate = await create_all(client, backlog, NAMESPACE)
        table.row(f"{args.backlog:,} pending pods created (64 in flight)", f"{create_rate:,.0f}/s")

        started = time.perf_counter()
        procs = pids(cluster)
        busy0 = {name: cpu_seconds(pid) for name, pid in procs.items()}
        sched, metrics = await asyncio.to_thread(start_scheduler, cluster)
        try:
            cpu0 = cpu_seconds(sched.pid)
            last = await watch.wait("bound", args.backlog, timeout=600)
            # Until every backlog pod runs: the kubelets' part of each pod too.
            await watch.wait("running", args.backlog, timeout=600)
            busy = {name: cpu_seconds(pid) - busy0[name] for name, pid in procs.items()}
            busy["scheduler"] = cpu_seconds(sched.pid) - cpu0
            first = min(watch.times.bound.values())
            table.row(
                "backlog: pods bound per second, first bind to last",
                f"**{args.backlog / (last - first):,.0f}/s** ({last - first:.1f} s)",
            )
            table.row(
                "backlog: from the scheduler's start (its start and first list included)",
                f"{args.backlog / (last - started):,.0f}/s ({last - started:.1f} s)",
            )
            per_pod = {name: c / args.backlog for name, c in busy.items() if c > 0}
            total_cpu = sum(per_pod.values())
            table.row(
                "backlog: CPU per pod, bound and started, by process",
                ", ".join(f"{n} {ms(c)}" for n, c in sorted(per_pod.items(), key=lambda x: -x[1]))
                + f"; total {ms(total_cpu)}: 2 cores allow {2 / total_cpu:,.0f} pods/s",
            )
            steady = [f"s-{i:05}" for i in range(args.steady)]
            achieved, failures = await create_paced(client, steady, args.rate, watch)
            made = args.steady - len(failures)
            await watch.wait("bound", args.backlog + made, timeout=600)
            keys = [k for k in (f"{NAMESPACE}/{n}" for n in steady) if k in watch.times.created]
            if failures:
                table.row(
                    "steady: creates that failed",
                    f"{len(failures)} of {args.steady:,} ({', '.join(sorted(set(failures)))})",
                )
            lat = [watch.times.bound[k] - watch.times.created[k] for k in keys]
            table.row(
                f"steady: {args.steady:,} pods at {args.rate:.0f}/s ({achieved:.0f}/s achieved): "
                "creation → seen bound",
                f"p50 {ms(pct(lat, 50))}, p99 {ms(pct(lat, 99))}, max {ms(max(lat))}",
            )
            cpu = cpu_seconds(sched.pid) - cpu0
            total, attempts = await asyncio.to_thread(attempt_seconds, metrics)
        finally:
            sched.stop()
        scored = num_feasible_nodes_to_find(len(nodes))
        bound = args.backlog + made
        table.row(
            "scheduler: nodes looked at per pod (adaptive percentageOfNodesToScore)",
            f"{scored:,} of {len(nodes):,}",
        )
        table.row(
            "scheduler: filter + score per pod (mean, its metrics)",
            f"{ms(total / max(attempts, 1))} over {attempts:,} pods",
        )
        table.row("scheduler: CPU per pod bound", ms(cpu / bound))
        spread = watch.times.per_node.values()
        table.row("pods per node (min-max)", f"{min(spread)}-{max(spread)} on {len(spread)} nodes")
        binds, failed = await direct_binds(client, args.baseline, nodes)
        table.row(
            f"baseline: {args.baseline:,} binds straight through the API (64 in flight, "
            "no scheduling)",
            f"{binds:,.0f}/s" + (f" ({failed} failed)" if failed else ""),
        )
        await watch.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--backlog", type=int, default=10000)
    p.add_argument("--steady", type=int, default=5000)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--baseline", type=int, default=5000, help="direct binds of the baseline")
    p.add_argument("--in-process", type=int, default=2000, help="in-process decisions timed")
    p.add_argument("--smoke", action="store_true", help="a few seconds' run (CI)")
    args = p.parse_args()
    if args.smoke:
        args.nodes, args.backlog, args.steady, args.baseline = 20, 200, 100, 100
        args.in_process = 50
    t = time.monotonic()
    table = Table()
    with hollow_cluster(args.nodes, schedulers=0) as cluster:
        table.row(
            f"{args.nodes:,} hollow nodes Ready (cluster start included)",
            f"{time.monotonic() - t:.1f} s",
        )
        asyncio.run(measure(cluster, args, table))
    # With the cluster stopped, so nothing else uses the CPU.
    for count in (args.nodes, 5000):
        rate, looked = decisions_per_second(count, args.in_process)
        table.row(
            f"in-process: scheduling decisions over {count:,} nodes ({looked:,} looked at), "
            "no API (Kubernetes' scheduler_perf: >= 680/s at 5,000 nodes)",
            f"{rate:,.0f}/s",
        )


if __name__ == "__main__":
    main()
