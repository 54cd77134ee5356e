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

import contextlib  # noqa: E402
import functools  # noqa: E402
import itertools  # noqa: E402
import ssl  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import grpc  # noqa: E402

from pinnace.api.rbac.v1 import rbac_pb2  # noqa: E402
from pinnace.client import AsyncClient, Client  # noqa: E402
from pinnace.client import _requests as rq  # noqa: E402
from pinnace.client.config import ClientConfig  # noqa: E402
from pinnace.localcluster import process  # noqa: E402
from pinnace.localcluster.etcd import free_port  # noqa: E402
from pinnace.localcluster.identities import Identities  # noqa: E402
from pinnace.machinery import errors, kinds, pki, rbacdefaults  # noqa: E402
from pinnace.machinery.kubeconfig import write_identity_kubeconfig  # noqa: E402
from pinnace.machinery.tlsclient import client_ssl_context  # noqa: E402

TEST_LEASES_ROLE = "pinnace-tests:leader-election"
RBAC_GROUP = "rbac.authorization.k8s.io"
FAST_APISERVER_FLAGS = ("--bookmark-interval", "0.5", "--namespace-sync-period", "0.1")


@pytest.fixture(scope="session")
def identities(tmp_path_factory: pytest.TempPathFactory) -> Identities:
    """The session's cluster CA and the identity of every component (admin,
    controller-manager, scheduler, proxy, a kubelet per node name asked
    for): every apiserver the tests start is secure as `pinnace up`'s is,
    and everything that talks to it authenticates as its own identity."""
    ids = Identities(tmp_path_factory.mktemp("identities"))
    ids.write("127.0.0.1:0", "127.0.0.1:0", [])  # servers: given to each client
    return ids


class RunningApiServer:
    """An apiserver of the tests: gRPC (TLS, client certificates of the
    session CA, RBAC) on ``endpoint``."""

    def __init__(
        self,
        component: process.Component,
        port: int,
        identities: Identities,
        rest_port: int = 0,
    ) -> None:
        self.component = component
        self.port = port
        self.identities = identities
        self.rest_port = rest_port  # 0: no HTTP API

    @property
    def rest_url(self) -> str:
        """Its Kubernetes HTTP API (HTTPS), when started with ``rest=True``."""
        assert self.rest_port, "start it with rest=True"
        return f"https://127.0.0.1:{self.rest_port}"

    def https_context(self) -> ssl.SSLContext:
        """TLS to its HTTP API as the admin (the session CA, the admin's pair)."""
        c = self.config
        return client_ssl_context(c.ca_pem, c.cert_pem, c.key_pem)

    @functools.cached_property
    def kubeconfig(self) -> Path:
        """An admin kubeconfig for kubectl and Kubernetes' clients (its HTTP API)."""
        path = self.identities.data_dir / f"admin-{self.port}.kubeconfig"
        write_identity_kubeconfig(
            path,
            self.identities.pki,
            self.identities.pki.admin,
            server=self.rest_url,
            grpc_server=self.endpoint,
        )
        return path

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config(self) -> ClientConfig:
        """How to reach it as the admin (kubernetes-admin, system:masters)."""
        return self.identities.client_config(self.endpoint)

    def client(self, timeout: float = 10) -> Client:
        """A client as the admin."""
        return Client(config=self.config, timeout=timeout)

    def channel(self) -> grpc.Channel:
        """A raw gRPC channel to it as the admin (TLS, the admin's certificate)."""
        return rq.channel(self.config, grpc.insecure_channel, grpc.secure_channel)

    def component_flags(self, name: str) -> list[str]:
        """``--apiserver`` and ``--kubeconfig`` of a component (controller-manager,
        scheduler, proxy, kubelet-<node>) that reaches it as its own identity."""
        return self.identities.component_flags(name, self.endpoint)

    def kubelet_flags(self, node: str) -> list[str]:
        """A kubelet's flags: this apiserver, node ``node``'s identity, HTTPS endpoint."""
        return ["--apiserver", self.endpoint, *self.identities.kubelet_flags(node)]

    @property
    def cli_args(self) -> list[str]:
        """The pinnace CLI's flags that reach it as the admin."""
        return self.identities.cli_args(self.endpoint)

    def restart(self) -> None:
        """Start the same apiserver again (after kill() or stop())."""
        self.component.start()
        self.component.wait_serving(self.endpoint, 15, self.config.channel_credentials())
        if self.rest_port:
            self.component.wait_listening(f"127.0.0.1:{self.rest_port}")


