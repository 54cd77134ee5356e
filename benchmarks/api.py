"""API benchmark: apiserver creates, lists and watch fan-out against raw etcd.

    python benchmarks/api.py [--pods 10000] [--creates 3000] [--watchers 100] [--updates 1000]

Starts its own etcd and apiserver on free loopback ports (temporary data),
then measures, in one run and with the same asyncio load generator:

1. raw etcd: compare-and-put transactions of ~1.5 KB values at 1, 16 and 64
   requests in flight (the baseline);
2. the apiserver: creates of ~1.5 KB pods at 1, 16 and 64 in flight, with
   p50/p99 latency, and the ratio to raw etcd;
3. a LIST of --pods pods from the watch cache (consistent and rv=0);
4. watch fan-out: --watchers watches on one namespace while --updates pod
   updates are made at 200/s; p50/p99 delivery latency from the moment the
   update request is sent until each watcher has decoded the event (so it
   includes the update's own round trip), and etcd's own count of watchers
   before and while the client watches are open;
5. the apiserver's RSS with --pods pods cached.

Prints a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apiserver.etcd.client import EtcdClient
from benchmarks.loadgen import (
    NAMESPACE,
    bench_etcd,
    drive,
    etcd_watchers,
    level_size,
    make_pod,
    pct,
    rss_mb,
)
from pinnace.client import AsyncClient
from pinnace.localcluster import process
from pinnace.localcluster.etcd import EtcdServer, free_port
from pinnace.machinery import codec


async def bench_creates(client: AsyncClient, creates: int) -> dict[int, tuple[float, list[float]]]:
    out = {}
    pods = client.pods(NAMESPACE)
    for in_flight in (1, 16, 64):
        n = level_size(creates, in_flight)
        templates = [make_pod(f"c{in_flight}-{i}") for i in range(n)]

        async def op(i: int, templates: list = templates) -> None:
            await pods.create(templates[i])

        out[in_flight] = await drive(n, in_flight, op)
    return out


async def fill(client: AsyncClient, total: int) -> None:
    existing = len((await client.pods(NAMESPACE).list(resource_version="0")).items)
    pods = client.pods(NAMESPACE)

    async def op(i: int) -> None:
        await pods.create(make_pod(f"fill-{i}"))

    if total > existing:
        await drive(total - existing, 64, op)


async def bench_list(client: AsyncClient, rounds: int = 5) -> tuple[int, float, float]:
    pods = client.pods(NAMESPACE)
    count = 0
    consistent, cached = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        result = await pods.list()
        consistent.append(time.perf_counter() - t)
        count = len(result.items)
        t = time.perf_counter()
        await pods.list(resource_version="0")
        cached.append(time.perf_counter() - t)
    return count, statistics.median(consistent), statistics.median(cached)


async def bench_watch(server: str, watchers: int, updates: int, etcd_url: str) -> dict:
    ns = "watchbench"
    async with AsyncClient(server) as setup:
        nsobj = codec.from_dict(
            __import__("pinnace.api.core.v1.namespace_pb2", fromlist=["x"]).Namespace,
            {"metadata": {"name": ns}},
        )
        await setup.namespaces().create(nsobj)
        pod = make_pod("target")
        pod.metadata.namespace = ns
        created = await setup.pods(ns).create(pod)
    before = etcd_watchers(etcd_url)
    # Several channels, as many client processes would open.
    clients = [AsyncClient(server) for _ in range(4)]
    sent: dict[str, float] = {}
    received: list[float] = []
    done_count = 0
    done = asyncio.Event()

    async def watch(i: int) -> None:
        nonlocal done_count
        handle = clients[i % len(clients)].pods(ns)
        seen = 0
        async for ev in handle.watch(
            resource_version=created.metadata.resource_version, allow_bookmarks=False
        ):
            now = time.perf_counter()
            seq = ev.object.metadata.annotations.get("seq") if ev.object else None
            if seq is not None:
                received.append(now - sent[seq])
                seen += 1
                if seen == updates:
                    done_count += 1
                    if done_count == watchers:
                        done.set()
                    return

    tasks = [asyncio.create_task(watch(i)) for i in range(watchers)]
    await asyncio.sleep(1.0)  # let every watch stream open before measuring
    during = etcd_watchers(etcd_url)
    async with AsyncClient(server) as writer:
        pods = writer.pods(ns)
        start = time.perf_counter()
        for i in range(updates):
            sent[str(i)] = time.perf_counter()
            await pods.patch("target", {"metadata": {"annotations": {"seq": str(i)}}})
            # ~200 updates/s: a steady stream rather than one burst
            await asyncio.sleep(max(0.0, start + (i + 1) / 200 - time.perf_counter()))
    try:
        await asyncio.wait_for(done.wait(), 120)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in clients:
            await c.close()
    return {
        "events": len(received),
        "p50": pct(received, 0.50),
        "p99": pct(received, 0.99),
        "etcd_watchers_before": before,
        "etcd_watchers_during": during,
    }


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="pinnace-bench-") as tmp:
        etcd = EtcdServer(
            Path(tmp) / "etcd", log_file=Path(tmp) / "etcd.log", quota_backend_bytes=8 * 1024**3
        )
        etcd.start()
        etcd.wait_ready(15)
        port = free_port()
        api = process.apiserver(
            etcd.endpoint,
            port,
            Path(tmp) / "apiserver.log",
            "--log-level",
            "warning",
            anonymous=True,
        )
        api.start()
        server = f"127.0.0.1:{port}"
        try:
            api.wait_serving(server, 30)
            value = make_pod("x").SerializeToString()
            print(
                f"pod object: {len(value)} bytes serialized; etcd {etcd.binary.path if etcd.binary else '?'}"
            )
            async with EtcdClient([etcd.endpoint]) as raw:
                etcd_results = await bench_etcd(raw, args.creates, value)
            async with AsyncClient(server, timeout=60) as client:
                api_results = await bench_creates(client, args.creates)
                await fill(client, args.pods)
                count, list_consistent, list_cached = await bench_list(client)
                rss = rss_mb(api.pid) if api.pid else float("nan")
            watch = await bench_watch(server, args.watchers, args.updates, etcd.client_url)
        finally:
            api.stop()
            etcd.stop()

    rows = []
    for n in (1, 16, 64):
        e_rate, e_lat = etcd_results[n]
        a_rate, a_lat = api_results[n]
        rows.append(
            f"| creates, {n} in flight | {a_rate:,.0f}/s (p50 {pct(a_lat, 0.5) * 1e3:.1f} ms, p99 {pct(a_lat, 0.99) * 1e3:.1f} ms)"
            f" | {e_rate:,.0f}/s (p50 {pct(e_lat, 0.5) * 1e3:.1f} ms, p99 {pct(e_lat, 0.99) * 1e3:.1f} ms) | {a_rate / e_rate:.0%} |"
        )
    print()
    print("| measurement | apiserver | raw etcd txn | apiserver / etcd |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"| LIST {count:,} pods (consistent / rv=0) | {list_consistent * 1e3:.0f} ms / {list_cached * 1e3:.0f} ms | | |"
    )
    print(
        f"| watch fan-out: {args.watchers} watchers x {args.updates} updates | p50 {watch['p50'] * 1e3:.1f} ms,"
        f" p99 {watch['p99'] * 1e3:.1f} ms ({watch['events']:,} events) | etcd watchers: {watch['etcd_watchers_before']:.0f}"
        f" before, {watch['etcd_watchers_during']:.0f} with {args.watchers} client watches | |"
    )
    print(f"| apiserver RSS with {count:,} pods cached | {rss:.0f} MB | | |")
    print(f"\nmachine: {os.cpu_count()} cores; python {sys.version.split()[0]}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--creates", type=int, default=3_000)
    p.add_argument("--watchers", type=int, default=100)
    p.add_argument("--updates", type=int, default=1_000)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
