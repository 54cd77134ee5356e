"""Pod startup benchmark on real kubelets, plus cluster start time and idle memory.

    python benchmarks/pod_startup.py [--pods 300] [--rate 20] [--nodes 3]

1. ``pinnace up``-style local cluster (etcd, apiserver, scheduler, N kubelets
   running real processes): time from start until every node is Ready.
2. Idle RSS of each component process.
3. Pod startup latency as Kubernetes' SLI defines it: from the pod's
   creation until it is observed Running (all containers started) through a
   watch. --pods ``sleep`` pods are created at --rate pods/s (the
   clusterloader2 density rate is 20/s); p50/p90/p99 are printed. The
   baseline in the same run is the time to spawn the same ``sleep`` process
   directly (what a pod costs without any of Pinnace).

Prints a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.loadgen import record_running
from pinnace.api.core.v1 import pod_pb2
from pinnace.client import AsyncClient, Client
from pinnace.client.config import ClientConfig
from pinnace.localcluster.cluster import ClusterConfig, LocalCluster
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import codec

NAMESPACE = "default"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sleep_pod(name: str) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": name, "labels": {"bench": "startup"}},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "sleep",
                        "image": "busybox",
                        "command": ["sleep", "3600"],
                        "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}},
                    }
                ],
            },
        },
    )


def wait_nodes_ready(server: ClientConfig, count: int, timeout: float = 60) -> float:
    start = time.monotonic()
    with Client(config=server, timeout=5) as client:
        while time.monotonic() - start < timeout:
            nodes = client.nodes().list().items
            ready = [
                n
                for n in nodes
                if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)
            ]
            if len(ready) >= count:
                return time.monotonic() - start
            time.sleep(0.05)
    raise TimeoutError(f"{count} nodes not Ready after {timeout}s")


async def startup_latencies(server: ClientConfig, total: int, rate: float) -> list[float]:
    """Create pods at rate/s; latency = Running observed - creationTimestamp
    (sub-second: we record our own create time, as the timestamp has
    1-second resolution)."""
    created: dict[str, float] = {}
    running: dict[str, float] = {}
    done = asyncio.Event()
    async with AsyncClient(config=server, timeout=30) as client:
        pods = client.pods(NAMESPACE)
        rv = (await pods.list()).resource_version

        async def watch() -> None:
            await record_running(pods, rv, "bench=startup", running, total, done)

        watcher = asyncio.create_task(watch())
        start = time.monotonic()
        for i in range(total):
            name = f"startup-{i}"
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            created[name] = time.time()
            asyncio.get_running_loop().create_task(pods.create(sleep_pod(name)))
        try:
            await asyncio.wait_for(done.wait(), 120)
        finally:
            watcher.cancel()
        await pods.delete_collection(label_selector="bench=startup", grace_period_seconds=0)
    return [running[n] - created[n] for n in created if n in running]


def spawn_baseline(count: int = 50) -> list[float]:
    out = []
    for _ in range(count):
        t = time.perf_counter()
        p = subprocess.Popen(["sleep", "3600"], start_new_session=True)
        out.append(time.perf_counter() - t)
        p.kill()
        p.wait()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=300)
    p.add_argument("--rate", type=float, default=20.0)
    p.add_argument("--nodes", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="pinnace-startup-") as tmp:
        port = free_port()
        cluster = LocalCluster(ClusterConfig(data_dir=Path(tmp), nodes=args.nodes, port=port))
        t0 = time.monotonic()
        cluster.start()  # returns once every component serves and every node is Ready
        nodes_ready = time.monotonic() - t0
        wait_nodes_ready(cluster.client_config(), args.nodes)
        try:
            time.sleep(2)  # idle
            rss = {c.name: rss_mb(c.pid) for c in cluster.components}
            rss["etcd"] = rss_mb(cluster.etcd.pid if cluster.etcd else None)
            latencies = asyncio.run(
                startup_latencies(cluster.client_config(), args.pods, args.rate)
            )
        finally:
            cluster.stop()
    base = spawn_baseline()
    control = sum(v for k, v in rss.items() if not k.startswith("kubelet") and k != "etcd")
    kubelets = [v for k, v in rss.items() if k.startswith("kubelet")]
    print()
    print("| measurement | figure | target |")
    print("|---|---|---|")
    print(
        f"| `pinnace up --nodes {args.nodes}` to every component serving and every node Ready | {nodes_ready:.1f} s | <= 5 s |"
    )
    print(
        f"| pod startup, {len(latencies)} of {args.pods} pods at {args.rate:g}/s on {args.nodes} kubelets |"
        f" p50 {pct(latencies, 0.5) * 1e3:.0f} ms, p90 {pct(latencies, 0.9) * 1e3:.0f} ms, p99 {pct(latencies, 0.99) * 1e3:.0f} ms"
        f" | p99 <= 1 s |"
    )
    print(
        f"| baseline: spawning `sleep` directly | p50 {pct(base, 0.5) * 1e3:.1f} ms, p99 {pct(base, 0.99) * 1e3:.1f} ms | |"
    )
    print(
        f"| idle RSS, control plane (apiserver + scheduler + controller-manager) | {control:.0f} MB | <= 250 MB |"
    )
    print(
        f"| idle RSS, one kubelet | max {max(kubelets, default=float('nan')):.0f} MB | <= 60 MB |"
    )
    print(f"| idle RSS, etcd | {rss['etcd']:.0f} MB | |")
    print(f"\nper component: {', '.join(f'{k} {v:.0f} MB' for k, v in sorted(rss.items()))}")
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
