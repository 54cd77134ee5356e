"""REST benchmark: the Kubernetes HTTP API against gRPC and raw etcd, same run.

    python benchmarks/rest.py [--pods 10000] [--creates 3000] [--watchers 100] [--updates 1000]

Starts its own etcd and two apiservers on free loopback ports (temporary
data): one serving gRPC and the HTTP API over plain HTTP
(``--rest-plain-http``), one serving the HTTP API over HTTPS with a
certificate from pinnace/machinery/pki.py. Then measures, with the same
asyncio load generator (benchmarks/loadgen.py):

1. creates of ~1.5 KB pods at 1, 16 and 64 in flight, each level in turn
   over raw etcd (compare-and-put transactions, the baseline), gRPC (the
   SDK), HTTP and HTTPS (aiohttp, keep-alive connections, JSON bodies with
   apiVersion and kind as kubectl sends them): creates/s, p50/p99 and the
   apiserver's CPU per create;
2. a LIST of --pods pods (created over HTTP, so each carries managedFields)
   in one namespace over HTTP as JSON (consistent and resourceVersion=0) and
   as a meta.k8s.io/v1 Table (what ``kubectl get`` asks for), and over gRPC:
   time until the whole body is received, and until it is also decoded;
3. watch fan-out: --watchers HTTP watches (``?watch=1``) on one namespace
   while --updates merge patches are sent over HTTP at 200/s; p50/p99 from
   sending the patch until each watcher has the event decoded.

Prints a Markdown table with the issue's targets for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apiserver.etcd.client import EtcdClient
from apiserver.etcd.requests import cmp_create_revision, op_put
from benchmarks.loadgen import LEVELS, NAMESPACE, drive, level_size, make_pod, pct, rate_cell
from pinnace.api.core.v1 import namespace_pb2
from pinnace.client import AsyncClient
from pinnace.localcluster import process
from pinnace.localcluster.etcd import EtcdServer, free_port
from pinnace.machinery import codec, pki

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
WATCH_NS = "watchbench"
# Namespaces the creates go to, so the LIST namespace holds exactly --pods pods.
CREATE_NS = {"grpc": "bench-grpc", "http": "bench-http", "https": "bench-https"}


def pod_json(name: str, namespace: str) -> bytes:
    """The pod as kubectl sends it: JSON with apiVersion and kind."""
    body = {"apiVersion": "v1", "kind": "Pod", **codec.to_dict(make_pod(name, namespace))}
    return json.dumps(body).encode()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Rest:
    """An HTTP API endpoint and a keep-alive aiohttp session to it."""

    def __init__(self, base: str, ssl_context: ssl.SSLContext | None = None) -> None:
        self.base = base
        connector = aiohttp.TCPConnector(limit=0, ssl=ssl_context if ssl_context else False)
        self.session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=None)
        )

    def pods_url(self, namespace: str) -> str:
        return f"{self.base}/api/v1/namespaces/{namespace}/pods"

    async def create(self, namespace: str, body: bytes) -> None:
        async with self.session.post(
            self.pods_url(namespace), data=body, headers={"Content-Type": "application/json"}
        ) as resp:
            await resp.read()
            if resp.status != 201:
                raise RuntimeError(f"create: HTTP {resp.status}")

    async def get_bytes(self, url: str, accept: str = "application/json") -> bytes:
        async with self.session.get(url, headers={"Accept": accept}) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {url}: HTTP {resp.status}: {body[:200]!r}")
            return body

    async def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.get_bytes(f"{self.base}/readyz", "*/*")
                return
            except (aiohttp.ClientError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def close(self) -> None:
        await self.session.close()


Op = Callable[[int], Awaitable[object]]


async def bench_creates(
    etcd: EtcdClient,
    grpc: AsyncClient,
    http: Rest,
    https: Rest,
    creates: int,
    pids: dict[str, int],
) -> dict[str, dict[int, tuple[float, list[float], float]]]:
    """Each level over each front door in turn; per door and level:
    (creates/s, latencies, apiserver CPU seconds per create)."""
    value = make_pod("x").SerializeToString()
    out: dict[str, dict[int, tuple[float, list[float], float]]] = {
        k: {} for k in ("etcd", "grpc", "http", "https")
    }
    pods = grpc.pods(CREATE_NS["grpc"])
    for n in LEVELS:
        total = level_size(creates, n)

        async def raw(i: int, n: int = n) -> None:
            key = f"/bench/raw/{n}/{i}".encode()
            result = await etcd.txn([cmp_create_revision(key, "=", 0)], [op_put(key, value)], [])
            assert result.succeeded

        protos = [make_pod(f"c{n}-{i}", CREATE_NS["grpc"]) for i in range(total)]
        bodies = {
            door: [pod_json(f"c{n}-{i}", CREATE_NS[door]) for i in range(total)]
            for door in ("http", "https")
        }

        async def over_grpc(i: int, protos: list[Any] = protos) -> None:
            await pods.create(protos[i])

        def over_rest(rest: Rest, door: str, bodies: dict[str, list[bytes]] = bodies) -> Op:
            return lambda k: rest.create(CREATE_NS[door], bodies[door][k])

        ops: dict[str, Op] = {
            "etcd": raw,
            "grpc": over_grpc,
            "http": over_rest(http, "http"),
            "https": over_rest(https, "https"),
        }
        for door, op in ops.items():
            pid = pids.get(door)
            cpu = cpu_seconds(pid) if pid else 0.0
            rate, lat = await drive(total, n, op)
            per = (cpu_seconds(pid) - cpu) / total if pid else 0.0
            out[door][n] = (rate, lat, per)
    return out


async def fill(http: Rest, grpc: AsyncClient, total: int) -> None:
    """Pods in the LIST namespace up to ``total``, created over HTTP as kubectl
    creates them (so each carries managedFields, as in Kubernetes)."""
    existing = len((await grpc.pods(NAMESPACE).list(resource_version="0")).items)
    bodies = [pod_json(f"fill-{i}", NAMESPACE) for i in range(max(0, total - existing))]
    if bodies:
        await drive(len(bodies), 64, lambda i: http.create(NAMESPACE, bodies[i]))


async def timed(
    rounds: int, fetch: Callable[[], Awaitable[bytes]]
) -> tuple[float, float, int, float]:
    """Median seconds until the body is received, and until it is also
    decoded as JSON; the body's size; seconds until the first body was received."""
    received, decoded = [], []
    size = 0
    for _ in range(rounds):
        t = time.perf_counter()
        body = await fetch()
        received.append(time.perf_counter() - t)
        json.loads(body)
        decoded.append(time.perf_counter() - t)
        size = len(body)
    return statistics.median(received), statistics.median(decoded), size, received[0]


