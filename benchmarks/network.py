"""Pod network benchmark: the Service path against direct pod IPs, the delay
from a pod becoming Ready to its first traffic through its Service, and what
the pod network adds to pod start-up.

Run it as root with the project's Python (about 2.5 minutes):

    python benchmarks/network.py [--seconds 5] [--slice 0.5] [--concurrency 8]
                                 [--ready-reps 5] [--pods 60] [--rate 10]

It needs root, ``ip`` (iproute2) and ``nft`` (nftables): without them pods
have no network of their own and Services no proxy, so it says why and
exits 2. It starts its own 3-node LocalCluster (etcd, apiserver, scheduler,
controller-manager, service proxy, 3 kubelets) in a temporary data dir, with
ranges of its own (cluster CIDR 10.246.0.0/16, service CIDR 10.113.0.0/16:
neither ``pinnace up``'s defaults nor the test suite's cluster), and stops
it at the end, also on error; then a second one with kubelets ``--pod-network
host`` (3. below).

1. Requests/s and p50/p99 latency of one HTTP server pod reached (a) by its
   pod IP, (b) through its Service's ClusterIP, (c) through the Service's
   NodePort on 127.0.0.1, with the same asyncio load generator (raw sockets,
   ``--concurrency`` connections, at most ``--requests`` requests per slice):
   once with HTTP/1.1 keep-alive, once with a new connection per request
   (the Service's DNAT is decided on a connection's first packet, so its
   cost is per connection; the client ends each connection with a reset,
   see ``reset_close``). After a 0.5 s warm-up per path, each path gets
   ``--seconds`` in slices of ``--slice`` seconds, the paths taking turns,
   so a change in the load of the (shared) machine hits every path alike;
   "vs direct" is the ratio of the totals and, in brackets, the median of
   the per-slice ratios. The server is a tiny asyncio (uvloop) server
   answering its pod name: ``python3 -m http.server`` would be the
   bottleneck (HTTP/1.0, so one connection per request, a thread each:
   ~1,500 requests/s on loopback with its CPU saturated, against ~150,000
   for this one with keep-alive). CPU seconds of the load generator, the
   server and the whole machine are printed, to show which side is
   saturated and how much else ran.
2. Pod Ready → first request through the ClusterIP: a second pod behind the
   same Service is created; the time the benchmark observes it Ready (watch)
   is compared with the start of the first of the connections to the
   ClusterIP (4 new ones every 10 ms, from before the pod exists) that
   reaches it. Each repetition starts once the Service answers from the
   first pod alone and ends by deleting the new pod; ``--ready-reps`` times,
   p50 and max. The time until its EndpointSlice says it is ready is printed
   beside it (the EndpointSlice controller's share; the rest is the proxy's).
3. Pod start-up with networking on and off, start-up = the benchmark's own
   create time → Running observed through a watch (as
   benchmarks/pod_startup.py): on the cluster above, ``--pods`` ``sleep``
   pods with a network namespace, veth and IP each and ``--pods`` with
   ``hostNetwork: true``, created in turn at ``--rate``/s of each kind (so
   both see the same load); then ``--pods`` at ``--rate``/s on a second
   cluster whose kubelets run ``--pod-network host``.

Traffic goes only to loopback and to this run's own pod and Service
addresses. Before it exits it checks that no network namespace, link, route,
``/etc/netns`` directory or nftables table of its clusters is left (exit 1
if one is; ``ip netns list``, ``ip -br link`` and ``nft list tables`` are
compared before and after), and prints what it found.

Prints Markdown tables for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.loadgen import record_running
from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.client import AsyncClient, Client, NotFound
from pinnace.client.config import ClientConfig
from pinnace.localcluster.cluster import ClusterConfig, LocalCluster, proxy_table
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import codec, hostnet
from proxy.routes import service_link

NAMESPACE = "default"
NODES = 3
CLUSTER_CIDR = "10.246.0.0/16"
SERVICE_CIDR = "10.113.0.0/16"
OWN_PREFIXES = ("10.246.", "10.113.")  # this run's addresses, in routes
PORT = 8080
SERVICE_PORT = 80
MARKER = "pinnace-network-bench-server"  # in the server's argv, to find its pid

# The server in the pods: answers every GET with its pod name, keeps the
# connection unless the request says "Connection: close".
SERVER = r"""
import asyncio, os, sys
import uvloop
BODY = (os.environ.get("POD_NAME", "?") + "\n").encode()
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % len(BODY)
KEEP = HEAD + b"\r\n" + BODY
CLOSE = HEAD + b"Connection: close\r\n\r\n" + BODY

