"""Deployment rollout benchmark on a local cluster.

    python benchmarks/rollout.py [--replicas 300] [--nodes 3]
    python benchmarks/rollout.py --replicas 1000 --hollow-nodes 100
    python benchmarks/rollout.py --smoke     # seconds: 30 replicas, 5 hollow nodes (CI)

Starts a cluster (etcd, apiserver, scheduler, controller-manager, --nodes
kubelets running real `sleep` processes, or --hollow-nodes hollow nodes in
one process, kubelet/fleet.py, that run no processes), then measures:

1. the time from creating a --replicas Deployment until all are available;
2. the time for a full rolling update (maxSurge 25%, maxUnavailable 25%)
   until every replica runs the new template and is available;
3. CPU seconds over both phases (``/proc/<pid>/stat``, user + system, so
   other load on the machine does not count): the controller-manager's per
   pod created, the scheduler's per pod bound and the kubelets' (summed) per
   pod started; both phases create, bind and start 2 x --replicas pods.

The baseline in the same run is the time the same number of pods takes when
created directly through the API (no controllers) until all are Running.
Prints a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.client import AsyncClient
from pinnace.client.config import ClientConfig
from pinnace.localcluster.cluster import HOLLOW_COMPONENT, ClusterConfig, LocalCluster
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import codec

NAMESPACE = "default"
CONTAINER = {
    "name": "sleep",
    "image": "busybox",
    "command": ["sleep", "3600"],
    "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}},
}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def deployment(replicas: int) -> deployment_pb2.Deployment:
    return codec.from_dict(
        deployment_pb2.Deployment,
        {
            "metadata": {"name": "bench"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "bench"}},
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "bench"}},
                    "spec": {"terminationGracePeriodSeconds": 1, "containers": [CONTAINER]},
                },
            },
        },
    )


async def wait_rolled_out(
    client: AsyncClient, replicas: int, generation: int, timeout: float = 600
) -> None:
    deployments = client.deployments(NAMESPACE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = await deployments.get("bench")
        st = d.status
        if (
            st.observed_generation >= generation
            and st.updated_replicas == replicas
            and st.available_replicas == replicas
            and st.replicas == replicas
        ):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the rollout did not finish")


async def baseline(client: AsyncClient, count: int) -> float:
    """Create `count` bare pods at 64 in flight; time until all are Running."""
    pods = client.pods(NAMESPACE)
    start = time.monotonic()
    names = iter(range(count))

    async def worker() -> None:
        for i in names:
            pod = codec.from_dict(
                pod_pb2.Pod,
                {
                    "metadata": {"name": f"base-{i}", "labels": {"bench": "base"}},
                    "spec": {"terminationGracePeriodSeconds": 1, "containers": [CONTAINER]},
                },
            )
            await pods.create(pod)

    await asyncio.gather(*(worker() for _ in range(64)))
    while True:
        items = (await pods.list(label_selector="bench=base")).items
        if sum(1 for p in items if p.status.phase == "Running") == count:
            break
        await asyncio.sleep(0.1)
    elapsed = time.monotonic() - start
    await pods.delete_collection(label_selector="bench=base", grace_period_seconds=0)
    for _ in range(600):  # at most a minute for the pods to go
        if not (await pods.list(label_selector="bench=base")).items:
            break
        await asyncio.sleep(0.1)
    return elapsed


async def run(server: ClientConfig, replicas: int, pids: dict[str, list[int]]) -> dict[str, float]:
    """The figures; ``pids``: the processes of each component measured
    (controller-manager, scheduler, kubelets)."""
    async with AsyncClient(config=server, timeout=60) as client:
        base = await baseline(client, replicas)
        cpu0 = {name: cpu_seconds(p) for name, p in pids.items()}
        t0 = time.monotonic()
        made = await client.deployments(NAMESPACE).create(deployment(replicas))
        await wait_rolled_out(client, replicas, made.metadata.generation)
        create = time.monotonic() - t0
        t1 = time.monotonic()
        d = await client.deployments(NAMESPACE).get("bench")
        d.spec.template.spec.containers[0].env.add(name="VERSION", value="2")
        updated = await client.deployments(NAMESPACE).update(d)
        await wait_rolled_out(client, replicas, updated.metadata.generation)
        update = time.monotonic() - t1
        cpu = {name: cpu_seconds(p) - cpu0[name] for name, p in pids.items()}
    return {
        "baseline": base,
        "create": create,
        "update": update,
        **{f"{name}_cpu_per_pod": c / (2 * replicas) for name, c in cpu.items()},
    }


def component_pids(cluster: LocalCluster) -> dict[str, list[int]]:
    """The process ids of the components measured, by kind."""
    pids: dict[str, list[int]] = {"controller-manager": [], "scheduler": [], "kubelet": []}
    for comp in cluster.components:
        hollow = comp.name == HOLLOW_COMPONENT
        kind = "kubelet" if comp.name.startswith("kubelet") or hollow else comp.name
        if kind in pids and comp.pid is not None:
            pids[kind].append(comp.pid)
    return pids


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=300)
    p.add_argument("--nodes", type=int, default=None, help="real kubelets (default 3, or 0)")
    p.add_argument(
        "--hollow-nodes", type=int, default=0, help="hollow nodes, in one process (scale test)"
    )
    p.add_argument("--smoke", action="store_true", help="a few seconds' run (CI)")
    args = p.parse_args()
    if args.smoke:
        args.replicas, args.hollow_nodes = 30, 5
    if args.nodes is None:
        args.nodes = 0 if args.hollow_nodes else 3
    kubelet_flags = ["--lease-period", "2", "--node-status-period", "2", "--max-pods", "500"]
    with tempfile.TemporaryDirectory(prefix="pinnace-rollout-") as tmp:
        cluster = LocalCluster(
            ClusterConfig(
                data_dir=Path(tmp),
                nodes=args.nodes,
                hollow_nodes=args.hollow_nodes,
                port=free_port(),
                extra_component_flags={
                    "kubelet": kubelet_flags,
                    HOLLOW_COMPONENT: [*kubelet_flags, "--log-level", "warning"],
                },
            )
        )
        cluster.start(timeout=300)
        try:
            figures = asyncio.run(
                run(cluster.client_config(), args.replicas, component_pids(cluster))
            )
        finally:
            cluster.stop()
    kind = (
        f"{args.hollow_nodes} hollow nodes in one process"
        if args.hollow_nodes
        else f"{args.nodes} kubelets running `sleep`"
    )
    print()
    print("| measurement | figure |")
    print("|---|---|")
    print(
        f"| baseline: {args.replicas} bare pods created through the API until all Running ({kind}) | {figures['baseline']:.1f} s |"
    )
    print(
        f"| Deployment of {args.replicas} replicas until all available | {figures['create']:.1f} s |"
    )
    print(
        f"| rolling update (maxSurge 25%, maxUnavailable 25%) until all new replicas available | {figures['update']:.1f} s |"
    )
    ms = {k: v * 1e3 for k, v in figures.items() if k.endswith("_cpu_per_pod")}
    print(
        f"| controller-manager CPU per pod created | {ms['controller-manager_cpu_per_pod']:.2f} ms |"
    )
    print(f"| scheduler CPU per pod bound | {ms['scheduler_cpu_per_pod']:.2f} ms |")
    print(
        f"| kubelet CPU per pod started (summed over the kubelet processes) | {ms['kubelet_cpu_per_pod']:.2f} ms |"
    )
    print(f"\nmachine: {os.cpu_count()} cores; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
