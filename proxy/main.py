"""pinnace-proxy: spreads connections to Services over their ready endpoints (nftables).

pinnace-proxy --apiserver 127.0.0.1:6443 [--cluster-cidr 10.244.0.0/16]
    [--service-cluster-ip-range 10.96.0.0/12] [--nodeport-addresses 127.0.0.0/8]
    [--min-sync-period 100ms] [--health-listen 127.0.0.1:10256]
pinnace-proxy --cleanup [--cluster-cidr ...] [--service-cluster-ip-range ...]

One per machine, like kube-proxy in nftables mode. It watches Services and
EndpointSlices and keeps the nftables table ``ip pinnace`` equal to what
they say (rules.py: ClusterIP:port and NodePort DNAT to a random ready
endpoint, reject when there is none, masquerade where replies would
otherwise miss the host), replaced in one transaction per sync (app.py).
At start it adds the safety routes (routes.py): blackholes for the whole
cluster and service CIDRs, and the service CIDR's route for the host's own
connections. Starting again replaces whatever an earlier (crashed) proxy
left; nothing needs cleaning first.

``--nodeport-addresses``: NodePorts answer on the machine's own addresses
inside these CIDRs (Kubernetes' flag). The default, ``127.0.0.0/8``, keeps
NodePorts on loopback, where this machine's nodes live; a shared machine
does not open ports on its public interfaces unasked. ``0.0.0.0/0`` means
every local address (Kubernetes' default when the flag is empty); on
several machines give the node's address.

On SIGTERM / SIGINT the proxy exits and leaves its rules and routes in
place, as kube-proxy does: Services keep working until a proxy starts
again. ``--cleanup`` removes the table, the routes and the ``pinnacesvc``
bridge, then exits 0 (``pinnace down`` runs it for its cluster).

Needs root and the ``nft`` and ``ip`` commands; without them it logs why
and exits 1. The health service (``--health-listen``) says SERVING once the
caches have synced and the first table is in the kernel.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable
from typing import Any

from pinnace.client.aio import AsyncClient
from pinnace.client.informer import Informer
from pinnace.machinery import hostnet
from pinnace.machinery.duration import parse_duration
from pinnace.machinery.flags import Parser, add_bool_flag, add_kubeconfig_flag, ipv4_cidr
from pinnace.machinery.health import HealthEndpoint
from pinnace.machinery.logging_setup import setup_logging
from proxy import nft, routes
from proxy.app import Proxier
from proxy.rules import ProxyConfig

log = logging.getLogger("proxy")

LOG_LEVELS = ("debug", "info", "warning", "error")
DEFAULT_NODEPORT_ADDRESSES = "127.0.0.0/8"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = Parser(prog="pinnace-proxy", description=(__doc__ or "").splitlines()[0])
    p.add_argument(
        "--apiserver", default="", help="apiserver endpoint(s) host:port, comma-separated"
    )
    add_kubeconfig_flag(p)
    p.add_argument(
        "--cluster-cidr",
        type=ipv4_cidr(),
        default=ipaddress.IPv4Network("10.244.0.0/16"),
        help="the pods' range (default %(default)s)",
    )
    p.add_argument(
        "--service-cluster-ip-range",
        type=ipv4_cidr(),
        default=ipaddress.IPv4Network("10.96.0.0/12"),
        help="the Services' ClusterIP range (default %(default)s)",
    )
    p.add_argument(
        "--nodeport-addresses",
        type=cidr_list,
        default=cidr_list(DEFAULT_NODEPORT_ADDRESSES),
        help="comma-separated IPs/CIDRs of the local addresses NodePorts answer on "
        f"(default {DEFAULT_NODEPORT_ADDRESSES}; 0.0.0.0/0: every local address)",
    )
    p.add_argument(
        "--min-sync-period",
        type=seconds(allow_zero=True),
        default=0.1,
        help="apply changes at most this often: seconds or a duration such as 100ms (default 0.1)",
    )
    p.add_argument(
        "--sync-period",
        type=seconds(allow_zero=False),
        default=30.0,
        help="rewrite the rules at least this often (default 30s)",
    )
    p.add_argument(
        "--nft-table",
        type=table_name,
        default=hostnet.NFT_TABLE,
        help="the nftables table (ip family) the proxy owns (default %(default)s; a second "
        "cluster on the same machine needs its own, e.g. pinnace_b)",
    )
    add_bool_flag(
        p, "--cleanup", default=False, help="remove the proxy's table and routes, then exit"
    )
    p.add_argument(
        "--health-listen", default="", help="gRPC health service on host:port (default: off)"
    )
    p.add_argument("--log-level", default="info", choices=LOG_LEVELS, help="(default info)")
    args = p.parse_args(argv)
    if not args.cleanup and not args.apiserver:
        p.error("--apiserver is required (host:port[,host:port]) unless --cleanup is given")
    if args.cluster_cidr.overlaps(args.service_cluster_ip_range):
        p.error(
            f"--cluster-cidr {args.cluster_cidr} and --service-cluster-ip-range "
            f"{args.service_cluster_ip_range} overlap: pods and Services need separate ranges"
        )
    return args


def table_name(text: str) -> str:
    """An nftables table name with Pinnace's prefix (argparse type)."""
    if not re.fullmatch(r"pinnace[a-z0-9_]{0,24}", text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: must be 'pinnace' followed by at most 24 of a-z, 0-9 and _"
        )
    return text


