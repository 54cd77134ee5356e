"""A cluster whose parts are on different machines, set up the way the
README's "A multi-machine cluster" section says, step by step, on a
``NetLab`` (network namespaces on one virtual switch):

* ``etcd-1..3``: one etcd member each (peers and clients over TLS);
* ``cp``: the apiserver, the scheduler and the controller-manager;
* ``worker-1..N``: one kubelet and one service proxy each, with its own address.

The certificates come from ``pinnace certs`` (step 0), every flag is the
README's, with the tests' short timings added. Pod routes between the
workers are step 6's static routes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pinnace.client import Client
from pinnace.client.config import ClientConfig, load_config
from pinnace.localcluster.etcd import EtcdServer, EtcdTLS
from pinnace.localcluster.process import Component, ComponentError
from pinnace.machinery.pki import ClusterPKI
from tests.integration.conftest import FAST_CLUSTER_FLAGS
from tests.integration.partition.netlab import Machine, NetLab

CLUSTER_CIDR = "10.248.0.0/16"
SERVICE_CIDR = "10.116.0.0/16"
GRPC_PORT, REST_PORT = 6443, 6444
ETCD_CLIENT_PORT, ETCD_PEER_PORT = 2379, 2380
KUBELET_PORT = 10250
# Pods tolerate an unreachable or not-ready node this long (Kubernetes: 300 s).
TOLERATION_SECONDS = 2


class ApartCluster:
    """Start, reach and stop the cluster; see the module docstring."""

    def __init__(self, base: Path, lab: NetLab, *, workers: int = 3) -> None:
        self.base = base
        self.lab = lab
        self.etcd_machines = [lab.add(f"etcd-{i}") for i in range(1, 4)]
        self.cp = lab.add("cp")
        self.workers = [lab.add(f"worker-{i}") for i in range(1, workers + 1)]
        self.pki_dir = base / "pki"
        self.pki = ClusterPKI(self.pki_dir)
        self.etcd: list[EtcdServer] = []
        self.components: dict[str, Component] = {}

    # ---- addresses ----

    @property
    def server(self) -> str:
        return f"{self.cp.address}:{GRPC_PORT}"

    @property
    def etcd_servers(self) -> str:
        return ",".join(f"{m.address}:{ETCD_CLIENT_PORT}" for m in self.etcd_machines)

    @property
    def etcd_tls(self) -> EtcdTLS:
        """etcd's pairs from step 0; the apiserver's etcd client pair."""
        return EtcdTLS.of(self.pki)

    def kubeconfig(self, identity: str) -> Path:
        return self.pki_dir / "kubeconfigs" / f"{identity}.kubeconfig"

    def client_config(self) -> ClientConfig:
        """The admin's, from the kubeconfig ``pinnace certs`` wrote (step 7)."""
        return load_config(kubeconfig=self.kubeconfig("admin"))

    @property
    def cli_args(self) -> list[str]:
        """The pinnace CLI's flags that reach the cluster as its admin (step 7)."""
        return ["--kubeconfig", str(self.kubeconfig("admin"))]

    def worker(self, node: str) -> Machine:
        return next(m for m in self.workers if m.name == node)

    # ---- steps ----

    def start(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        self._certs()
        self._etcd(deadline)
        self._apiserver(deadline)
        self._control_plane()
        for machine in self.workers:
            self._kubelet(machine)
            self._proxy(machine)
        self._wait_nodes_ready(deadline)
        self._pod_routes(deadline)

    def _certs(self) -> None:
        """Step 0: ``pinnace certs``."""
        argv = [
            *("--dir", str(self.pki_dir), "--server", self.server),
            *("--rest-server", f"https://{self.cp.address}:{REST_PORT}"),
            *("--apiserver-ip", self.cp.address),
        ]
        for m in self.etcd_machines:
            argv += ["--etcd-ip", m.address]
        for m in self.workers:
            argv += ["--node", m.name]
        subprocess.run(
            [str(Path(sys.executable).parent / "pinnace"), "certs", *argv],
            check=True,
            capture_output=True,
        )

    def _etcd(self, deadline: float) -> None:
        """Step 1: three members, TLS with client certificates required."""
        tls = self.etcd_tls
        peers = ",".join(
            f"{m.name}=https://{m.address}:{ETCD_PEER_PORT}" for m in self.etcd_machines
        )
        for m in self.etcd_machines:
            member = EtcdServer(
                self.base / m.name,
                host=m.address,
                client_port=ETCD_CLIENT_PORT,
                peer_port=ETCD_PEER_PORT,
                name=m.name,
                heartbeat_interval_ms=50,
                election_timeout_ms=500,
                log_file=self.base / "logs" / f"{m.name}.log",
                tls=tls,
                initial_cluster=peers,
                netns=m.netns,
            )
            self.etcd.append(member.start())
        for member in self.etcd:
            member.wait_ready(max(1.0, deadline - time.monotonic()))

    def _apiserver(self, deadline: float) -> None:
        """Step 2, with etcd's and the kubelets' TLS of the last paragraph."""
        pki = self.pki
        api = self._run(
            "apiserver",
            "apiserver.main",
            self.cp,
            *("--etcd-servers", self.etcd_servers),
            *("--listen", self.server, "--rest-listen", f"{self.cp.address}:{REST_PORT}"),
            *("--tls-cert-file", str(pki.apiserver.cert)),
            *("--tls-private-key-file", str(pki.apiserver.key)),
            *("--client-ca-file", str(pki.ca.cert)),
            *("--etcd-cafile", str(pki.ca.cert)),
            *("--etcd-certfile", str(pki.apiserver_etcd_client.cert)),
            *("--etcd-keyfile", str(pki.apiserver_etcd_client.key)),
            *("--kubelet-certificate-authority", str(pki.ca.cert)),
            *("--kubelet-client-certificate", str(pki.apiserver_kubelet_client.cert)),
            *("--kubelet-client-key", str(pki.apiserver_kubelet_client.key)),
            *("--service-cluster-ip-range", SERVICE_CIDR),
            *("--default-not-ready-toleration-seconds", str(TOLERATION_SECONDS)),
            *("--default-unreachable-toleration-seconds", str(TOLERATION_SECONDS)),
            *FAST_CLUSTER_FLAGS["apiserver"],
        )
        credentials = self.client_config().channel_credentials()
        api.wait_serving(self.server, max(1.0, deadline - time.monotonic()), credentials)

    def _control_plane(self) -> None:
        """Step 3 (and step 5's controller-manager flags)."""
        self._run(
            "scheduler",
            "scheduler.main",
            self.cp,
            *("--kubeconfig", str(self.kubeconfig("scheduler"))),
            *FAST_CLUSTER_FLAGS["scheduler"],
        )
        self._run(
            "controller-manager",
            "controllers.main",
            self.cp,
            *("--kubeconfig", str(self.kubeconfig("controller-manager"))),
            *("--apiserver", self.server),
            *("--allocate-node-cidrs", "--cluster-cidr", CLUSTER_CIDR),
            *("--service-cluster-ip-range", SERVICE_CIDR),
            *FAST_CLUSTER_FLAGS["controller-manager"],
        )

    def _kubelet(self, m: Machine) -> None:
        """Step 4: the machine's own address, its serving pair."""
        serving = self.pki.kubelet_serving(m.name)
        self._run(
            f"kubelet-{m.name}",
            "kubelet.main",
            m,
            *("--kubeconfig", str(self.kubeconfig(f"kubelet-{m.name}"))),
            *("--apiserver", self.server, "--node-name", m.name),
            *("--root-dir", str(self.base / m.name)),
            *("--node-ip", m.address, "--listen", f"{m.address}:{KUBELET_PORT}"),
            *("--tls-cert-file", str(serving.cert)),
            *("--tls-private-key-file", str(serving.key)),
            *("--client-ca-file", str(self.pki.ca.cert)),
            "--kill-pods-on-exit",
            *FAST_CLUSTER_FLAGS["kubelet"],
        )

    def _proxy(self, m: Machine) -> None:
        """Step 5: the service proxy, NodePorts on the machine's address."""
        self._run(
            f"proxy-{m.name}",
            "proxy.main",
            m,
            *("--kubeconfig", str(self.kubeconfig("proxy")), "--apiserver", self.server),
            *("--cluster-cidr", CLUSTER_CIDR, "--service-cluster-ip-range", SERVICE_CIDR),
            *("--nodeport-addresses", m.address),
        )

    def _pod_routes(self, deadline: float) -> None:
        """Step 6: on each worker, a route to every other worker's podCIDR."""
        with Client(config=self.client_config(), timeout=5) as client:
            cidrs: dict[str, str] = {}
            while len(cidrs) < len(self.workers):
                cidrs = {
                    n.metadata.name: n.spec.pod_cidr
                    for n in client.nodes().list().items
                    if n.spec.pod_cidr
                }
                if time.monotonic() > deadline:
                    raise ComponentError(f"nodes without a podCIDR: {cidrs}")
                time.sleep(0.05)
        for m in self.workers:
            for other in self.workers:
                if other is not m:
                    self.lab.route(m, cidrs[other.name], other)

    def _run(self, name: str, module: str, machine: Machine, *args: str) -> Component:
        comp = Component(
            name, module, args, log_file=self.base / "logs" / f"{name}.log", netns=machine.netns
        )
        self.components[name] = comp.start()
        return comp

    def _wait_nodes_ready(self, deadline: float) -> None:
        with Client(config=self.client_config(), timeout=5) as client:
            while True:
                for comp in self.components.values():
                    comp.check_alive()
                ready = [
                    n.metadata.name
                    for n in client.nodes().list().items
                    if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)
                ]
                if len(ready) == len(self.workers):
                    return
                if time.monotonic() > deadline:
                    raise ComponentError(f"only {ready} of {len(self.workers)} nodes Ready")
                time.sleep(0.1)

    def stop(self) -> None:
        """Every component (kubelets first: they stop their pods), then etcd."""
        for comp in reversed(list(self.components.values())):
            comp.stop()
        self.components.clear()
        for member in self.etcd:
            member.stop()
        self.etcd.clear()
