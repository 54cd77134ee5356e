"""Who is who in a local cluster: its CA, the certificates of every
identity, and a kubeconfig per identity.

Under a data dir: ``pki/`` (pki.py's files), ``kubeconfig`` (the admin,
``kubernetes-admin`` in ``system:masters``) and ``kubeconfigs/<name>.kubeconfig``
for each component (``controller-manager``, ``scheduler``, ``proxy``,
``kubelet-<node>``), each with its own client certificate. LocalCluster
uses it, and so do the tests' apiservers, so everything they start is
authenticated and authorized as in a real cluster.
"""

from __future__ import annotations

from pathlib import Path

from pinnace.client.config import ClientConfig, load_config
from pinnace.localcluster.etcd import EtcdTLS
from pinnace.machinery import pki
from pinnace.machinery.kubeconfig import write_identity_kubeconfig

__all__ = ["HOLLOW_NODES", "KUBECONFIGS_DIR", "KUBECONFIG_FILE", "PKI_DIR", "Identities"]

PKI_DIR = "pki"
KUBECONFIG_FILE = "kubeconfig"
KUBECONFIGS_DIR = "kubeconfigs"
# The name of a hollow fleet's serving pair (hollow_nodes_flags).
HOLLOW_NODES = "hollow-nodes"


class Identities:
    """The PKI and kubeconfigs under ``data_dir`` for an apiserver serving
    gRPC on ``grpc_server`` and HTTPS on ``rest_address`` (host:port)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pki = pki.ClusterPKI(data_dir / PKI_DIR)
        self.kubeconfig = data_dir / KUBECONFIG_FILE
        self.grpc_server = ""
        self.rest_address = ""

    def write(self, grpc_server: str, rest_address: str, nodes: list[str]) -> None:
        """Make (or keep) the CA and every pair, and write the kubeconfigs
        for these addresses (they change with a restart on new ports)."""
        self.grpc_server, self.rest_address = grpc_server, rest_address
        pki.ensure_cluster_pki(self.pki.dir, nodes=nodes)
        self._write_kubeconfig(self.kubeconfig, self.pki.admin)
        for name in pki.COMPONENT_IDENTITIES:
            self._write_kubeconfig(self.component_kubeconfig(name), self.pki.client(name))
        for node in nodes:
            self.kubelet_kubeconfig(node)

    def _write_kubeconfig(self, path: Path, pair: pki.PairPaths) -> None:
        write_identity_kubeconfig(
            path,
            self.pki,
            pair,
            server=f"https://{self.rest_address}",
            grpc_server=self.grpc_server,
        )

    @property
    def apiserver_flags(self) -> list[str]:
        """An apiserver's flags: TLS on both listeners with the cluster's
        serving pair, client certificates of the cluster CA, its kubelet client."""
        return [
            *("--tls-cert-file", str(self.pki.apiserver.cert)),
            *("--tls-private-key-file", str(self.pki.apiserver.key)),
            *("--client-ca-file", str(self.pki.ca.cert)),
            *self.kubelet_client_flags,
        ]

    @property
    def kubelet_client_flags(self) -> list[str]:
        """An apiserver's flags that reach the kubelets (HTTPS, its pair)."""
        return [
            *("--kubelet-certificate-authority", str(self.pki.ca.cert)),
            *("--kubelet-client-certificate", str(self.pki.apiserver_kubelet_client.cert)),
            *("--kubelet-client-key", str(self.pki.apiserver_kubelet_client.key)),
        ]

    def kubelet_flags(self, node: str) -> list[str]:
        """Node ``node``'s kubelet flags: its identity (kubeconfig) and its
        endpoint's HTTPS, for the cluster CA's clients."""
        serving = self.pki.kubelet_serving(node)
        return [
            *("--kubeconfig", str(self.kubelet_kubeconfig(node))),
            *("--tls-cert-file", str(serving.cert)),
            *("--tls-private-key-file", str(serving.key)),
            *("--client-ca-file", str(self.pki.ca.cert)),
        ]

    def hollow_nodes_flags(self) -> list[str]:
        """The flags of a hollow fleet (``pinnace-kubelet --nodes N``): it acts
        for many nodes, which no node's identity may (the Node authorizer),
        so it runs as the admin; its endpoint's HTTPS pair is a node pair
        named ``hollow-nodes``."""
        pki.ensure_node_pairs(self.pki.dir, pki.ensure_ca(self.pki.dir), HOLLOW_NODES)
        serving = self.pki.kubelet_serving(HOLLOW_NODES)
        return [
            *("--kubeconfig", str(self.kubeconfig)),
            *("--tls-cert-file", str(serving.cert)),
            *("--tls-private-key-file", str(serving.key)),
            *("--client-ca-file", str(self.pki.ca.cert)),
        ]

    def kubelet_kubeconfig(self, node: str) -> Path:
        """The kubeconfig of node ``node``'s kubelet (user system:node:<node>),
        its pairs issued if missing: also for a kubelet added later."""
        pki.ensure_node_pairs(self.pki.dir, pki.ensure_ca(self.pki.dir), node)
        path = self.component_kubeconfig(f"kubelet-{node}")
        self._write_kubeconfig(path, self.pki.kubelet(node))
        return path

    def component_kubeconfig(self, name: str) -> Path:
        """The kubeconfig of one component (``controller-manager``,
        ``scheduler``, ``proxy``, ``kubelet-<node>``): its own identity."""
        return self.data_dir / KUBECONFIGS_DIR / f"{name}.kubeconfig"

    def component_flags(self, name: str, server: str = "") -> list[str]:
        """``--apiserver`` and ``--kubeconfig`` of component ``name``
        (``kubelet-<node>`` included), for ``server`` (default: the one the
        kubeconfigs were written for)."""
        if name.startswith("kubelet-"):
            path = self.kubelet_kubeconfig(name.removeprefix("kubelet-"))
        else:
            path = self.component_kubeconfig(name)
        return ["--apiserver", server or self.grpc_server, "--kubeconfig", str(path)]

    def client_config(self, server: str = "") -> ClientConfig:
        """How to reach the apiserver (``server``, default: the kubeconfigs')
        as the admin: gRPC with the admin kubeconfig's credentials."""
        return load_config(server or self.grpc_server, kubeconfig=self.kubeconfig)

    def cli_args(self, server: str = "") -> list[str]:
        """The pinnace CLI's flags that reach the apiserver as the admin."""
        return ["--server", server or self.grpc_server, "--kubeconfig", str(self.kubeconfig)]

    @property
    def etcd_tls(self) -> EtcdTLS:
        """etcd's TLS: client certificates of the cluster CA required."""
        return EtcdTLS.of(self.pki)

    @property
    def etcd_flags(self) -> list[str]:
        """An apiserver's flags that reach etcd (TLS, its client pair)."""
        tls = self.etcd_tls
        return [
            *("--etcd-cafile", str(tls.ca)),
            *("--etcd-certfile", str(tls.client.cert)),
            *("--etcd-keyfile", str(tls.client.key)),
        ]