def cidr_list(text: str) -> tuple[ipaddress.IPv4Network, ...]:
    """Comma-separated IPv4 addresses (as /32) and CIDRs, at least one."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError("give at least one IPv4 address or CIDR")
    return tuple(ipv4_cidr()(t if "/" in t else f"{t}/32") for t in items)


def seconds(*, allow_zero: bool) -> Callable[[str], float]:
    """A period: plain seconds (0.1) or a Go duration (100ms, 1m)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            try:
                value = parse_duration(text)
            except ValueError as e:
                raise argparse.ArgumentTypeError(
                    f"{text!r} is not seconds (0.1) or a duration (100ms): {e}"
                ) from None
        if value < 0 or (value == 0 and not allow_zero) or value != value:
            raise argparse.ArgumentTypeError(
                f"{text!r}: must be {'0 or more' if allow_zero else 'more than 0'} seconds"
            )
        return value

    return parse


def config_from(args: argparse.Namespace) -> ProxyConfig:
    return ProxyConfig(
        cluster_cidr=args.cluster_cidr,
        service_cidr=args.service_cluster_ip_range,
        nodeport_addresses=tuple(args.nodeport_addresses),
        table=args.nft_table,
    )


def unavailable() -> str:
    """Why the proxy cannot run here ("" when it can)."""
    if os.geteuid() != 0:
        return "not running as root (nftables rules and routes need it)"
    if shutil.which("ip") is None:
        return "the 'ip' command (iproute2) is not installed"
    return nft.unavailable()


async def cleanup(config: ProxyConfig) -> int:
    """--cleanup: remove the table and routes."""
    removed = []
    if await nft.delete_table(config.table):
        removed.append(f"nftables table ip {config.table}")
    link = routes.service_link(config.table)
    removed += await routes.remove(config.cluster_cidr, config.service_cidr, link)
    for item in removed:
        log.info("removed %s", item)
    if not removed:
        log.info("nothing to remove")
    return 0


async def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.cleanup:
        return await cleanup(config)
    try:
        await routes.ensure(
            config.cluster_cidr, config.service_cidr, routes.service_link(config.table)
        )
    except (hostnet.HostNetError, OSError) as e:
        log.error("cannot add the proxy's routes: %s", e)
        return 1
    health = HealthEndpoint(args.health_listen) if args.health_listen else None
    if health is not None:
        log.info("health service on port %d", await health.start())
    client = AsyncClient(args.apiserver, kubeconfig=args.kubeconfig)
    services = Informer(client, "services")
    slices = Informer(client, "endpointslices")
    proxier = Proxier(
        services=services.store,
        slices=slices.store,
        config=config,
        apply=nft.apply,
        min_sync_period=args.min_sync_period,
        sync_period=args.sync_period,
    )
    for inf in (services, slices):
        inf.add_handler(*proxier.handlers())
    tasks = [
        asyncio.create_task(inf.run(), name=f"informer-{inf.name}") for inf in (services, slices)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await _serve(proxier, (services, slices), health, stop)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if health is not None:
            await health.stop()
        await client.close()


async def _serve(
    proxier: Proxier,
    informers: tuple[Informer, Informer],
    health: HealthEndpoint | None,
    stop: asyncio.Event,
) -> int:
    """Wait for the caches, apply the first table, then sync until stopped."""
    synced = asyncio.ensure_future(asyncio.gather(*(i.wait_synced() for i in informers)))
    stopping = asyncio.ensure_future(stop.wait())
    waiters: list[asyncio.Future[Any]] = [synced, stopping]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    if stopping.done():
        synced.cancel()
        return 0
    log.info("caches synced: %d services, %d endpoint slices", *(len(i.store) for i in informers))
    proxier.mark_dirty()
    if health is not None:
        ready = asyncio.ensure_future(_serving_after_first_sync(proxier, health))
    work = asyncio.ensure_future(proxier.run())
    await asyncio.wait([work, stopping], return_when=asyncio.FIRST_COMPLETED)
    work.cancel()
    if health is not None:
        ready.cancel()
    await asyncio.gather(work, return_exceptions=True)
    if not stopping.done():
        stopping.cancel()
        log.error("the sync loop ended: %s", work.exception() if not work.cancelled() else "")
        return 1
    log.info("shutting down; rules and routes stay (pinnace-proxy --cleanup removes them)")
    return 0


async def _serving_after_first_sync(proxier: Proxier, health: HealthEndpoint) -> None:
    await proxier.first_applied.wait()
    log.info("first rules in table ip %s", proxier.config.table)
    await health.set_serving()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging(args.log_level)
    why = unavailable()
    if why:
        log.error("pinnace-proxy cannot run: %s", why)
        sys.exit(1)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
