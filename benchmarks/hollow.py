"""What the scale benchmarks share (scheduler.py, density.py): a local
cluster of real control-plane processes over hollow nodes (one
``pinnace-kubelet --nodes N`` process, kubelet/fleet.py), pod watches that
time each pod's binding and start, and process probes.

The cluster's pod range is a /14 (1,024 /24s, one per node up to 1,024
nodes) so node IPAM does not run out at 1,000 nodes; like every Pinnace
range it gets a blackhole route in the host, and nothing is sent to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pinnace.api.core.v1 import pod_pb2
from pinnace.client import AsyncClient
from pinnace.localcluster.cluster import HOLLOW_COMPONENT, ClusterConfig, LocalCluster
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import codec

CLUSTER_CIDR = "10.160.0.0/14"
SERVICE_CIDR = "10.164.0.0/16"
# Every hollow node: room for the benchmarks' pods (they request 10m / 10Mi).
HOLLOW_FLAGS = ["--capacity-cpu", "32", "--capacity-memory", "128Gi", "--max-pods", "110"]


class Table:
    """A Markdown table of (measurement, figure) rows, each printed as it is
    measured: a run that fails later keeps what it measured."""

    def __init__(self) -> None:
        print("| measurement | figure |")
        print("|---|---|", flush=True)

    def row(self, what: str, figure: str) -> None:
        print(f"| {what} | {figure} |", flush=True)


def cpu_seconds(pid: int | None) -> float:
    """A process's user + system CPU time so far (0 if it is gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


@contextlib.contextmanager
def hollow_cluster(
    nodes: int,
    *,
    schedulers: int = 1,
    flags: dict[str, list[str]] | None = None,
    timeout: float = 60,
) -> Iterator[LocalCluster]:
    """A local cluster (etcd, apiserver, controller-manager, ``schedulers``
    schedulers, the proxy when root) over ``nodes`` hollow nodes and no real
    kubelet; stopped afterwards. ``flags``: extra flags per component."""
    extra = {k: list(v) for k, v in (flags or {}).items()}
    extra.setdefault(HOLLOW_COMPONENT, []).extend([*HOLLOW_FLAGS, "--log-level", "warning"])
    with tempfile.TemporaryDirectory(prefix="pinnace-bench-hollow-") as tmp:
        cluster = LocalCluster(
            ClusterConfig(
                data_dir=Path(tmp),
                nodes=0,
                hollow_nodes=nodes,
                schedulers=schedulers,
                port=free_port(),
                cluster_cidr=CLUSTER_CIDR,
                service_cidr=SERVICE_CIDR,
                extra_component_flags=extra,
            )
        )
        try:
            cluster.start(timeout=timeout)
            yield cluster
        except BaseException:
            kept = Path(tempfile.mkdtemp(prefix="pinnace-bench-logs-"))
            shutil.copytree(Path(tmp) / "logs", kept / "logs", dirs_exist_ok=True)
            print(f"failed; the components' logs are kept in {kept / 'logs'}", file=sys.stderr)
            raise
        finally:
            cluster.stop()


def pids(cluster: LocalCluster) -> dict[str, int | None]:
    """Each component's pid by name (etcd included)."""
    out: dict[str, int | None] = {c.name: c.pid for c in cluster.components}
    for i, member in enumerate(cluster.etcd_members):
        out[f"etcd-{i}" if i else "etcd"] = member.pid
    return out


def bench_pod(name: str, namespace: str, *, scheduler: str = "", labels: dict | None = None) -> Any:
    """A small pod (10m / 10Mi requests; hollow nodes run no image)."""
    spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": 1,
        "containers": [
            {
                "name": "main",
                "image": "registry.k8s.io/pause:3.10",
                "resources": {"requests": {"cpu": "10m", "memory": "10Mi"}},
            }
        ],
    }
    if scheduler:
        spec["schedulerName"] = scheduler
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": spec,
        },
    )


@dataclass
class PodTimes:
    """When each pod (``namespace/name``) was created (by the caller, or
    first seen), first seen bound and first seen Running, from one watch."""

    created: dict[str, float] = field(default_factory=dict)
    bound: dict[str, float] = field(default_factory=dict)
    running: dict[str, float] = field(default_factory=dict)
    per_node: dict[str, int] = field(default_factory=dict)

    def bind_latencies(self) -> list[float]:
        return [self.bound[n] - self.created[n] for n in self.bound if n in self.created]

    def startup_latencies(self) -> list[float]:
        return [self.running[n] - self.created[n] for n in self.running if n in self.created]


class PodWatch:
    """Follows the pods of ``namespace`` ("": every namespace; label
    ``selector``) into PodTimes."""

    def __init__(self, client: AsyncClient, namespace: str, selector: str = "") -> None:
        self.api = client.pods(namespace)
        self.selector = selector
        self.times = PodTimes()
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> None:
        listed = await self.api.list(label_selector=self.selector)
        self._task = asyncio.create_task(self._watch(listed.resource_version))

    async def _watch(self, rv: str) -> None:
        t = self.times
        async for ev in self.api.watch(resource_version=rv, label_selector=self.selector):
            pod = ev.object
            if pod is None:
                continue
            name, now = f"{pod.metadata.namespace}/{pod.metadata.name}", time.perf_counter()
            t.created.setdefault(name, now)
            if pod.spec.node_name and name not in t.bound:
                t.bound[name] = now
                t.per_node[pod.spec.node_name] = t.per_node.get(pod.spec.node_name, 0) + 1
            if pod.status.phase == "Running" and name not in t.running:
                t.running[name] = now
            self._changed.set()

    async def wait(self, what: str, count: int, timeout: float) -> float:
        """Until ``count`` pods are ``what`` ("bound" or "running"); the time
        the last of them was seen."""
        seen: dict[str, float] = getattr(self.times, what)
        deadline = time.perf_counter() + timeout
        while len(seen) < count:
            self._changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"only {len(seen)} of {count} pods {what} after {timeout:.0f}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))
        return max(seen.values())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
