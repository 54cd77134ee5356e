"""A whole local cluster in one command: etcd, the apiserver and, as they
exist, the scheduler, the kubelets and the controller-manager.

Pods get IPs from ``cluster_cidr`` (node IPAM gives each node a /24; the
kubelets put pods in network namespaces when root) and Services ClusterIPs
from ``service_cidr``.

State lives under the data dir (etcd data, component logs, ``cluster.json``
with the ports, ``pki/`` with the cluster CA and certificates, ``kubeconfig``
for kubectl), so starting again on the same data dir resumes the same
cluster, with the same CA. Components run as child processes in their own
process groups and are stopped (SIGTERM, then SIGKILL) when the cluster
stops.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pinnace.client import Client
from pinnace.client.config import ClientConfig
from pinnace.localcluster import process
from pinnace.localcluster.cgroups import cleanup_cgroups
from pinnace.localcluster.etcd import EtcdServer, EtcdTLS, free_port
from pinnace.localcluster.identities import Identities
from pinnace.machinery import hostnet, pki
from pinnace.machinery.conditions import is_true
from pinnace.machinery.wellknown import NODE_READY

log = logging.getLogger(__name__)

STATE_FILE = "cluster.json"
# The ranges and node count of the last start: what cleanup_network removes.
NETWORK_FILE = "network.json"
PID_FILE = "up.pid"


DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"
HOLLOW_PREFIX = "hollow-"
# The hollow fleet's component name, and how much longer a start may take
# per hollow node (1,000 nodes: 60 s more) than the timeout given.
HOLLOW_COMPONENT = "hollow-nodes"
HOLLOW_START_PER_NODE = 0.06
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"


@dataclass
class ClusterConfig:
    data_dir: Path
    nodes: int = 3
    port: int = 6443
    # The Kubernetes HTTP API (kubectl) on 127.0.0.1; 0: a free port each start.
    rest_port: int = 0
    etcd_binary: str | None = None
    extra_component_flags: dict[str, list[str]] = field(default_factory=dict)
    # Pod IPs: each node gets a /24 of it (node IPAM in the controller-manager).
    cluster_cidr: str = DEFAULT_CLUSTER_CIDR
    # ClusterIPs of Services (the apiserver allocates them).
    service_cidr: str = DEFAULT_SERVICE_CIDR
    # High availability: etcd members (fixed at the first start, as etcd's
    # own membership is), apiservers (the first on ``port``/``rest_port``),
    # and the leader-elected controller-managers and schedulers.
    etcd_members: int = 1
    apiservers: int = 1
    controller_managers: int = 1
    schedulers: int = 1
    # Hollow nodes (hollow-000 …), all in one kubelet process (kubelet/fleet.py):
    # they run no containers, for scale tests of the control plane.
    hollow_nodes: int = 0


class ClusterConfigError(ValueError):
    """The configuration asked for cannot run on this data dir."""


def _available(module: str) -> bool:
    """Whether a component's module is installed (later issues add them)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LocalCluster:
    """Start, check and stop every component of a local cluster."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.data_dir = config.data_dir.resolve()
        self.etcd: EtcdServer | None = None  # the first member
        self.etcd_members: list[EtcdServer] = []
        # Every apiserver's gRPC and HTTP ports, once started.
        self.api_ports: list[tuple[int, int]] = []
        self.components: list[process.Component] = []
        self.skipped: list[str] = []
        self.identities = Identities(self.data_dir)
        self.pki = self.identities.pki
        self.kubeconfig = self.identities.kubeconfig
        # The HTTP API's port once started (config.rest_port, or the free one).
        self.rest_port: int | None = None

    @property
    def server(self) -> str:
        """Every apiserver's gRPC endpoint, comma-separated (clients fail over)."""
        if not self.api_ports:
            return f"127.0.0.1:{self.config.port}"
        return ",".join(f"127.0.0.1:{grpc_port}" for grpc_port, _ in self.api_ports)

    @property
    def rest_address(self) -> str:
        """The first apiserver's HTTP API (kubectl's kubeconfig names one)."""
        return f"127.0.0.1:{self.rest_port}"

    @property
    def rest_server(self) -> str | None:
        """The Kubernetes HTTP API's URL; None before the first start."""
        if self.rest_port is None:
            return None
        return f"https://{self.rest_address}"

    def _ports(self) -> dict[str, int]:
        """The ports of every etcd member and the extra apiservers, kept in
        the state file so a restart reuses them (new ones when more are asked)."""
        path = self.data_dir / STATE_FILE
        ports: dict[str, int] = json.loads(path.read_text())["ports"] if path.exists() else {}
        if "etcd_client" in ports:
            had = 1 + sum(1 for k in ports if k.startswith("etcd_client_"))
            if had != self.config.etcd_members:
                raise ClusterConfigError(
                    f"--etcd-members {self.config.etcd_members}: the cluster in {self.data_dir} "
                    f"has {had} etcd member(s), fixed at its first start (etcd keeps its "
                    "membership in its data); use that count, or a new --data-dir"
                )
        wanted = ["etcd_client", "etcd_peer"]
        for i in range(1, self.config.etcd_members):
            wanted += [f"etcd_client_{i}", f"etcd_peer_{i}"]
        for i in range(1, self.config.apiservers):
            wanted += [f"apiserver_{i}", f"apiserver_rest_{i}"]
        missing = [k for k in wanted if k not in ports]
        for key in missing:
            ports[key] = free_port()
        if missing:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"ports": ports}) + "\n")
        return ports

    def _etcd(self, ports: dict[str, int], logs: Path) -> list[EtcdServer]:
        """The etcd members: ``default`` (data in ``etcd/``), then
        ``etcd-<i>`` (in ``etcd-<i>/``), peers of one another."""
        count = self.config.etcd_members
        names = ["default", *(f"etcd-{i}" for i in range(1, count))]
        suffix = ["", *(f"_{i}" for i in range(1, count))]
        peer_urls = [f"https://127.0.0.1:{ports['etcd_peer' + x]}" for x in suffix]
        initial = ",".join(f"{n}={u}" for n, u in zip(names, peer_urls, strict=True))
        return [
            EtcdServer(
                self.data_dir / ("etcd" if i == 0 else name),
                binary=self.config.etcd_binary,
                client_port=ports["etcd_client" + suffix[i]],
                peer_port=ports["etcd_peer" + suffix[i]],
                name=name,
                log_file=logs / f"{'etcd' if i == 0 else name}.log",
                tls=self.etcd_tls,
                initial_cluster=initial if count > 1 else "",
            )
            for i, name in enumerate(names)
        ]

    def component(self, name: str) -> process.Component:
        """The running component called ``name`` (``apiserver-2``, ``scheduler``...)."""
        for comp in self.components:
            if comp.name == name:
                return comp
        raise KeyError(f"no component {name!r}; have {[c.name for c in self.components]}")

    def start(self, timeout: float = 30.0) -> None:
        """Start everything and wait until each component serves and every
        node is Ready."""
        start = time.monotonic()
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        ports = self._ports()
        (self.data_dir / NETWORK_FILE).write_text(
            json.dumps(
                {
                    "nodes": self.config.nodes,
                    "cluster_cidr": self.config.cluster_cidr,
                    "service_cidr": self.config.service_cidr,
                }
            )
            + "\n"
        )
        pki.ensure_cluster_pki(self.pki.dir, nodes=self.node_names)  # etcd's pairs first
        self.etcd_members = self._etcd(ports, logs)
        self.etcd = self.etcd_members[0]
        for member in self.etcd_members:
            member.start()
        for member in self.etcd_members:
            member.wait_ready(timeout)
        self.rest_port = self.config.rest_port or free_port()
        self.api_ports = [(self.config.port, self.rest_port)] + [
            (ports[f"apiserver_{i}"], ports[f"apiserver_rest_{i}"])
            for i in range(1, self.config.apiservers)
        ]
        secure = self._secure_flags()
        etcd_servers = ",".join(m.endpoint for m in self.etcd_members)
        apis = []
        for i, (grpc_port, rest_port) in enumerate(self.api_ports):
            api = process.apiserver(
                etcd_servers,
                grpc_port,
                logs / f"{numbered('apiserver', i)}.log",
                *("--rest-listen", f"127.0.0.1:{rest_port}"),
                *("--service-cluster-ip-range", self.config.service_cidr),
                *secure,
                *self.config.extra_component_flags.get("apiserver", []),
                name=numbered("apiserver", i),
            )
            self._launch(api)
            apis.append((api, grpc_port, rest_port))
        credentials = self.client_config().channel_credentials()
        for api, grpc_port, rest_port in apis:
            api.wait_serving(f"127.0.0.1:{grpc_port}", timeout, credentials)
            api.wait_listening(f"127.0.0.1:{rest_port}", timeout)
        waits: list[tuple[process.Component, str]] = []
        nodes = 0
        for name, module, args in self._workers():
            if not _available(module):
                self.skipped.append(name)
                continue
            health = ""
            if name == HOLLOW_COMPONENT:
                nodes += self.config.hollow_nodes
            elif not name.startswith("kubelet"):
                health = f"127.0.0.1:{free_port()}"
                args = [*args, "--health-listen", health]
            else:
                nodes += 1
            comp = process.Component(name, module, args, log_file=logs / f"{name}.log")
            self._launch(comp)
            if health:
                waits.append((comp, health))
        for comp, health in waits:
            comp.wait_serving(health, timeout)
        if nodes:
            slack = self.config.hollow_nodes * HOLLOW_START_PER_NODE
            self._wait_nodes_ready(nodes, deadline=start + timeout + slack)
        log.info("cluster up in %.2fs", time.monotonic() - start)

    def _secure_flags(self) -> list[str]:
        """Make (or keep) the PKI, write the kubeconfigs (the admin's, and
        one per component with its own client certificate) for this
        start's ports, and return the apiserver's flags: TLS on both
        listeners, client certificates signed by the cluster CA, etcd over TLS."""
        self.identities.write(self.server, self.rest_address, self.node_names)
        return [*self.identities.apiserver_flags, *self.etcd_flags]

    @property
    def kubelet_client_flags(self) -> list[str]:
        """An apiserver's flags that reach this cluster's kubelets (HTTPS, its pair)."""
        return self.identities.kubelet_client_flags

    def kubelet_flags(self, node: str) -> list[str]:
        """Node ``node``'s kubelet flags of this cluster (Identities.kubelet_flags)."""
        return self.identities.kubelet_flags(node)

    @property
    def etcd_flags(self) -> list[str]:
        """An apiserver's flags that reach this cluster's etcd (TLS, its client pair)."""
        return self.identities.etcd_flags

    @property
    def etcd_tls(self) -> EtcdTLS:
        """etcd's TLS: client certificates of the cluster CA required."""
        return self.identities.etcd_tls

    @property
    def node_names(self) -> list[str]:
        return [f"node-{i}" for i in range(1, self.config.nodes + 1)]

    def component_kubeconfig(self, name: str) -> Path:
        """The kubeconfig of one component: its own identity."""
        return self.identities.component_kubeconfig(name)

    def client_config(self) -> ClientConfig:
        """How to reach the cluster as its admin (gRPC, with the admin kubeconfig)."""
        return self.identities.client_config(self.server)

    @property
    def cli_args(self) -> list[str]:
        """The pinnace CLI's flags that reach this cluster as its admin."""
        return self.identities.cli_args(self.server)

    def _wait_nodes_ready(self, count: int, *, deadline: float) -> None:
        with Client(config=self.client_config(), timeout=5) as client:
            while True:
                ready = [
                    n.metadata.name
                    for n in client.nodes().list().items
                    if is_true(n.status.conditions, NODE_READY)
                ]
                if len(ready) >= count:
                    return
                for comp in self.components:
                    comp.check_alive()  # fail fast, with the component log
                if time.monotonic() > deadline:
                    raise process.ComponentError(
                        f"only {len(ready)} of {count} nodes Ready: {ready}"
                    )
                time.sleep(0.05)

    def _workers(self) -> list[tuple[str, str, list[str]]]:
        def server(name: str) -> list[str]:
            return self.identities.component_flags(name, self.server)

        flags = self.config.extra_component_flags
        cidrs = [
            *("--cluster-cidr", self.config.cluster_cidr),
            *("--service-cluster-ip-range", self.config.service_cidr),
        ]
        out = [
            (
                numbered("controller-manager", i),
                "controllers.main",
                [
                    *server("controller-manager"),
                    "--allocate-node-cidrs",
                    *cidrs,
                    *flags.get("controller-manager", []),
                ],
            )
            for i in range(self.config.controller_managers)
        ]
        out += [
            (
                numbered("scheduler", i),
                "scheduler.main",
                [*server("scheduler"), *flags.get("scheduler", [])],
            )
            for i in range(self.config.schedulers)
        ]
        if not hostnet.service_proxy_unavailable():
            out.append(("proxy", "proxy.main", [*server("proxy"), *cidrs, *self._proxy_table()]))
        for node in self.node_names:
            out.append(
                (
                    f"kubelet-{node}",
                    "kubelet.main",
                    [
                        *("--apiserver", self.server),
                        *self.identities.kubelet_flags(node),
                        "--node-name",
                        node,
                        "--root-dir",
                        str(self.data_dir / "nodes" / node),
                        # `pinnace down` stops the pods too; `up` restarts them.
                        "--kill-pods-on-exit",
                        *flags.get("kubelet", []),
                    ],
                )
            )
        if self.config.hollow_nodes:
            out.append((HOLLOW_COMPONENT, "kubelet.main", self._hollow_flags()))
        return out

    def _hollow_flags(self) -> list[str]:
        """The hollow fleet: ``hollow_nodes`` nodes in one process, as the admin
        (Identities.hollow_nodes_flags), its state under ``<data dir>/hollow-nodes``."""
        return [
            *("--apiserver", self.server),
            *self.identities.hollow_nodes_flags(),
            *("--runtime", "hollow"),
            *("--nodes", str(self.config.hollow_nodes)),
            *("--node-name-prefix", HOLLOW_PREFIX),
            *("--root-dir", str(self.data_dir / HOLLOW_COMPONENT)),
            # Kubernetes' default: 30,000 hollow pods resync 500/s, not 3,000/s.
            *("--sync-frequency", "60"),
            "--kill-pods-on-exit",
            *self.config.extra_component_flags.get(HOLLOW_COMPONENT, []),
        ]

    def _proxy_table(self) -> list[str]:
        return ["--nft-table", proxy_table(self.data_dir)]

    def _launch(self, comp: process.Component) -> None:
        comp.start()
        self.components.append(comp)

    def check(self) -> list[str]:
        """Names of components that have exited."""
        dead = [c.name for c in self.components if not c.running()]
        dead += [
            "etcd" if i == 0 else m.name for i, m in enumerate(self.etcd_members) if not m.running()
        ]
        return dead

    def stop(self) -> None:
        """Stop components in reverse start order, then etcd; then remove
        what the kubelets and the proxy made in the host's network (the
        proxy leaves its rules when it stops, as kube-proxy does)."""
        for comp in reversed(self.components):
            comp.stop()
        self.components.clear()
        for item in cleanup_network(self.data_dir):
            log.info("removed %s", item)
        for member in self.etcd_members:
            member.stop()
        self.etcd_members = []
        self.etcd = None