async def bench_list(http: Rest, grpc: AsyncClient, rounds: int = 5) -> dict[str, Any]:
    url = http.pods_url(NAMESPACE)
    out: dict[str, Any] = {
        "json": await timed(rounds, lambda: http.get_bytes(url)),
        "json_rv0": await timed(rounds, lambda: http.get_bytes(f"{url}?resourceVersion=0")),
        "table": await timed(rounds, lambda: http.get_bytes(url, TABLE)),
    }
    count = len(json.loads(await http.get_bytes(url))["items"])
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        await grpc.pods(NAMESPACE).list()
        times.append(time.perf_counter() - t)
    out["grpc"] = statistics.median(times)
    out["count"] = count
    return out


async def bench_watch(http: Rest, grpc: AsyncClient, watchers: int, updates: int) -> dict:
    await grpc.namespaces().create(
        codec.from_dict(namespace_pb2.Namespace, {"metadata": {"name": WATCH_NS}})
    )
    created = await grpc.pods(WATCH_NS).create(make_pod("target", WATCH_NS))
    rv = created.metadata.resource_version
    url = f"{http.pods_url(WATCH_NS)}?watch=1&resourceVersion={rv}"
    sent: dict[str, float] = {}
    received: list[float] = []
    opened = 0
    all_open = asyncio.Event()

    async def watch() -> None:
        nonlocal opened
        seen = 0
        async with http.session.get(url) as resp:
            opened += 1
            if opened == watchers:
                all_open.set()
            async for line in resp.content:
                now = time.perf_counter()
                ev = json.loads(line)
                seq = ev["object"]["metadata"].get("annotations", {}).get("seq")
                if seq is not None:
                    received.append(now - sent[seq])
                    seen += 1
                    if seen == updates:
                        return

    tasks = [asyncio.create_task(watch()) for _ in range(watchers)]
    await asyncio.wait_for(all_open.wait(), 60)
    target = f"{http.pods_url(WATCH_NS)}/target"
    headers = {"Content-Type": "application/merge-patch+json"}
    start = time.perf_counter()
    for i in range(updates):
        patch = json.dumps({"metadata": {"annotations": {"seq": str(i)}}}).encode()
        sent[str(i)] = time.perf_counter()
        async with http.session.patch(target, data=patch, headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"patch: HTTP {resp.status}")
        # ~200 updates/s: a steady stream rather than one burst
        await asyncio.sleep(max(0.0, start + (i + 1) / 200 - time.perf_counter()))
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"events": len(received), "p50": pct(received, 0.50), "p99": pct(received, 0.99)}


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def report(args: argparse.Namespace, creates: dict, lists: dict, watch: dict) -> None:
    print()
    print("| measurement | HTTP (plain) | HTTPS | gRPC | raw etcd txn | HTTP / gRPC | target |")
    print("|---|---|---|---|---|---|---|")
    for n in LEVELS:
        cells = []
        for door in ("http", "https", "grpc"):
            rate, lat, cpu = creates[door][n]
            cells.append(f"{rate_cell(rate, lat)}; {cpu * 1e3:.2f} ms CPU")
        e_rate, e_lat, _ = creates["etcd"][n]
        ratio = creates["http"][n][0] / creates["grpc"][n][0]
        tls_ratio = creates["https"][n][0] / creates["grpc"][n][0]
        print(
            f"| creates, {n} in flight | {' | '.join(cells)} | {rate_cell(e_rate, e_lat)}"
            f" | {ratio:.0%} (HTTPS {tls_ratio:.0%}) | >= 80%: {verdict(ratio >= 0.8)} |"
        )
    count = lists["count"]
    for key, what in (
        ("json", "as JSON, consistent"),
        ("json_rv0", "as JSON, resourceVersion=0"),
        ("table", "as Table"),
    ):
        received, decoded, size, first = lists[key]
        target = f"<= 300 ms: {verdict(received <= 0.3)}" if key == "json" else ""
        # The first JSON list encodes every item; later ones reuse the encodings.
        cold = f"; first {first * 1e3:.0f} ms" if key == "json" else ""
        print(
            f"| LIST {count:,} pods {what} ({size / 1e6:.1f} MB) | {received * 1e3:.0f} ms"
            f" ({decoded * 1e3:.0f} ms decoded{cold}) | | {lists['grpc'] * 1e3:.0f} ms (decoded)"
            f" | | | {target} |"
        )
    print(
        f"| watch fan-out: {args.watchers} HTTP watchers x {args.updates} updates"
        f" | p50 {watch['p50'] * 1e3:.1f} ms, p99 {watch['p99'] * 1e3:.1f} ms"
        f" ({watch['events']:,} events) | | | | | |"
    )
    print(f"\nmachine: {os.cpu_count()} cores; python {sys.version.split()[0]}")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="pinnace-bench-") as tmp_name:
        tmp = Path(tmp_name)
        cluster_pki = pki.ensure_cluster_pki(tmp / "pki")
        etcd = EtcdServer(tmp / "etcd", log_file=tmp / "etcd.log", quota_backend_bytes=8 * 1024**3)
        etcd.start()
        etcd.wait_ready(15)
        grpc_port, http_port, tls_grpc_port, https_port = (free_port() for _ in range(4))
        api = process.apiserver(
            etcd.endpoint, grpc_port, tmp / "apiserver.log", "--log-level", "warning",
            "--rest-listen", f"127.0.0.1:{http_port}", "--rest-plain-http", anonymous=True,
        )  # fmt: skip
        tls_api = process.apiserver(
            etcd.endpoint, tls_grpc_port, tmp / "apiserver-tls.log", "--log-level", "warning",
            "--rest-listen", f"127.0.0.1:{https_port}",
            "--tls-cert-file", str(cluster_pki.apiserver.cert),
            "--tls-private-key-file", str(cluster_pki.apiserver.key), anonymous=True,
        )  # fmt: skip
        api.start()
        tls_api.start()
        ssl_context = ssl.create_default_context(cafile=str(cluster_pki.ca.cert))
        http = Rest(f"http://127.0.0.1:{http_port}")
        https = Rest(f"https://127.0.0.1:{https_port}", ssl_context)
        try:
            api.wait_serving(f"127.0.0.1:{grpc_port}", 30)
            tls_api.wait_serving(f"127.0.0.1:{tls_grpc_port}", 30)
            await http.wait_ready()
            await https.wait_ready()
            print(f"pod object: {len(make_pod('x').SerializeToString())} bytes serialized,"
                  f" {len(pod_json('x', NAMESPACE))} bytes as JSON")  # fmt: skip
            async with (
                EtcdClient([etcd.endpoint]) as raw,
                AsyncClient(f"127.0.0.1:{grpc_port}", timeout=60) as grpc,
            ):
                for ns in CREATE_NS.values():
                    await grpc.namespaces().create(
                        codec.from_dict(namespace_pb2.Namespace, {"metadata": {"name": ns}})
                    )
                assert api.pid is not None and tls_api.pid is not None
                pids = {"grpc": api.pid, "http": api.pid, "https": tls_api.pid}
                creates = await bench_creates(raw, grpc, http, https, args.creates, pids)
                tls_api.stop()  # its cache would only take CPU from here on
                await fill(http, grpc, args.pods)
                lists = await bench_list(http, grpc)
                watch = await bench_watch(http, grpc, args.watchers, args.updates)
        finally:
            await http.close()
            await https.close()
            tls_api.stop()
            api.stop()
            etcd.stop()
    report(args, creates, lists, watch)


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--creates", type=int, default=3_000)
    p.add_argument("--watchers", type=int, default=100)
    p.add_argument("--updates", type=int, default=1_000)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
