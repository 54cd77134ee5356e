"""What the API benchmarks share: the pod they write, the asyncio load
generator, the raw etcd baseline and a few process probes (api.py, rest.py)."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from apiserver.etcd.client import EtcdClient
from apiserver.etcd.requests import cmp_create_revision, op_put
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec

NAMESPACE = "default"
LEVELS = (1, 16, 64)

# A level's results: (operations per second, latencies in seconds).
Results = dict[int, tuple[float, list[float]]]


def make_pod(name: str, namespace: str = NAMESPACE) -> pod_pb2.Pod:
    """A realistic pod of about 1.5 KB serialized."""
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {"app": "bench", "tier": "backend", "pod-template-hash": "5d8f7c6b9"},
                "annotations": {"bench.pinnace.dev/note": "x" * 900},
            },
            "spec": {
                "containers": [
                    {
                        "name": "server",
                        "image": "registry.example.com/bench/server:1.2.3",
                        "command": ["sh", "-c", "exec sleep 3600"],
                        "env": [
                            {"name": f"VAR_{i}", "value": f"value-{i}-" + "v" * 20}
                            for i in range(8)
                        ],
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "64Mi"},
                            "limits": {"cpu": "500m", "memory": "128Mi"},
                        },
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                    }
                ],
                "nodeSelector": {"kubernetes.io/os": "linux"},
            },
        },
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def level_size(creates: int, in_flight: int) -> int:
    """How many operations a level runs (fewer at 1 in flight)."""
    return creates if in_flight > 1 else max(creates // 4, 200)


async def drive(
    total: int, in_flight: int, op: Callable[[int], Awaitable[object]]
) -> tuple[float, list[float]]:
    """Run op(i) total times with in_flight workers; (ops/s, latencies)."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            t = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return total / (time.perf_counter() - start), latencies


async def bench_etcd(etcd: EtcdClient, creates: int, value: bytes) -> Results:
    """The baseline: compare-and-put transactions of ``value`` at each level."""
    out = {}
    for in_flight in LEVELS:
        prefix = f"/bench/raw/{in_flight}/"

        async def op(i: int, prefix: str = prefix) -> None:
            key = f"{prefix}{i}".encode()
            result = await etcd.txn([cmp_create_revision(key, "=", 0)], [op_put(key, value)], [])
            assert result.succeeded

        out[in_flight] = await drive(level_size(creates, in_flight), in_flight, op)
    return out


def etcd_watchers(url: str) -> float:
    """etcd's own count of open watchers (its /metrics)."""
    text = urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()
    m = re.search(r"^etcd_debugging_mvcc_watcher_total (\S+)$", text, re.M)
    return float(m.group(1)) if m else float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rate_cell(rate: float, latencies: list[float]) -> str:
    """'1,234/s (p50 1.0 ms, p99 2.0 ms)'"""
    return (
        f"{rate:,.0f}/s (p50 {pct(latencies, 0.5) * 1e3:.1f} ms,"
        f" p99 {pct(latencies, 0.99) * 1e3:.1f} ms)"
    )


async def record_running(
    pods: Any,
    resource_version: str,
    selector: str,
    running: dict[str, float],
    total: int,
    done: asyncio.Event,
) -> None:
    """Watch ``pods`` (an async pods handle) from ``resource_version`` and
    note when each pod of ``selector`` first runs (every container running);
    set ``done`` once ``total`` have."""
    async for ev in pods.watch(resource_version=resource_version, label_selector=selector):
        obj = ev.object
        if obj is None or obj.metadata.name in running:
            continue
        statuses = obj.status.container_statuses
        if (
            obj.status.phase == "Running"
            and statuses
            and all(s.state.HasField("running") for s in statuses)
        ):
            running[obj.metadata.name] = time.time()
            if len(running) == total:
                done.set()
                return