def numbered(name: str, index: int) -> str:
    """The name of the ``index``-th (from 0) of several: ``scheduler``, ``scheduler-2``..."""
    return name if index == 0 else f"{name}-{index + 1}"


def proxy_table(data_dir: Path) -> str:
    """The nftables table of the cluster in ``data_dir`` (another may run beside it)."""
    suffix = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]
    return f"{hostnet.NFT_TABLE}_{suffix}"


def cleanup_network(data_dir: Path) -> list[str]:
    """Remove what the cluster in ``data_dir`` made in the host's network:
    its kubelets' pod namespaces, bridges and routes, and its proxy's table,
    bridge and routes (and its kubelets' cgroups); what was removed. For a
    stop, and after a crash (``pinnace down`` of a cluster that is not running)."""
    data_dir = data_dir.resolve()
    removed = cleanup_cgroups(data_dir)
    try:
        net = json.loads((data_dir / NETWORK_FILE).read_text())
    except (OSError, ValueError):
        return removed
    nodes_dir = data_dir / "nodes"
    for root in sorted(nodes_dir.iterdir()) if nodes_dir.is_dir() else []:
        removed += hostnet.cleanup_node(hostnet.node_identity(root.name, root))
    if not hostnet.service_proxy_unavailable() and _available("proxy.main"):
        cleanup = process.Component(
            "proxy-cleanup",
            "proxy.main",
            [
                "--cleanup",
                *("--cluster-cidr", net["cluster_cidr"]),
                *("--service-cluster-ip-range", net["service_cidr"]),
                *("--nft-table", proxy_table(data_dir)),
            ],
            log_file=data_dir / "logs" / "proxy.log",
        )
        offset = cleanup.log_file.stat().st_size if cleanup.log_file.exists() else 0
        cleanup.run_to_end(timeout=30)
        tail = cleanup.log_file.read_text(errors="replace")[offset:]
        removed += [
            line.split("removed ", 1)[1] for line in tail.splitlines() if "removed " in line
        ]
    return removed
