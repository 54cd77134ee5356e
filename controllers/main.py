"""pinnace-controller-manager: every workload controller in one process.

pinnace-controller-manager --apiserver 127.0.0.1:6443
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from controllers.manager import run_manager
from controllers.nodeipam.plan import config_from_options
from controllers.registry import CONTROLLERS, enabled
from pinnace.machinery import eventloop
from pinnace.machinery.flags import Parser, add_bool_flag, add_kubeconfig_flag
from pinnace.machinery.health import HealthEndpoint
from pinnace.machinery.logging_setup import setup_logging
from pinnace.machinery.metrics_http import serve_metrics

log = logging.getLogger("controllers")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = Parser(prog="pinnace-controller-manager", description=__doc__.splitlines()[0])
    p.add_argument(
        "--apiserver", required=True, help="apiserver address(es), host:port[,host:port]"
    )
    add_kubeconfig_flag(p)
    p.add_argument(
        "--controllers", default="*", help='controllers to run: "*", "-name" drops, "name" adds'
    )
    add_bool_flag(p, "--leader-elect", default=True, help="campaign for a Lease")
    p.add_argument("--leader-elect-lease-duration", type=float, default=15.0)
    p.add_argument("--leader-elect-renew-deadline", type=float, default=10.0)
    p.add_argument("--leader-elect-retry-period", type=float, default=2.0)
    p.add_argument("--health-listen", default="127.0.0.1:0", help="gRPC health endpoint host:port")
    p.add_argument(
        "--metrics-listen", default="", help="serve /metrics on host:port (default: off)"
    )
    p.add_argument("--log-level", default="info")
    p.add_argument(
        "--job-pod-failure-backoff",
        type=float,
        default=10.0,
        help="seconds before the first replacement of a failed Job pod, doubling (default 10)",
    )
    p.add_argument(
        "--job-pod-failure-backoff-max",
        type=float,
        default=600.0,
        help="cap of the Job pod failure backoff in seconds (default 600)",
    )
    for name in sorted(CONTROLLERS):
        flag = name.replace("_", "-")
        p.add_argument(
            f"--concurrent-{flag}-syncs",
            type=int,
            default=0,
            help=f"workers of the {name} controller",
        )
    _node_flags(p)
    _ipam_flags(p)
    _endpointslice_flags(p)
    args = p.parse_args(argv)
    if args.allocate_node_cidrs or args.cluster_cidr:
        try:
            config_from_options(args)
        except ValueError as e:
            p.error(str(e))
    return args


def _node_flags(p: argparse.ArgumentParser) -> None:
    """Flags of the node lifecycle, taint eviction and pod GC controllers."""
    p.add_argument(
        "--node-monitor-grace-period",
        type=float,
        default=50.0,
        help="seconds without a heartbeat before a node is Unknown",
    )
    p.add_argument(
        "--node-startup-grace-period",
        type=float,
        default=60.0,
        help="the same for a node that never reported Ready",
    )
    p.add_argument(
        "--node-monitor-period",
        type=float,
        default=5.0,
        help="how often held-back node work is retried",
    )
    p.add_argument(
        "--node-eviction-rate",
        type=float,
        default=0.1,
        help="nodes per second per healthy zone tainted for eviction",
    )
    p.add_argument(
        "--secondary-node-eviction-rate",
        type=float,
        default=0.01,
        help="the same in a partially disrupted large zone",
    )
    p.add_argument(
        "--unhealthy-zone-threshold",
        type=float,
        default=0.55,
        help="fraction of not-ready nodes (at least 3) making a zone unhealthy",
    )
    p.add_argument(
        "--large-cluster-size-threshold",
        type=int,
        default=50,
        help="zones larger than this keep evicting (slowly) when unhealthy",
    )
    p.add_argument(
        "--terminated-pod-gc-threshold",
        type=int,
        default=12500,
        help="terminated pods kept before the oldest are deleted (0: no limit)",
    )
    p.add_argument(
        "--pod-gc-period", type=float, default=20.0, help="seconds between pod garbage collections"
    )


def _ipam_flags(p: argparse.ArgumentParser) -> None:
    """Flags of the node IPAM controller (Kubernetes' names and defaults)."""
    add_bool_flag(
        p,
        "--allocate-node-cidrs",
        default=False,
        help="give every Node a spec.podCIDR from --cluster-cidr (runs nodeipam)",
    )
    p.add_argument("--cluster-cidr", default="", help="the pods' range, e.g. 10.244.0.0/16")
    p.add_argument(
        "--service-cluster-ip-range",
        default="",
        help="the Services' range; node ranges overlapping it are not handed out",
    )
    p.add_argument(
        "--node-cidr-mask-size",
        type=int,
        default=None,
        help="prefix length of each node's range (default 24 for IPv4, 64 for IPv6)",
    )
    for family in ("ipv4", "ipv6"):
        p.add_argument(
            f"--node-cidr-mask-size-{family}",
            type=int,
            default=None,
            help=f"--node-cidr-mask-size for an {family.replace('ip', 'IP')} cluster CIDR",
        )


def _endpointslice_flags(p: argparse.ArgumentParser) -> None:
    """Flags of the EndpointSlice controller (Kubernetes' names and defaults)."""
    p.add_argument(
        "--concurrent-service-endpoint-syncs",
        dest="concurrent_endpointslice_syncs",
        type=int,
        default=0,
        help="workers of the endpointslice controller (default 5)",
    )
    p.add_argument(
        "--max-endpoints-per-slice",
        type=_endpoints_per_slice,
        default=100,
        help="endpoints in one EndpointSlice, 1 to 1000 (default 100)",
    )


def _endpoints_per_slice(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return value


def controllers_to_run(args: argparse.Namespace) -> list[str]:
    """--controllers, less nodeipam unless --allocate-node-cidrs (as
    Kubernetes' node-ipam-controller, which does nothing without it)."""
    names = enabled(args.controllers)
    if "nodeipam" in names and not args.allocate_node_cidrs:
        names.remove("nodeipam")
        if args.controllers.strip() != "*":
            log.info("nodeipam not started: --allocate-node-cidrs is false")
    return names


async def run(args: argparse.Namespace) -> int:
    names = controllers_to_run(args)
    health = HealthEndpoint(args.health_listen)
    port = await health.start()
    log.info("health endpoint on port %d", port)
    serve_metrics(args.metrics_listen)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(run_manager(args, names))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    await health.set_serving()
    try:
        await task
    except asyncio.CancelledError:
        log.info("shutting down")
        return 0
    finally:
        await health.stop()
    return 1  # leadership lost


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging(args.log_level)
    sys.exit(eventloop.run(run(args)))


if __name__ == "__main__":
    main()
