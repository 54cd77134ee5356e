"""Fixtures for integration tests that run real processes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pinnace.localcluster.etcd import EtcdServer


@pytest.fixture(scope="session")
def etcd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    """One etcd member for the whole session on free loopback ports, tuned to
    elect itself in ~0.1 s. Tests share it: use keys under a unique prefix.
    $PINNACE_ETCD_BINARY picks another etcd binary (e.g. to test 3.5)."""
    base = tmp_path_factory.mktemp("etcd")
    server = EtcdServer(
        base / "data",
        binary=os.environ.get("PINNACE_ETCD_BINARY") or None,
        heartbeat_interval_ms=10,
        election_timeout_ms=100,
        log_file=base / "etcd.log",
    )
    try:
        server.start()
        server.wait_ready(timeout=15)
        yield server
    finally:
        server.stop()


# ---- apiserver -----------------------------------------------------------------

import itertools  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Callable  # noqa: E402

from pinnace.client import AsyncClient, Client  # noqa: E402
from pinnace.localcluster import process  # noqa: E402
from pinnace.localcluster.etcd import free_port  # noqa: E402

FAST_APISERVER_FLAGS = ("--bookmark-interval", "0.5", "--namespace-sync-period", "0.1")


class RunningApiServer:
    def __init__(self, component: process.Component, port: int) -> None:
        self.component = component
        self.port = port

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def restart(self) -> None:
        """Start the same apiserver again (after kill() or stop())."""
        self.component.start()
        self.component.wait_serving(self.endpoint)


@pytest.fixture(scope="session")
def start_apiserver(
    etcd_server: EtcdServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., RunningApiServer]]:
    """Factory: start an apiserver process on the session etcd (or another
    endpoint) with extra flags; every one started is stopped at session end."""
    started: list[process.Component] = []
    counter = itertools.count()

    def start(*extra: str, etcd: str | None = None) -> RunningApiServer:
        port = free_port()
        log = tmp_path_factory.getbasetemp() / f"apiserver-{next(counter)}.log"
        comp = process.apiserver(
            etcd or etcd_server.endpoint, port, log, *FAST_APISERVER_FLAGS, *extra
        )
        started.append(comp)
        comp.start()
        comp.wait_serving(f"127.0.0.1:{port}")
        return RunningApiServer(comp, port)

    try:
        yield start
    finally:
        for comp in started:
            comp.stop()


@pytest.fixture(scope="session")
def apiserver(start_apiserver: Callable[..., RunningApiServer]) -> RunningApiServer:
    """One apiserver shared by the session; tests isolate themselves with
    their own namespace (see `namespace`)."""
    return start_apiserver()


@pytest.fixture
def client(apiserver: RunningApiServer) -> Iterator[Client]:
    with Client(apiserver.endpoint, timeout=10) as c:
        yield c


@pytest.fixture
async def aclient(apiserver: RunningApiServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(apiserver.endpoint, timeout=10) as c:
        yield c


@pytest.fixture
def namespace(client: Client) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    from pinnace.machinery import kinds

    name = f"t-{uuid.uuid4().hex[:10]}"
    ns = kinds.by_resource("namespaces").new()
    ns.metadata.name = name
    client.namespaces().create(ns)
    yield name
    try:
        client.namespaces().delete(name)
    except Exception:
        pass


# ---- a whole cluster ---------------------------------------------------------------

from pinnace.localcluster.cluster import ClusterConfig, LocalCluster  # noqa: E402

LEASE_FLAGS = [
    "--leader-elect-lease-duration",
    "2",
    "--leader-elect-renew-deadline",
    "1.5",
    "--leader-elect-retry-period",
    "0.2",
]
FAST_CLUSTER_FLAGS: dict[str, list[str]] = {
    "apiserver": list(FAST_APISERVER_FLAGS),
    "kubelet": [
        "--lease-period",
        "1",
        "--node-status-period",
        "1",
        "--crashloop-backoff-base",
        "0.2",
        "--crashloop-backoff-max",
        "1",
    ],
    "scheduler": ["--pod-initial-backoff", "0.1", "--pod-max-backoff", "1", *LEASE_FLAGS],
    "controller-manager": [
        *LEASE_FLAGS,
        "--job-pod-failure-backoff",
        "0.2",
        "--job-pod-failure-backoff-max",
        "1",
        *("--node-monitor-grace-period", "3", "--node-startup-grace-period", "5"),
        *("--node-monitor-period", "0.5", "--node-eviction-rate", "10", "--pod-gc-period", "2"),
    ],
}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A whole cluster of its own (etcd, apiserver, scheduler, controller-manager,
    3 kubelets running real processes) with short timings, shared by the
    session: tests isolate themselves by namespace. Nodes are node-1..node-3."""
    base = tmp_path_factory.mktemp("cluster")
    lc = LocalCluster(
        ClusterConfig(
            data_dir=base,
            nodes=3,
            port=free_port(),
            etcd_binary=os.environ.get("PINNACE_ETCD_BINARY") or None,
            extra_component_flags=FAST_CLUSTER_FLAGS,
            # Ranges of its own: `pinnace up` in a CLI test may run beside it.
            cluster_cidr="10.245.0.0/16",
            service_cidr="10.112.0.0/16",
        )
    )
    try:
        lc.start(timeout=60)
        yield lc
    finally:
        lc.stop()


@pytest.fixture
def cluster_client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(config=cluster.client_config(), timeout=10) as c:
        yield c


@pytest.fixture
def cluster_namespace(cluster_client: Client) -> Iterator[str]:
    """A fresh namespace on the `cluster` for one test, deleted afterwards."""
    from pinnace.machinery import kinds

    name = f"c-{uuid.uuid4().hex[:10]}"
    ns = kinds.by_resource("namespaces").new()
    ns.metadata.name = name
    cluster_client.namespaces().create(ns)
    yield name
    try:
        cluster_client.namespaces().delete(name)
    except Exception:
        pass