class Http(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buf = b""

    def data_received(self, data):
        buf = self.buf + data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            request, buf = buf[:end].lower(), buf[end + 4:]
            if b"connection: close" in request:
                self.transport.write(CLOSE)
                self.transport.close()
                return
            self.transport.write(KEEP)
        self.buf = buf

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Http, "0.0.0.0", int(sys.argv[1]), backlog=1024)
    await server.serve_forever()

with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
    runner.run(main())
"""

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
OK = b"HTTP/1.1 200 "


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if abs(seconds) < 0.01 else f"{seconds * 1e3:.0f} ms"


# ---- objects ----------------------------------------------------------------------


def server_pod(name: str) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "http",
                        "image": "python",
                        "command": [sys.executable, "-c", SERVER, str(PORT), MARKER],
                        "ports": [{"name": "http", "containerPort": PORT}],
                        "env": [
                            {
                                "name": "POD_NAME",
                                "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                            }
                        ],
                        "readinessProbe": {
                            "tcpSocket": {"port": "http"},
                            "periodSeconds": 1,
                            "failureThreshold": 1,
                        },
                        "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}},
                    }
                ],
            },
        },
    )


def bench_service() -> service_pb2.Service:
    return codec.from_dict(
        service_pb2.Service,
        {
            "metadata": {"name": "bench"},
            "spec": {
                "type": "NodePort",
                "selector": {"app": "bench"},
                "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http"}],
            },
        },
    )


def sleep_pod(name: str, *, host_network: bool) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": name, "labels": {"bench": "startup"}},
            "spec": {
                "hostNetwork": host_network,
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


def is_ready(pod: pod_pb2.Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def is_ready_named(name: str, pod: pod_pb2.Pod) -> bool:
    return pod.metadata.name == name and is_ready(pod)


# ---- what this run owns in the host's network ---------------------------------------


@dataclass
class Owned:
    """Names of the host network objects this run's clusters may create."""

    netns_prefixes: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)
    pod_uids: set[str] = field(default_factory=set)

    def add_cluster(self, data_dir: Path) -> None:
        for i in range(1, NODES + 1):
            node = f"node-{i}"
            identity = hostnet.node_identity(node, data_dir / "nodes" / node)
            self.netns_prefixes.add(hostnet.netns_prefix(identity))
            self.links.add(hostnet.bridge_name(identity))

    def add_proxy(self, cluster: LocalCluster) -> None:
        table = proxy_table(cluster.data_dir)
        self.tables.add(table)
        self.links.add(service_link(table))

    def add_pod(self, pod: pod_pb2.Pod) -> None:
        self.pod_uids.add(pod.metadata.uid)

    def mine(self, kind: str, item: str) -> bool:
        veths = {hostnet.veth_name(uid) for uid in self.pod_uids}
        if kind in ("netns", "etc-netns"):
            return item.startswith(tuple(self.netns_prefixes))
        if kind == "link":
            return item in self.links or item in veths
        if kind == "nft":
            return item.split()[-1] in self.tables
        return any(p in item for p in OWN_PREFIXES)  # routes


def host_network_state() -> dict[str, set[str]]:
    """What `ip netns list`, `ip -br link`, `nft list tables`, the Pinnace
    routes and /etc/netns show now."""

    def lines(*argv: str) -> list[str]:
        return [line for line in hostnet.run(*argv, check=False).splitlines() if line.strip()]

    etc = hostnet.NETNS_ETC_DIR
    return {
        "netns": {line.split()[0] for line in lines("ip", "netns", "list")},
        "link": {line.split()[0].split("@")[0] for line in lines("ip", "-br", "link")},
        "nft": set(lines("nft", "list", "tables")),
        "route": set(lines("ip", "route", "show", "proto", str(hostnet.ROUTE_PROTOCOL))),
        "etc-netns": {p.name for p in etc.iterdir()} if etc.is_dir() else set(),
    }


