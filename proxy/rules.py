"""The proxy's nftables rules, rendered from Services and EndpointSlices (pure).

``render(services, slices, config)`` returns one nft script that replaces
the table ``ip pinnace`` in one transaction::

    add table ip pinnace        # so the delete below cannot fail
    delete table ip pinnace
    table ip pinnace { ... }    # the whole new table

The kernel applies a script atomically: a packet sees the old table or the
new one, never a mix. Conntrack keeps the NAT of every connection already
made, and nat chains only see a connection's first packet, so established
connections (to an endpoint that remains, or to one that went) go on
untouched by a resync. The same inputs give the same text, byte for byte:
the sync loop compares texts to skip writes that change nothing.

The table, as Kubernetes' nftables proxier lays it out (same chain roles,
our own names):

* ``services`` (jumped to from ``nat-prerouting``, pods' traffic, and
  ``nat-output``, the host's): ``ip daddr . meta l4proto . th dport`` looked
  up in the map ``service-ips`` (ClusterIP . protocol . port), and, for
  local addresses inside the set ``nodeport-ips`` (``--nodeport-addresses``),
  ``meta l4proto . th dport`` in ``service-nodeports``; a hit jumps to the
  port's chain ``svc-<hash>-<ns>/<name>/<proto>/<port>``. That chain marks
  the packet (``MASQUERADE_MARK``) and picks an endpoint with ``numgen
  random mod N``, so each of N endpoints gets 1/N of the new connections,
  and its chain ``ep-<hash>-<...>__<ip>/<port>`` DNATs to it.
* ``nat-postrouting`` masquerades marked packets whose source is loopback
  (the host's connections to a NodePort on 127.0.0.1 or to a ClusterIP,
  whose route gives them source 127.0.0.1; see routes.py) or in the cluster
  CIDR (a pod reaching a pod on its own bridge through a Service must get
  the reply back through the host, where conntrack undoes the DNAT), and
  those leaving through a non-Pinnace interface, to an endpoint on another
  machine (a NodePort's client elsewhere: the same reason).
* A service port without endpoints is in ``no-endpoint-services`` /
  ``no-endpoint-nodeports`` instead, looked up by ``service-endpoints-check``
  in filter chains hooked before DNAT (priority -110, DNAT is -100): TCP gets a
  reset, other protocols ICMP port unreachable, so a client fails at once
  instead of timing out.
* Safety: ``filter-forward`` drops what a Pinnace bridge (``pinnacebr*``)
  forwards out of a non-Pinnace interface to addresses outside the cluster
  and service CIDRs (so nothing of a pod leaves the machine but to another
  machine's pods; another cluster's bridges on this machine are not
  affected), and rejects
  (``filter-forward``, ``filter-output``, after DNAT) anything still
  addressed to the service CIDR: a ClusterIP no Service has, or a port a
  Service does not serve.

Chain names carry a hash of the service port's key (so they are unique
whatever the characters) and the key itself (so ``nft list table ip
pinnace`` reads); namespaces, names and port names are DNS labels, which
nft's identifiers accept.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from pinnace.api.core.v1 import service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.machinery import hostnet
from proxy.servicemap import Endpoint, ServicePortInfo, service_ports

__all__ = ["MASQUERADE_MARK", "ProxyConfig", "Ruleset", "render", "render_ports"]

# The packet mark that asks nat-postrouting to masquerade (kube-proxy's bit).
MASQUERADE_MARK = 0x4000
# Interfaces whose forwarded packets may only go to cluster and service addresses.
BRIDGE_PATTERN = hostnet.BRIDGE_PREFIX + "*"
# Forwarding between Pinnace's own interfaces (the node bridges of every
# cluster on this machine) stays on the machine and is never dropped here.
PINNACE_LINKS = hostnet.VETH_PREFIX + "*"
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


@dataclass(frozen=True)
class ProxyConfig:
    """What the rules depend on besides the API objects."""

    cluster_cidr: ipaddress.IPv4Network
    service_cidr: ipaddress.IPv4Network
    nodeport_addresses: tuple[ipaddress.IPv4Network, ...] = (LOOPBACK,)
    table: str = hostnet.NFT_TABLE


@dataclass(frozen=True)
class Ruleset:
    """A rendered script and what it holds (for logs)."""

    script: str
    service_ports: int = 0
    endpoints: int = 0
    without_endpoints: int = 0
    node_ports: int = 0
    counts: tuple[int, int, int, int] = field(init=False)

    def __post_init__(self) -> None:
        counts = (self.service_ports, self.endpoints, self.without_endpoints, self.node_ports)
        object.__setattr__(self, "counts", counts)


def render(
    services: Iterable[service_pb2.Service],
    slices: Iterable[endpointslice_pb2.EndpointSlice],
    config: ProxyConfig,
) -> Ruleset:
    """The nft script for these Services and EndpointSlices."""
    return render_ports(service_ports(services, slices), config)


def render_ports(ports: list[ServicePortInfo], config: ProxyConfig) -> Ruleset:
    """The nft script for these service ports (see the module docstring)."""
    with_eps = [p for p in ports if p.endpoints]
    without = [p for p in ports if not p.endpoints]
    body = [
        *_sets(config, with_eps, without),
        *_filter_chains(config),
        *_nat_chains(config),
    ]
    for p in with_eps:
        body += _service_chains(p)
    lines = [
        f"add table ip {config.table}",
        f"delete table ip {config.table}",
        f"table ip {config.table} {{",
        *body,
        "}",
    ]
    return Ruleset(
        script="\n".join(lines) + "\n",
        service_ports=len(with_eps),
        endpoints=sum(len(p.endpoints) for p in with_eps),
        without_endpoints=len(without),
        node_ports=sum(1 for p in ports if p.node_port),
    )


def chain_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def service_chain(p: ServicePortInfo) -> str:
    return f"svc-{chain_hash(p.key)}-{p.key}"


def endpoint_chain(p: ServicePortInfo, ep: Endpoint) -> str:
    key = f"{p.key}__{ep.ip}/{ep.port}"
    return f"ep-{chain_hash(key)}-{key}"


def _block(head: str, lines: Iterable[str]) -> list[str]:
    return [f"\t{head} {{", *(f"\t\t{line}" for line in lines), "\t}"]


def _elements(items: list[str]) -> list[str]:
    return [f"elements = {{ {', '.join(items)} }}"] if items else []


def _sets(
    config: ProxyConfig, with_eps: list[ServicePortInfo], without: list[ServicePortInfo]
) -> list[str]:
    proto = lambda p: p.protocol.lower()  # noqa: E731
    service_ips = [
        f"{p.cluster_ip} . {proto(p)} . {p.port} : goto {service_chain(p)}" for p in with_eps
    ]
    node_ports = [
        f"{proto(p)} . {p.node_port} : goto {service_chain(p)}" for p in with_eps if p.node_port
    ]
    no_eps = [f"{p.cluster_ip} . {proto(p)} . {p.port} : goto reject-chain" for p in without]
    no_ep_nodeports = [
        f"{proto(p)} . {p.node_port} : goto reject-chain" for p in without if p.node_port
    ]
    addresses = [str(n) for n in ipaddress.collapse_addresses(config.nodeport_addresses)]
    three = "type ipv4_addr . inet_proto . inet_service : verdict"
    two = "type inet_proto . inet_service : verdict"
    return [
        *_block("set nodeport-ips", ["type ipv4_addr", "flags interval", *_elements(addresses)]),
        *_block("map service-ips", [three, *_elements(service_ips)]),
        *_block("map service-nodeports", [two, *_elements(node_ports)]),
        *_block("map no-endpoint-services", [three, *_elements(no_eps)]),
        *_block("map no-endpoint-nodeports", [two, *_elements(no_ep_nodeports)]),
    ]


def _filter_chains(config: ProxyConfig) -> list[str]:
    cluster, svc = config.cluster_cidr, config.service_cidr
    return [
        *_block("chain reject-chain", ["meta l4proto tcp reject with tcp reset", "reject"]),
        *_block(
            "chain service-endpoints-check",
            [
                "ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
                "fib daddr type local ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports",
            ],
        ),
        *_block(
            "chain filter-prerouting-pre-dnat",
            ["type filter hook prerouting priority -110; policy accept;", "jump service-endpoints-check"],
        ),
        *_block(
            "chain filter-output-pre-dnat",
            ["type filter hook output priority -110; policy accept;", "jump service-endpoints-check"],
        ),
        *_block(
            "chain filter-forward",
            [
                "type filter hook forward priority 0; policy accept;",
                # A pod answers whoever reached it (a Service's traffic
                # masqueraded by another node, a NodePort's client); it
                # starts nothing outside the cluster's ranges.
                f'iifname "{BRIDGE_PATTERN}" ct state established,related accept',
                f'iifname "{BRIDGE_PATTERN}" oifname != "{PINNACE_LINKS}" '
                f"ip daddr != {{ {cluster}, {svc} }} drop",
                f"ip daddr {svc} jump reject-chain",
            ],
        ),
        *_block(
            "chain filter-output",
            ["type filter hook output priority 0; policy accept;", f"ip daddr {svc} jump reject-chain"],
        ),
    ]  # fmt: skip


def _nat_chains(config: ProxyConfig) -> list[str]:
    sources = ", ".join(
        str(n) for n in ipaddress.collapse_addresses([LOOPBACK, config.cluster_cidr])
    )
    return [
        *_block(
            "chain services",
            [
                "ip daddr . meta l4proto . th dport vmap @service-ips",
                "fib daddr type local ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
            ],
        ),
        *_block(
            "chain nat-prerouting",
            ["type nat hook prerouting priority -100; policy accept;", "jump services"],
        ),
        *_block(
            "chain nat-output",
            ["type nat hook output priority -100; policy accept;", "jump services"],
        ),
        *_block(
            "chain nat-postrouting",
            [
                "type nat hook postrouting priority 100; policy accept;",
                f"meta mark & {MASQUERADE_MARK:#x} == 0 return",
                f"meta mark set meta mark ^ {MASQUERADE_MARK:#x}",
                f"ip saddr {{ {sources} }} masquerade fully-random",
                # To an endpoint on another machine: its answer must come
                # back here, where conntrack undoes the DNAT.
                f'oifname != "{PINNACE_LINKS}" masquerade fully-random',
            ],
        ),
    ]  # fmt: skip


def _service_chains(p: ServicePortInfo) -> list[str]:
    """A port's chain (mark, pick an endpoint) and one chain per endpoint."""
    picks = ", ".join(f"{i} : goto {endpoint_chain(p, ep)}" for i, ep in enumerate(p.endpoints))
    out = _block(
        f"chain {service_chain(p)}",
        [
            f"meta mark set meta mark | {MASQUERADE_MARK:#x}",
            f"numgen random mod {len(p.endpoints)} vmap {{ {picks} }}",
        ],
    )
    for ep in p.endpoints:
        out += _block(
            f"chain {endpoint_chain(p, ep)}",
            [f"meta l4proto {p.protocol.lower()} dnat to {ep.ip}:{ep.port}"],
        )
    return out