@pytest.fixture(scope="session")
def start_apiserver(
    etcd_server: EtcdServer, identities: Identities, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., RunningApiServer]]:
    """Factory: start a secure apiserver process on the session etcd (or
    another endpoint) with extra flags; every one started is stopped at
    session end."""
    started: list[process.Component] = []
    counter = itertools.count()

    def start(*extra: str, etcd: str | None = None, rest: bool = False) -> RunningApiServer:
        port = free_port()
        rest_port = free_port() if rest else 0
        if rest:
            extra = ("--rest-listen", f"127.0.0.1:{rest_port}", *extra)
        log = tmp_path_factory.getbasetemp() / f"apiserver-{next(counter)}.log"
        comp = process.apiserver(
            etcd or etcd_server.endpoint,
            port,
            log,
            *FAST_APISERVER_FLAGS,
            *identities.apiserver_flags,
            *extra,
        )
        started.append(comp)
        comp.start()
        server = RunningApiServer(comp, port, identities, rest_port)
        comp.wait_serving(server.endpoint, 15, server.config.channel_credentials())
        if rest:
            comp.wait_listening(f"127.0.0.1:{rest_port}")
        _grant_leader_election(server)
        return server

    try:
        yield start
    finally:
        for comp in started:
            comp.stop()


def _grant_leader_election(server: RunningApiServer) -> None:
    """Let the scheduler and controller-manager identities hold any Lease.
    Kubernetes' roles allow only the Lease of the default name, and the
    tests run many side by side, each electing on a Lease of its own (a
    cluster that renames the Lease grants it the same way)."""
    role = rbac_pb2.ClusterRole(
        rules=[rbacdefaults.rule(("get", "update"), ("coordination.k8s.io",), ("leases",))]
    )
    role.metadata.name = TEST_LEASES_ROLE
    binding = rbac_pb2.ClusterRoleBinding(
        role_ref=rbac_pb2.RoleRef(api_group=RBAC_GROUP, kind="ClusterRole", name=TEST_LEASES_ROLE),
        subjects=[
            rbac_pb2.Subject(kind="User", api_group=RBAC_GROUP, name=user)
            for user in (pki.SCHEDULER_USER, pki.CONTROLLER_MANAGER_USER)
        ],
    )
    binding.metadata.name = TEST_LEASES_ROLE
    with server.client() as c:
        for obj in (role, binding):
            with contextlib.suppress(errors.AlreadyExists):
                c.resource(type(obj), "").create(obj)


@pytest.fixture(scope="session")
def apiserver(start_apiserver: Callable[..., RunningApiServer]) -> RunningApiServer:
    """One apiserver shared by the session; tests isolate themselves with
    their own namespace (see `namespace`)."""
    return start_apiserver()


@pytest.fixture
def client(apiserver: RunningApiServer) -> Iterator[Client]:
    with apiserver.client() as c:
        yield c


@pytest.fixture
async def aclient(apiserver: RunningApiServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(config=apiserver.config, timeout=10) as c:
        yield c


@contextlib.contextmanager
def fresh_namespace(client: Client, prefix: str) -> Iterator[str]:
    """A namespace ``<prefix>-<random>`` made for a test, deleted afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    ns = kinds.by_resource("namespaces").new()
    ns.metadata.name = name
    client.namespaces().create(ns)
    try:
        yield name
    finally:
        with contextlib.suppress(errors.ApiError):
            client.namespaces().delete(name)


@pytest.fixture
def namespace(client: Client) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    with fresh_namespace(client, "t") as name:
        yield name


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


def fast_cluster_config(base: Path, **overrides: Any) -> ClusterConfig:
    """A 3-node cluster config under ``base`` with the tests' short timings,
    on a free port; ``overrides`` set any other ClusterConfig field."""
    settings: dict[str, Any] = {
        "nodes": 3,
        "port": free_port(),
        "etcd_binary": os.environ.get("PINNACE_ETCD_BINARY") or None,
        "extra_component_flags": FAST_CLUSTER_FLAGS,
    }
    return ClusterConfig(data_dir=base, **(settings | overrides))


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A whole cluster of its own (etcd, apiserver, scheduler, controller-manager,
    3 kubelets running real processes) with short timings, shared by the
    session: tests isolate themselves by namespace. Nodes are node-1..node-3."""
    base = tmp_path_factory.mktemp("cluster")
    # Ranges of its own: `pinnace up` in a CLI test may run beside it.
    lc = LocalCluster(
        fast_cluster_config(base, cluster_cidr="10.245.0.0/16", service_cidr="10.112.0.0/16")
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
    with fresh_namespace(cluster_client, "c") as name:
        yield name