@contextlib.contextmanager
def running_cluster(data_dir: Path, pod_network: str, owned: Owned) -> Iterator[LocalCluster]:
    """A 3-node cluster with kubelets `--pod-network pod_network`, stopped
    (and its network objects removed) on the way out, also on error."""
    data_dir.mkdir(parents=True)
    data_dir = data_dir.resolve()
    owned.add_cluster(data_dir)
    cluster = LocalCluster(
        ClusterConfig(
            data_dir=data_dir,
            nodes=NODES,
            port=free_port(),
            cluster_cidr=CLUSTER_CIDR,
            service_cidr=SERVICE_CIDR,
            extra_component_flags={"kubelet": ["--pod-network", pod_network]},
        )
    )
    try:
        cluster.start(timeout=60)
        yield cluster
    finally:
        owned.add_proxy(cluster)
        cluster.stop()


PATHS = ("pod IP (direct)", "ClusterIP", "NodePort on 127.0.0.1")
MODES = ("keep-alive", "new connection per request")
BRIDGE = "own network namespace (`--pod-network bridge`)"
HOST_NETWORK = "`hostNetwork: true`, same cluster, created in turn with the above"
HOST_CLUSTER = "second cluster, kubelets `--pod-network host`"

# ---- the load generator --------------------------------------------------------------


@dataclass
class Load:
    """What the slices of one path and mode saw, summed."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    machine_cpu: float = 0.0  # every process and the kernel, of all cores
    slices: list[float] = field(default_factory=list)  # requests/s of each

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def add(self, one: Load) -> None:
        self.latencies += one.latencies
        self.errors += one.errors
        self.seconds += one.seconds
        self.client_cpu += one.client_cpu
        self.server_cpu += one.server_cpu
        self.machine_cpu += one.machine_cpu
        self.slices.append(one.rate)


class Budget:
    """At most `count` requests, none started after `seconds`."""

    def __init__(self, seconds: float, count: int) -> None:
        self.deadline = time.perf_counter() + seconds
        self.left = count

    def spent(self) -> bool:
        return self.left <= 0 or time.perf_counter() >= self.deadline

    def take(self) -> bool:
        if self.spent():
            return False
        self.left -= 1
        return True


def response_length(buf: bytes) -> int:
    """Length of the first complete response in buf (-1: not complete yet)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return -1
    at = buf.find(b"Content-Length: ", 0, end)
    if at < 0:
        return end + 4
    size = int(buf[at + 16 : buf.index(b"\r\n", at)])
    return end + 4 + size if len(buf) >= end + 4 + size else -1


class KeepAliveConn(asyncio.Protocol):
    """One keep-alive connection: a request, its response, the next request,
    until the budget is spent."""

    def __init__(self, budget: Budget, load: Load, closed: asyncio.Future[None]) -> None:
        self.budget = budget
        self.load = load
        self.closed = closed
        self.buf = b""
        self.sent = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._next()

    def _next(self) -> None:
        assert self.transport is not None
        if not self.budget.take():
            reset_close(self.transport)
            return
        self.sent = time.perf_counter()
        self.transport.write(REQUEST)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (n := response_length(self.buf)) >= 0:
            if self.buf.startswith(OK):
                self.load.latencies.append(time.perf_counter() - self.sent)
            else:
                self.load.errors += 1
            self.buf = self.buf[n:]
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.load.errors += 1
        if not self.closed.done():
            self.closed.set_result(None)


def reset_close(transport: asyncio.BaseTransport) -> None:
    """Close with a RST (SO_LINGER 0): no TIME_WAIT on either side.

    Closing normally leaves a TIME_WAIT socket (60 s) for every request on
    one side. On the client's, the ~28,000 ephemeral ports run out within a
    measurement. On the server's, a new SYN that happens to reuse the
    server-side address pair of a TIME_WAIT socket is dropped when its TCP
    timestamp is older (PAWS; nstat's TcpExtPAWSTimewait) and retried after
    1 s. The direct path and the masqueraded Service path share the pod's
    view of the source (the bridge address) but not the client's (timestamps
    are offset per address pair), so that happened on every path once one
    path had run: a cost of the benchmark's single client, not of a path.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.close()


class OneShot(asyncio.Protocol):
    """One request on a connection of its own; the response, then a reset."""

    def __init__(self, done: asyncio.Future[bytes]) -> None:
        self.done = done
        self.buf = b""
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        cast(asyncio.Transport, transport).write(REQUEST)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        n = response_length(self.buf)
        if n >= 0 and not self.done.done():
            self.done.set_result(self.buf[:n])
            assert self.transport is not None
            reset_close(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("closed before a whole response"))


async def fetch_once(host: str, port: int, timeout: float = 2.0) -> str | None:
    """The body of one GET on a new connection (None: not a 200)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    transport, _ = await asyncio.wait_for(
        loop.create_connection(lambda: OneShot(done), host, port), timeout
    )
    try:
        response = await asyncio.wait_for(done, timeout)
    finally:
        if not transport.is_closing():
            reset_close(transport)
    if not response.startswith(OK):
        return None
    return response[response.find(b"\r\n\r\n") + 4 :].decode().strip()


