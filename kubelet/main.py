"""pinnace-kubelet: runs the pods bound to one node as local processes.

pinnace-kubelet --apiserver 127.0.0.1:6443 --node-name node-1 --root-dir /var/lib/pinnace/node-1

With ``--runtime hollow --nodes N --node-name-prefix hollow-`` one process
runs N hollow nodes (hollow-000 … ; fleet.py), for scale tests.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import sys
from pathlib import Path

from kubelet.app import Kubelet
from kubelet.context import DEFAULT_SYNC_FREQUENCY, Config
from kubelet.fleet import HollowFleet, fleet_node_names
from kubelet.logs import DEFAULT_MAX_FILES, DEFAULT_MAX_SIZE
from kubelet.network import NetworkUnavailable
from pinnace.machinery.flags import (
    Parser,
    add_bool_flag,
    add_kubeconfig_flag,
    ipv4_cidr,
    positive_seconds,
)
from pinnace.machinery.logging_setup import setup_logging
from pinnace.machinery.metrics_http import serve_metrics
from pinnace.machinery.quantity import QuantityError, to_int

log = logging.getLogger("kubelet")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# Hollow nodes one process may run (--nodes): 1,000 use ~80 MB idle and
# ~830 MB holding 30,000 pods; far more would only exhaust memory.
MAX_FLEET_NODES = 10_000


def parse_labels(text: str) -> dict[str, str]:
    out = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f'label "{item}": expected key=value')
        out[key] = value
    return out


def parse_taints(text: str) -> list[tuple[str, str, str]]:
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        kv, sep, effect = item.rpartition(":")
        if not sep or effect not in TAINT_EFFECTS:
            raise argparse.ArgumentTypeError(
                f'taint "{item}": expected key[=value]:Effect with Effect one of {", ".join(TAINT_EFFECTS)}'
            )
        key, _, value = kv.partition("=")
        out.append((key, value, effect))
    return out


def quantity_bytes(text: str) -> int:
    try:
        return to_int(text)
    except (QuantityError, ValueError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_ips(value: str) -> list[str]:
    """Comma-separated IPv4 addresses."""
    out = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            out.append(str(ipaddress.IPv4Address(part)))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not an IPv4 address") from None
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = Parser(prog="pinnace-kubelet", description=__doc__.splitlines()[0])
    p.add_argument(
        "--apiserver", default="127.0.0.1:6443", help="apiserver endpoints host:port[,host:port]"
    )
    add_kubeconfig_flag(p)
    p.add_argument(
        "--tls-cert-file", type=Path, default=None, help="serve --listen over HTTPS with this pair"
    )
    p.add_argument("--tls-private-key-file", type=Path, default=None, help="key of --tls-cert-file")
    p.add_argument(
        "--client-ca-file",
        type=Path,
        default=None,
        help="require client certificates of this CA on --listen; only system:masters is served",
    )
    p.add_argument(
        "--node-name", default="", help="the Node this kubelet registers and serves (one node)"
    )
    p.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="with --runtime hollow and --node-name-prefix: how many hollow nodes this "
        "process runs (default %(default)s)",
    )
    p.add_argument(
        "--node-name-prefix",
        default="",
        help="run --nodes hollow nodes named <prefix>0 … <prefix><N-1> (zero-padded), "
        "instead of one --node-name",
    )
    p.add_argument(
        "--root-dir", required=True, type=Path, help="where pod directories, logs and state live"
    )
    p.add_argument(
        "--lease-period",
        type=float,
        default=10.0,
        help="seconds between Lease renewals (default %(default)s)",
    )
    p.add_argument(
        "--node-status-period",
        type=float,
        default=10.0,
        help="seconds between node status checks (written on change)",
    )
    p.add_argument("--capacity-cpu", default="", help="cpu capacity (default: the machine's cpus)")
    p.add_argument(
        "--capacity-memory", default="", help="memory capacity, e.g. 8Gi (default: the machine's)"
    )
    p.add_argument("--max-pods", type=int, default=110, help="pod capacity (default %(default)s)")
    p.add_argument(
        "--node-labels", type=parse_labels, default={}, help="extra node labels k=v,k2=v2"
    )
    p.add_argument(
        "--register-with-taints", type=parse_taints, default=[], help="taints key=value:Effect,..."
    )
    p.add_argument(
        "--crashloop-backoff-base",
        type=float,
        default=10.0,
        help="first restart delay in seconds (default %(default)s)",
    )
    p.add_argument(
        "--crashloop-backoff-max",
        type=float,
        default=300.0,
        help="restart delay cap in seconds (default %(default)s)",
    )
    p.add_argument(
        "--sync-retry-base",
        type=float,
        default=0.5,
        help="first retry delay in seconds of a failed pod sync (default %(default)s)",
    )
    p.add_argument(
        "--sync-retry-max",
        type=float,
        default=10.0,
        help="retry delay cap in seconds of a failed pod sync (default %(default)s)",
    )
    p.add_argument(
        "--sync-frequency",
        type=positive_seconds,
        default=DEFAULT_SYNC_FREQUENCY,
        help="seconds between level-triggered syncs of a pod with nothing to do "
        "(default %(default)s; Kubernetes' 60 for many pods, as hollow fleets)",
    )
    p.add_argument(
        "--runtime",
        choices=("process", "hollow"),
        default="process",
        help="process (default) or hollow (no processes)",
    )
    p.add_argument(
        "--listen",
        default="127.0.0.1:0",
        help="kubelet HTTP server host:port (port 0: any free port)",
    )
    p.add_argument(
        "--node-ip",
        default="127.0.0.1",
        help="the node's InternalIP (also the pods' IP on the host network)",
    )
    p.add_argument(
        "--pod-network",
        choices=("auto", "bridge", "host"),
        default="auto",
        help="bridge: each pod in its own network namespace with an IP from the node's "
        "podCIDR (needs root); host: pods share the node's network; auto (default): "
        "bridge when root, else host",
    )
    p.add_argument(
        "--pod-cidr",
        type=ipv4_cidr(30),
        default=None,
        help="the podCIDR to use while the Node has none (standalone; normally the "
        "controller-manager's node IPAM gives it)",
    )
    p.add_argument(
        "--cluster-domain",
        default="cluster.local",
        help="the cluster's DNS domain (default %(default)s)",
    )
    p.add_argument(
        "--cluster-dns",
        type=parse_ips,
        default=[],
        help="DNS server IPs of ClusterFirst pods, comma separated (default: the "
        "kubelet serves cluster DNS itself on its bridge's gateway address)",
    )
    p.add_argument(
        "--resolv-conf",
        type=Path,
        default=Path("/etc/resolv.conf"),
        help="the host resolv.conf: upstream servers and what dnsPolicy Default pods get",
    )
    p.add_argument(
        "--container-log-max-size",
        type=quantity_bytes,
        default=DEFAULT_MAX_SIZE,
        help="rotate a container log above this size (default 10Mi)",
    )
    p.add_argument(
        "--container-log-max-files",
        type=int,
        default=DEFAULT_MAX_FILES,
        help="log files kept per container instance (default %(default)s)",
    )
    p.add_argument(
        "--housekeeping-period",
        type=positive_seconds,
        default=10.0,
        help="seconds between log rotation checks",
    )
    p.add_argument(
        "--container-log-times-period",
        type=positive_seconds,
        default=1.0,
        help="seconds between samples of container log sizes, which date each log line"
        " for logs --timestamps and --since (default %(default)s)",
    )
    add_bool_flag(
        p,
        "--kill-pods-on-exit",
        help="stop every container when the kubelet stops (false: leave them running for the next kubelet)",
    )
    p.add_argument(
        "--metrics-listen", default="", help="serve /metrics on host:port (default: off)"
    )
    p.add_argument(
        "--local-volume-dir",
        type=Path,
        default=None,
        help="where node-local PersistentVolumes live (default <root-dir>/local-volumes); "
        "published as the Node annotation pinnace.io/local-volume-dir",
    )
    add_bool_flag(
        p,
        "--cgroups",
        default=True,
        help="enforce containers' memory and cpu limits in cgroups where writable"
        " (false: memory limits as RLIMIT_DATA, cpu limits not enforced)",
    )
    p.add_argument("--log-level", default="info", help="debug, info, warning or error")
    args = p.parse_args(argv)
    if args.crashloop_backoff_base <= 0 or args.crashloop_backoff_max < args.crashloop_backoff_base:
        p.error("need 0 < --crashloop-backoff-base <= --crashloop-backoff-max")
    if args.sync_retry_base <= 0 or args.sync_retry_max < args.sync_retry_base:
        p.error("need 0 < --sync-retry-base <= --sync-retry-max")
    error = check_node_flags(args)
    if error:
        p.error(error)
    return args


def check_node_flags(args: argparse.Namespace) -> str:
    """What is wrong with the flags that name the node(s), or ""."""
    if args.node_name and args.node_name_prefix:
        return "give --node-name (one node) or --node-name-prefix (a hollow fleet), not both"
    if not args.node_name and not args.node_name_prefix:
        return "--node-name is required (or --node-name-prefix with --runtime hollow)"
    if not 1 <= args.nodes <= MAX_FLEET_NODES:
        return (
            f"--nodes {args.nodes}: must be from 1 to {MAX_FLEET_NODES} (hollow nodes per process)"
        )
    if args.node_name and args.nodes != 1:
        return "--nodes needs --node-name-prefix (hollow nodes are named <prefix><index>)"
    if args.node_name_prefix and args.runtime != "hollow":
        return (
            "--node-name-prefix needs --runtime hollow: one process runs many nodes only "
            "when their containers are simulated"
        )
    return ""


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(
        node_name=args.node_name or args.node_name_prefix,
        root_dir=args.root_dir,
        apiserver=[s.strip() for s in args.apiserver.split(",") if s.strip()],
        kubeconfig=Path(args.kubeconfig) if args.kubeconfig else None,
        tls_cert_file=args.tls_cert_file,
        tls_private_key_file=args.tls_private_key_file,
        client_ca_file=args.client_ca_file,
        lease_period=args.lease_period,
        node_status_period=args.node_status_period,
        capacity_cpu=args.capacity_cpu,
        capacity_memory=args.capacity_memory,
        max_pods=args.max_pods,
        node_labels=args.node_labels,
        taints=args.register_with_taints,
        backoff_base=args.crashloop_backoff_base,
        backoff_max=args.crashloop_backoff_max,
        sync_retry_base=args.sync_retry_base,
        sync_retry_max=args.sync_retry_max,
        sync_frequency=args.sync_frequency,
        runtime=args.runtime,
        listen=args.listen,
        node_ip=args.node_ip,
        log_max_size=args.container_log_max_size,
        log_max_files=args.container_log_max_files,
        housekeeping_period=args.housekeeping_period,
        log_times_period=args.container_log_times_period,
        local_volume_dir=args.local_volume_dir,
        cgroups=args.cgroups,
        pod_network=args.pod_network,
        pod_cidr=str(args.pod_cidr or ""),
        cluster_domain=args.cluster_domain,
        cluster_dns=args.cluster_dns,
        resolv_conf=args.resolv_conf,
    )


async def run(args: argparse.Namespace) -> None:
    config = config_from_args(args)
    kubelet: Kubelet | HollowFleet
    if args.node_name_prefix:
        names = fleet_node_names(args.node_name_prefix, args.nodes)
        kubelet = HollowFleet(config, names, kill_pods_on_exit=args.kill_pods_on_exit)
    else:
        kubelet = Kubelet(config, kill_pods_on_exit=args.kill_pods_on_exit)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    starting = asyncio.create_task(kubelet.start())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([starting, stopped], return_when=asyncio.FIRST_COMPLETED)
    if starting.done() and starting.exception() is None:
        serve_metrics(args.metrics_listen)
        await stopped
    else:
        starting.cancel()
    log.info("shutting down")
    await kubelet.stop()
    error = starting.exception() if starting.done() and not starting.cancelled() else None
    if error is not None:
        raise error


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging(args.log_level)
    if hasattr(asyncio, "PidfdChildWatcher"):
        # exec probes and exec requests: a pidfd per child, not a thread.
        try:
            os.close(os.pidfd_open(os.getpid()))
            asyncio.set_child_watcher(asyncio.PidfdChildWatcher())
        except (OSError, AttributeError):
            pass
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        pass
    except NetworkUnavailable as e:
        log.error("%s", e)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
