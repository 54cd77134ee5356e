"""pinnace certs: a multi-machine cluster's certificates and kubeconfigs.

    pinnace certs --dir /etc/pinnace/pki --server 10.0.0.1:6443 \\
        --rest-server https://10.0.0.1:6444 --apiserver-ip 10.0.0.1 \\
        --node worker-1 --node worker-2

makes (or keeps, when still fit) in --dir the cluster CA, the apiservers'
serving pair (loopback, the `kubernetes` names, and every --apiserver-ip /
--apiserver-dns), etcd's server and peer pairs (loopback, every
--apiserver-ip and --etcd-ip) and the apiservers' etcd
and kubelet client pairs, a client pair per identity (admin:
kubernetes-admin in system:masters; controller-manager, scheduler, proxy;
system:node:<name> in system:nodes per --node) and each kubelet's serving
pair (kubelet-<name>-serving), and writes one kubeconfig per identity under
<dir>/kubeconfigs/ for --server (gRPC) and --rest-server (HTTPS). Keys
and kubeconfigs are 0600. Copy to each machine only what runs there.
"""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path

from pinnace.machinery import pki
from pinnace.machinery.kubeconfig import write_identity_kubeconfig


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("certs", help="make a cluster's CA, certificates and kubeconfigs")
    p.add_argument("--dir", type=Path, required=True, help="where the PKI files go")
    p.add_argument(
        "--server", required=True, help="the apiservers' gRPC endpoints host:port[,host:port]"
    )
    p.add_argument(
        "--rest-server", required=True, help="the Kubernetes HTTP API, https://host:port"
    )
    p.add_argument("--node", action="append", default=[], help="a kubelet's node name")
    p.add_argument(
        "--apiserver-ip",
        action="append",
        default=[],
        type=_address,
        help="an address of an apiserver",
    )
    p.add_argument("--apiserver-dns", action="append", default=[], help="a name of an apiserver")
    p.add_argument(
        "--etcd-ip",
        action="append",
        default=[],
        type=_address,
        help="an address of an etcd member not on an apiserver's machine",
    )
    p.set_defaults(func=certs)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IP address, checked before anything is written."""
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an IPv4 or IPv6 address") from None


def certs(args: argparse.Namespace) -> int:
    files = pki.ensure_cluster_pki(
        args.dir,
        extra_dns=args.apiserver_dns,
        extra_ips=args.apiserver_ip,
        nodes=args.node,
        etcd_ips=args.etcd_ip,
    )
    out = args.dir / "kubeconfigs"
    identities = [*pki.COMPONENT_IDENTITIES, *(f"kubelet-{n}" for n in args.node)]
    for name in identities:
        path = write_identity_kubeconfig(
            out / f"{name}.kubeconfig",
            files,
            files.client(name),
            server=args.rest_server,
            grpc_server=args.server,
        )
        print(f"{name}: {path}")
    print(f"CA: {files.ca.cert}; apiserver serving pair: {files.apiserver.cert}, .key")
    return 0
