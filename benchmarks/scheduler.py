"""Scheduler throughput: pods bound per second by a real scheduler process.

    python benchmarks/scheduler.py [--pods 1000] [--nodes 100] [--in-flight 32]

Starts its own etcd, apiserver and scheduler (with leader election, as
deployed) on free loopback ports with temporary data, creates --nodes fake
Node objects (Ready, 32 cores / 128Gi / 110 pods, no kubelets), then
creates --pods pods (100m / 128Mi requests, --in-flight creates at a time)
and watches them. Throughput is pods / (time the last pod was seen bound via
the watch - time the first create was sent), Kubernetes'
SchedulingThroughput measured end to end, create rate included; the create
rate alone is printed too, since it caps the figure.

A second run measures the scheduler alone: the pods are created first
(no scheduler running), then the scheduler starts; throughput is pods /
(last pod seen bound - first pod seen bound), both via the watch.

Prints Markdown table rows for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.client import AsyncClient
from pinnace.localcluster import process
from pinnace.localcluster.etcd import EtcdServer, free_port
from pinnace.machinery import codec, kinds

NAMESPACE = "bench"
BACKLOG_NAMESPACE = "bench-backlog"


def make_node(i: int) -> Any:
    capacity = {"cpu": "32", "memory": "128Gi", "pods": "110"}
    return codec.from_dict(
        node_pb2.Node,
        {
            "metadata": {
                "name": f"node-{i:03}",
                "labels": {"kubernetes.io/hostname": f"node-{i:03}"},
            },
            "status": {
                "capacity": capacity,
                "allocatable": capacity,
                "conditions": [{"type": "Ready", "status": "True", "reason": "Bench"}],
            },
        },
    )


def make_pod(i: int, namespace: str = NAMESPACE) -> Any:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": f"p-{i:05}", "namespace": namespace, "labels": {"app": "bench"}},
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox",
                        "command": ["sleep", "3600"],
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                    }
                ]
            },
        },
    )


async def create_nodes(client: AsyncClient, count: int) -> None:
    nodes = client.nodes()

    async def one(i: int) -> None:
        node = make_node(i)
        created = await nodes.create(node)
        if not created.status.allocatable:
            created.status.CopyFrom(node.status)
            await nodes.update_status(created)

    await asyncio.gather(*(one(i) for i in range(count)))


class BindWatch:
    """Records when each pod of the namespace is first seen bound."""

    def __init__(self, client: AsyncClient, expected: int, namespace: str = NAMESPACE) -> None:
        self.api = client.pods(namespace)
        self.expected = expected
        self.bound_at: dict[str, float] = {}
        self.per_node: collections.Counter[str] = collections.Counter()
        self.done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        listed = await self.api.list()
        self._task = asyncio.create_task(self._watch(listed.resource_version))
        await asyncio.sleep(0.2)  # let the watch open

    async def _watch(self, rv: str) -> None:
        async for ev in self.api.watch(resource_version=rv):
            obj = ev.object
            if obj is None or not obj.spec.node_name or obj.metadata.name in self.bound_at:
                continue
            self.bound_at[obj.metadata.name] = time.perf_counter()
            self.per_node[obj.spec.node_name] += 1
            if len(self.bound_at) == self.expected:
                self.done.set()
                return

    async def wait(self) -> float:
        """The time the last pod was seen bound."""
        await asyncio.wait_for(self.done.wait(), timeout=300)
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        return max(self.bound_at.values())

    def spread(self) -> str:
        counts = self.per_node.values()
        return f"{min(counts)}-{max(counts)} on {len(self.per_node)} nodes"


async def create_pods(
    client: AsyncClient, pods: int, in_flight: int, namespace: str = NAMESPACE
) -> None:
    api = client.pods(namespace)
    slots = asyncio.Semaphore(in_flight)

    async def create(i: int) -> None:
        async with slots:
            await api.create(make_pod(i, namespace))

    await asyncio.gather(*(create(i) for i in range(pods)))


def start_scheduler(base: Path, server: str, name: str) -> tuple[process.Component, str]:
    health = f"127.0.0.1:{free_port()}"
    sched = process.Component(
        name,
        "scheduler.main",
        [
            "--apiserver",
            server,
            "--health-listen",
            health,
            "--leader-elect-resource-name",
            name,
            "--log-level",
            "warning",
        ],
        log_file=base / f"{name}.log",
    )
    sched.start()
    return sched, health


async def streaming(client: AsyncClient, base: Path, server: str, args: argparse.Namespace) -> str:
    """Scheduler running; pods created while it schedules."""
    sched, health = start_scheduler(base, server, "scheduler-streaming")
    try:
        await asyncio.to_thread(sched.wait_serving, health, 30)
        watch = BindWatch(client, args.pods)
        await watch.start()
        start = time.perf_counter()
        await create_pods(client, args.pods, args.in_flight)
        created = time.perf_counter()
        end = await watch.wait()
    finally:
        sched.stop()
    total = end - start
    return (
        f"| streaming | {args.pods} | {args.nodes} | {args.pods / (created - start):.0f} | "
        f"**{args.pods / total:.0f}** ({total:.2f} s, first create to last bound) | {watch.spread()} |"
    )


async def backlog(client: AsyncClient, base: Path, server: str, args: argparse.Namespace) -> str:
    """Pods created first; then the scheduler starts and works the backlog."""
    watch = BindWatch(client, args.pods, BACKLOG_NAMESPACE)
    await watch.start()
    await create_pods(client, args.pods, args.in_flight, BACKLOG_NAMESPACE)
    sched, health = start_scheduler(base, server, "scheduler-backlog")
    try:
        await asyncio.to_thread(sched.wait_serving, health, 30)
        end = await watch.wait()
    finally:
        sched.stop()
    total = end - min(watch.bound_at.values())
    return (
        f"| backlog | {args.pods} | {args.nodes} | - | "
        f"**{args.pods / total:.0f}** ({total:.2f} s, first to last bound) | {watch.spread()} |"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="pinnace-bench-sched-") as tmp:
        base = Path(tmp)
        etcd = EtcdServer(base / "etcd", log_file=base / "etcd.log")
        etcd.start()
        etcd.wait_ready(30)
        port = free_port()
        server = f"127.0.0.1:{port}"
        api = process.apiserver(
            etcd.endpoint, port, base / "apiserver.log", "--log-level", "warning", anonymous=True
        )
        try:
            api.start()
            api.wait_serving(server, 30)
            async with AsyncClient(server, timeout=30) as client:
                for name in (NAMESPACE, BACKLOG_NAMESPACE):
                    ns: Any = kinds.by_resource("namespaces").new()
                    ns.metadata.name = name
                    await client.namespaces().create(ns)
                await create_nodes(client, args.nodes)
                rows = [await streaming(client, base, server, args)]
                rows.append(await backlog(client, base, server, args))
        finally:
            api.stop()
            etcd.stop()
    print(
        "| mode | pods | nodes | create rate (pods/s) | scheduling throughput (pods/s) | pods per node (min-max) |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=1000)
    p.add_argument("--nodes", type=int, default=100)
    p.add_argument("--in-flight", type=int, default=32)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