async def keepalive_worker(host: str, port: int, budget: Budget, load: Load) -> None:
    loop = asyncio.get_running_loop()
    while not budget.spent():
        closed: asyncio.Future[None] = loop.create_future()
        try:
            await loop.create_connection(
                functools.partial(KeepAliveConn, budget, load, closed), host, port
            )
        except OSError:
            load.errors += 1
            await asyncio.sleep(0.01)
            continue
        await closed


async def newconn_worker(host: str, port: int, budget: Budget, load: Load) -> None:
    while budget.take():
        start = time.perf_counter()
        try:
            body = await fetch_once(host, port)
        except OSError:  # TimeoutError included
            body = None
        if body is None:
            load.errors += 1
        else:
            load.latencies.append(time.perf_counter() - start)


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far."""
    if pid is None:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds all cores have been busy (not idle or waiting for I/O)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def server_pid() -> int | None:
    """The pid of the bench server (its argv carries MARKER)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if MARKER.encode() in argv and argv[0] == sys.executable.encode():
            return int(proc.name)
    return None


async def measure(
    host: str,
    port: int,
    *,
    keepalive: bool,
    seconds: float,
    args: argparse.Namespace,
    pid: int | None,
) -> Load:
    """One slice: --concurrency workers until --requests or `seconds`."""
    worker = keepalive_worker if keepalive else newconn_worker
    load = Load()
    cpu, server, machine = time.process_time(), process_cpu(pid), machine_busy()
    start = time.perf_counter()
    budget = Budget(seconds, args.requests)
    await asyncio.gather(*(worker(host, port, budget, load) for _ in range(args.concurrency)))
    load.seconds = time.perf_counter() - start
    load.client_cpu = time.process_time() - cpu
    load.server_cpu = process_cpu(pid) - server
    load.machine_cpu = machine_busy() - machine
    return load


async def throughput(
    targets: dict[str, tuple[str, int]], args: argparse.Namespace, pid: int | None
) -> dict[tuple[str, str], Load]:
    """Per mode: a 0.5 s warm-up on each path, then --seconds on each path in
    --slice slices, the paths taking turns (each cycle starting at the next
    path), so a change in the machine's load hits every path alike."""
    out = {(mode, path): Load() for mode in MODES for path in PATHS}
    for mode in MODES:
        keepalive = mode == MODES[0]
        for path in PATHS:
            await measure(*targets[path], keepalive=keepalive, seconds=0.5, args=args, pid=pid)
        for cycle in range(max(1, round(args.seconds / args.slice))):
            turn = cycle % len(PATHS)
            for path in PATHS[turn:] + PATHS[:turn]:
                one = await measure(
                    *targets[path], keepalive=keepalive, seconds=args.slice, args=args, pid=pid
                )
                out[(mode, path)].add(one)
    return out


def paired_ratio(load: Load, direct: Load) -> float:
    """The median over cycles of this path's rate / the direct path's."""
    ratios = [a / b for a, b in zip(load.slices, direct.slices, strict=True) if b]
    return pct(ratios, 0.5)


# ---- cluster steps ---------------------------------------------------------------------


