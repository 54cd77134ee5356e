"""The proxy's routes: no packet for a pod or Service address leaves the
machine, and the host can still reach a ClusterIP.

``ensure`` (at every start; ``ip route replace``, so it also takes over
what a crashed proxy left) adds, all with protocol ``hostnet.ROUTE_PROTOCOL``:

* ``blackhole <cluster CIDR> metric 4000`` and ``blackhole <service CIDR>
  metric 4000``: a packet for an address in either range that nothing more
  specific claims is dropped here instead of following the default route
  off the machine. Each node bridge's own route (its podCIDR) is more
  specific and wins.
* ``<service CIDR> dev pinnacesvc src 127.0.0.1 metric 0``, through an
  empty bridge ``pinnacesvc`` (no ports: what is sent there goes nowhere).
  Why not only the blackhole: a host process connecting to a ClusterIP
  needs a route *before* nat-output can DNAT the packet, and a blackhole
  route makes ``connect()`` fail with EINVAL at that lookup. With this
  route the lookup succeeds with source 127.0.0.1, nat-output DNATs to an
  endpoint, the kernel routes the packet again to the endpoint's bridge
  (which has route_localnet=1, as the kubelet sets it) and nat-postrouting
  masquerades it: the same path as a NodePort on 127.0.0.1. A packet for
  a ClusterIP without rules is rejected by the filter chains (rules.py) or,
  at worst, dropped on ``pinnacesvc``. Same prefix, lower metric: while
  ``pinnacesvc`` exists this route wins over the blackhole; without it the
  blackhole is still there.

``remove`` (``pinnace-proxy --cleanup``) deletes exactly these (and the
bridge); other Pinnace routes (the kubelet's) are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
from pathlib import Path

from pinnace.machinery import hostnet

__all__ = ["BLACKHOLE_METRIC", "SERVICE_LINK", "ensure", "remove", "route_specs", "service_link"]

log = logging.getLogger(__name__)

SERVICE_LINK = "pinnacesvc"
# Above the service route's metric (0), as the kubelet's podCIDR blackholes.
BLACKHOLE_METRIC = 4000
_PROTO = ("proto", str(hostnet.ROUTE_PROTOCOL))


def service_link(table: str) -> str:
    """The empty bridge of the proxy that owns nftables table ``table``:
    ``pinnacesvc`` for the default table, else one of its own (a second
    cluster's proxy on this machine)."""
    if table == hostnet.NFT_TABLE:
        return SERVICE_LINK
    return "pinnacesv" + hashlib.sha256(table.encode()).hexdigest()[:6]


def route_specs(
    cluster_cidr: ipaddress.IPv4Network,
    service_cidr: ipaddress.IPv4Network,
    link: str = SERVICE_LINK,
) -> list[list[str]]:
    """The ``ip route`` arguments (after replace/delete) of each route."""
    metric = ("metric", str(BLACKHOLE_METRIC))
    return [
        ["blackhole", str(cluster_cidr), *metric, *_PROTO],
        ["blackhole", str(service_cidr), *metric, *_PROTO],
        [str(service_cidr), "dev", link, "src", "127.0.0.1", "metric", "0", *_PROTO],
    ]


async def ensure(
    cluster_cidr: ipaddress.IPv4Network,
    service_cidr: ipaddress.IPv4Network,
    link: str = SERVICE_LINK,
) -> None:
    """Add (or replace) the bridge and routes; HostNetError if that fails."""
    if not await asyncio.to_thread(hostnet.link_exists, link):
        await hostnet.arun("ip", "link", "add", link, "type", "bridge")
    await asyncio.to_thread(_sysctl, f"net/ipv4/conf/{link}/route_localnet", "1")
    with contextlib.suppress(OSError):  # no IPv6 on this machine: nothing to silence
        await asyncio.to_thread(_sysctl, f"net/ipv6/conf/{link}/disable_ipv6", "1")
    await hostnet.arun("ip", "link", "set", link, "up")
    for spec in route_specs(cluster_cidr, service_cidr, link):
        await hostnet.arun("ip", "route", "replace", *spec)
    log.info(
        "routes: blackhole %s and %s, %s via %s",
        cluster_cidr,
        service_cidr,
        service_cidr,
        link,
    )


async def remove(
    cluster_cidr: ipaddress.IPv4Network,
    service_cidr: ipaddress.IPv4Network,
    link: str = SERVICE_LINK,
) -> list[str]:
    """Delete the routes and the bridge; what was there."""
    removed = []
    for spec in route_specs(cluster_cidr, service_cidr, link):
        try:
            await hostnet.arun("ip", "route", "delete", *spec)
            removed.append("route " + " ".join(spec))
        except hostnet.HostNetError:
            pass  # not there
    if await asyncio.to_thread(hostnet.link_exists, link):
        await hostnet.arun("ip", "link", "delete", link, check=False)
        removed.append(f"link {link}")
    return removed


def _sysctl(path: str, value: str) -> None:
    Path("/proc/sys", path).write_text(value)