def wait(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise TimeoutError(f"{what}: not after {timeout}s")


def answers(host: str, port: int, name: str) -> bool:
    """Whether a GET on a new connection to host:port is answered by `name`."""
    try:
        return asyncio.run(fetch_once(host, port)) == name
    except OSError:  # TimeoutError included
        return False


def serve_one(client: Client, owned: Owned) -> tuple[dict[str, tuple[str, int]], pod_pb2.Pod]:
    """The server pod bench-0 behind the NodePort Service `bench`, answering on
    every path; the (host, port) of each path."""
    owned.add_pod(client.pods(NAMESPACE).create(server_pod("bench-0")))
    svc = client.services(NAMESPACE).create(bench_service())
    pod = wait(
        lambda: (p := client.pods(NAMESPACE).get("bench-0")) and is_ready(p) and p,
        "bench-0 Ready",
    )
    targets = {
        PATHS[0]: (pod.status.pod_ip, PORT),
        PATHS[1]: (svc.spec.cluster_ip, SERVICE_PORT),
        PATHS[2]: ("127.0.0.1", svc.spec.ports[0].node_port),
    }
    for path, (host, port) in targets.items():
        wait(functools.partial(answers, host, port, "bench-0"), f"{path} answers")
    return targets, pod


async def first_traffic(host: str, port: int, name: str) -> float:
    """Open 4 new connections to host:port every 10 ms (not waiting for the
    earlier ones) until one is answered by `name`; the time it started."""
    hit: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    pending: set[asyncio.Task[None]] = set()

    async def probe(start: float) -> None:
        with contextlib.suppress(OSError):
            if await fetch_once(host, port, timeout=1.0) == name and not hit.done():
                hit.set_result(start)

    try:
        while not hit.done():
            start = time.time()
            for _ in range(4):
                task = asyncio.create_task(probe(start))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.wait([hit], timeout=max(0.0, start + 0.01 - time.time()))
        return hit.result()
    finally:
        for task in list(pending):
            task.cancel()


async def settled(host: str, port: int, name: str, timeout: float = 60) -> None:
    """Until 20 connections in a row are answered by `name` (the Service has
    no other endpoint left: a removed pod's stays in the rules for a moment
    after the pod is gone, and a connection sent there would hang)."""
    deadline = time.monotonic() + timeout
    row = 0
    while row < 20:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{host}:{port} not answered by {name} alone after {timeout}s")
        try:
            row = row + 1 if await fetch_once(host, port, timeout=0.5) == name else 0
        except OSError:
            row = 0
            await asyncio.sleep(0.1)


async def first_event(stream: Any, match: Callable[[Any], bool]) -> float:
    async for ev in stream:
        if ev.object is not None and match(ev.object):
            return time.time()
    raise RuntimeError("watch ended")


async def ready_to_traffic(
    server: ClientConfig, cluster_ip: str, reps: int, owned: Owned
) -> list[tuple[float, float]]:
    """Per new pod: (Ready observed → EndpointSlice ready, Ready observed →
    first request through the ClusterIP), in seconds."""
    out = []
    async with AsyncClient(config=server, timeout=30) as client:
        pods, slices = client.pods(NAMESPACE), client.endpoint_slices(NAMESPACE)
        for i in range(reps):
            name = f"bench-new-{i}"
            await settled(cluster_ip, SERVICE_PORT, "bench-0")
            pod_rv = (await pods.list(label_selector="app=bench")).resource_version
            slice_rv = (await slices.list()).resource_version

            def in_slice(s: Any, name: str = name) -> bool:
                return any(e.target_ref.name == name and e.conditions.ready for e in s.endpoints)

            tasks: list[asyncio.Task[float]] = [
                asyncio.create_task(first_traffic(cluster_ip, SERVICE_PORT, name)),
                asyncio.create_task(
                    first_event(
                        pods.watch(resource_version=pod_rv, label_selector="app=bench"),
                        functools.partial(is_ready_named, name),
                    )
                ),
                asyncio.create_task(
                    first_event(
                        slices.watch(
                            resource_version=slice_rv,
                            label_selector="kubernetes.io/service-name=bench",
                        ),
                        in_slice,
                    )
                ),
            ]
            try:
                owned.add_pod(await pods.create(server_pod(name)))
                traffic, ready, sliced = await asyncio.wait_for(asyncio.gather(*tasks), 60)
            finally:
                for task in tasks:
                    task.cancel()
            out.append((sliced - ready, traffic - ready))
            await pods.delete(name, grace_period_seconds=0)
            await gone(functools.partial(pods.get, name))
    return out


async def gone(get: Callable[[], Awaitable[Any]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            await get()
        except NotFound:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"not deleted after {timeout}s")


async def startup_latencies(
    server: ClientConfig, count: int, rate: float, owned: Owned, *, kinds: tuple[bool, ...]
) -> dict[bool, list[float]]:
    """`count` sleep pods of each kind (hostNetwork false / true) at `rate`/s
    per kind, the kinds taking turns; per kind, start-up = Running observed
    through a watch - the benchmark's own create time (sub-second: the
    creationTimestamp has 1-second resolution). Deletes them and waits
    until they are gone (their network torn down)."""
    created: dict[str, tuple[bool, float]] = {}
    running: dict[str, float] = {}
    total = count * len(kinds)
    done = asyncio.Event()
    async with AsyncClient(config=server, timeout=30) as client:
        pods = client.pods(NAMESPACE)
        rv = (await pods.list()).resource_version

        async def watch() -> None:
            await record_running(pods, rv, "bench=startup", running, total, done)

        async def create(name: str, host_network: bool) -> None:
            owned.add_pod(await pods.create(sleep_pod(name, host_network=host_network)))

        watcher = asyncio.create_task(watch())
        creates = []
        start = time.monotonic()
        for i in range(total):
            name, host_network = f"startup-{i}", kinds[i % len(kinds)]
            await asyncio.sleep(max(0.0, start + i / (rate * len(kinds)) - time.monotonic()))
            created[name] = (host_network, time.time())
            creates.append(asyncio.create_task(create(name, host_network)))
        try:
            await asyncio.gather(*creates)
            await asyncio.wait_for(done.wait(), 120)
        finally:
            watcher.cancel()
            await pods.delete_collection(label_selector="bench=startup", grace_period_seconds=0)
        deadline = time.monotonic() + 60
        while (await pods.list(label_selector="bench=startup")).items:
            if time.monotonic() > deadline:
                raise TimeoutError("startup pods not deleted after 60s")
            await asyncio.sleep(0.2)
    out: dict[bool, list[float]] = {kind: [] for kind in kinds}
    for name, (host_network, at) in created.items():
        if name in running:
            out[host_network].append(running[name] - at)
    return out


# ---- the run --------------------------------------------------------------------------


@dataclass
class Figures:
    loads: dict[tuple[str, str], Load] = field(default_factory=dict)
    ready: list[tuple[float, float]] = field(default_factory=list)
    startup: dict[str, list[float]] = field(default_factory=dict)
    cluster_start: dict[str, float] = field(default_factory=dict)


def bridge_phase(data_dir: Path, args: argparse.Namespace, owned: Owned, figs: Figures) -> None:
    t0 = time.monotonic()
    with running_cluster(data_dir, "bridge", owned) as cluster:
        figs.cluster_start["bridge"] = time.monotonic() - t0
        both = asyncio.run(
            startup_latencies(
                cluster.client_config(), args.pods, args.rate, owned, kinds=(False, True)
            )
        )
        figs.startup[BRIDGE], figs.startup[HOST_NETWORK] = both[False], both[True]
        with Client(config=cluster.client_config(), timeout=10) as client:
            targets, _ = serve_one(client, owned)
        pid = server_pid()
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            figs.loads = runner.run(throughput(targets, args, pid))
        cluster_ip = targets[PATHS[1]][0]
        figs.ready = asyncio.run(
            ready_to_traffic(cluster.client_config(), cluster_ip, args.ready_reps, owned)
        )
        with Client(config=cluster.client_config(), timeout=10) as client:
            client.pods(NAMESPACE).delete("bench-0", grace_period_seconds=0)
            wait(
                lambda: not client.pods(NAMESPACE).list(label_selector="app=bench").items,
                "bench pods gone",
            )


def host_phase(data_dir: Path, args: argparse.Namespace, owned: Owned, figs: Figures) -> None:
    t0 = time.monotonic()
    with running_cluster(data_dir, "host", owned) as cluster:
        figs.cluster_start["host"] = time.monotonic() - t0
        only = asyncio.run(
            startup_latencies(cluster.client_config(), args.pods, args.rate, owned, kinds=(False,))
        )
        figs.startup[HOST_CLUSTER] = only[False]


def print_figures(figs: Figures, args: argparse.Namespace) -> None:
    cycles = max(1, round(args.seconds / args.slice))
    print(
        f"\nOne HTTP server pod, {args.concurrency} connections; per mode and path"
        f" {cycles} slices of {args.slice:g} s, the paths taking turns:\n"
    )
    print(
        "| mode | path | requests/s | p50 | p99 | errors | vs direct: total"
        " (median of paired slices) | CPU s: client / server / whole machine / wall |"
    )
    print("|---|---|---|---|---|---|---|---|")
    worst = 1.0
    for mode in MODES:
        direct = figs.loads[(mode, PATHS[0])]
        for path in PATHS:
            load = figs.loads[(mode, path)]
            ratio = load.rate / direct.rate if direct.rate else 0.0
            if path != PATHS[0]:
                worst = min(worst, ratio)
            print(
                f"| {mode} | {path} | {load.rate:,.0f} |"
                f" {ms(pct(load.latencies, 0.5))} | {ms(pct(load.latencies, 0.99))} |"
                f" {load.errors} | {ratio:.0%} ({paired_ratio(load, direct):.0%}) |"
                f" {load.client_cpu:.1f} / {load.server_cpu:.1f} / {load.machine_cpu:.1f}"
                f" / {load.seconds:.1f} |"
            )
    print(f"\nService path, worst: {worst:.0%} of direct (target >= 90%)\n")
    print("| measurement | p50 | max | target |")
    print("|---|---|---|---|")
    to_slice = [r[0] for r in figs.ready]
    to_traffic = [r[1] for r in figs.ready]
    print(
        f"| pod Ready observed → EndpointSlice lists it ready ({len(to_slice)} pods) |"
        f" {ms(pct(to_slice, 0.5))} | {ms(max(to_slice, default=float('nan')))} | |"
    )
    print(
        f"| pod Ready observed → first request through the ClusterIP ({len(to_traffic)} pods) |"
        f" {ms(pct(to_traffic, 0.5))} | {ms(max(to_traffic, default=float('nan')))} | |"
    )
    print(
        f"\n| pod start-up, {args.pods} `sleep` pods of each kind at {args.rate:g}/s,"
        f" {NODES} kubelets | p50 | p90 | p99 |"
    )
    print("|---|---|---|---|")
    for kind in (BRIDGE, HOST_NETWORK, HOST_CLUSTER):
        lat = figs.startup.get(kind, [])
        print(
            f"| {kind} ({len(lat)} Running) | {ms(pct(lat, 0.5))} |"
            f" {ms(pct(lat, 0.9))} | {ms(pct(lat, 0.99))} |"
        )
    on = figs.startup.get(BRIDGE, [])
    for kind, label in ((HOST_NETWORK, "in turn"), (HOST_CLUSTER, "second cluster")):
        off = figs.startup.get(kind, [])
        print(
            f"| networking adds, vs {label} (target <= 50 ms) |"
            f" {ms(pct(on, 0.5) - pct(off, 0.5))} | {ms(pct(on, 0.9) - pct(off, 0.9))} |"
            f" {ms(pct(on, 0.99) - pct(off, 0.99))} |"
        )
    starts = ", ".join(f"{k} {v:.1f} s" for k, v in figs.cluster_start.items())
    print(f"\ncluster start to every node Ready: {starts}")
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")


def report_leftovers(before: dict[str, set[str]], after: dict[str, set[str]], owned: Owned) -> bool:
    """Print what this run left in the host's network; whether anything."""
    left = sorted(
        f"{kind} {item}"
        for kind, items in after.items()
        for item in items
        if owned.mine(kind, item)
    )
    others = sorted(
        f"{kind} {item}"
        for kind, items in after.items()
        for item in items - before[kind]
        if not owned.mine(kind, item)
    )
    counts = ", ".join(f"{k} {len(before[k])} → {len(after[k])}" for k in before)
    print(
        f"\nhost network before → after (ip netns list, ip -br link, nft list tables, routes, /etc/netns): {counts}"
    )
    print(f"left behind by this run: {', '.join(left) or 'nothing'}")
    if others:
        print(f"appeared meanwhile, not this run's: {', '.join(others)}")
    return bool(left)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    p.add_argument("--requests", type=int, default=1_000_000, help="at most, per measurement")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--slice", type=float, default=0.5, help="seconds; paths take turns")
    p.add_argument("--ready-reps", type=int, default=5)
    p.add_argument("--pods", type=int, default=60)
    p.add_argument("--rate", type=float, default=10.0)
    args = p.parse_args()
    reason = hostnet.service_proxy_unavailable()
    if reason:
        print(
            f"network.py needs root with ip and nft (pods' own IPs, the service proxy): {reason}",
            file=sys.stderr,
        )
        return 2
    owned = Owned()
    figs = Figures()
    before = host_network_state()
    try:
        with tempfile.TemporaryDirectory(prefix="pinnace-netbench-") as tmp:
            bridge_phase(Path(tmp) / "bridge", args, owned, figs)
            host_phase(Path(tmp) / "host", args, owned, figs)
    finally:
        left = report_leftovers(before, host_network_state(), owned)
    print_figures(figs, args)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
