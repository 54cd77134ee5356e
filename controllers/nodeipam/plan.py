"""Pure decisions of the node IPAM controller: the flags it is configured
by, and the set of node ranges cut from the cluster CIDR (Kubernetes'
pkg/controller/nodeipam/ipam/cidrset, used by its RangeAllocator).

The cluster CIDR is cut into ``2**(mask - prefix)`` node ranges of size
``/mask``, numbered from the start: with ``--cluster-cidr 10.244.0.0/16``
and ``--node-cidr-mask-size 24``, range 0 is 10.244.0.0/24, range 1 is
10.244.1.0/24, ..., range 255 is 10.244.255.0/24.

Guarantees of :class:`CidrSet`:

* a range has at most one owner (a node name); ``allocate`` gives a node the
  range it already owns, else the lowest free one, else None (full);
* ``claim`` records the CIDRs a Node already carries (a restarted controller
  claims every Node's before allocating, so nothing is handed out twice);
  a CIDR outside the cluster CIDR, or owned by another node, is not
  claimed and is reported instead;
* ``release`` frees what a node owned (when the Node is gone).
* the node ranges overlapping ``--service-cluster-ip-range`` are never
  handed out (Kubernetes' filterOutServiceRange).

It keeps no state of its own beyond the process: everything is rebuilt from
the Nodes (their ``spec.podCIDRs``), as Kubernetes' allocator does.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_MASK = {4: 24, 6: 64}
MAX_MASK = {4: 30, 6: 126}  # a node's range must leave room for pods
MAX_SUBNET_BITS = 16  # at most 65536 node ranges (Kubernetes' clusterSubnetMaxDiff)
SERVICE_RANGE = "(the service cluster IP range)"  # the owner of its node ranges
BACKOFF_BASE = 1.0
BACKOFF_MAX = 60.0


@dataclass(frozen=True)
class IPAMConfig:
    """The validated flags: the cluster CIDR and each node range's prefix length."""

    cluster_cidr: Network
    mask_size: int
    service_cidr: Network | None = None  # its node ranges are never handed out


def config_from(
    *,
    cluster_cidr: str,
    mask_size: int | None = None,
    mask_size_ipv4: int | None = None,
    mask_size_ipv6: int | None = None,
    service_cidr: str = "",
) -> IPAMConfig:
    """Validate the node IPAM flags; raise ValueError saying what is wrong.

    The node range size is ``--node-cidr-mask-size-ipv4``/``-ipv6`` for the
    cluster CIDR's family, else ``--node-cidr-mask-size``, else 24 (IPv4)
    or 64 (IPv6), as Kubernetes defaults them."""
    cluster = parse_cluster_cidr(cluster_cidr)
    family = cluster.version
    specific = mask_size_ipv4 if family == 4 else mask_size_ipv6
    specific_flag = f"--node-cidr-mask-size-ipv{family}"
    if specific is not None and mask_size is not None and specific != mask_size:
        raise ValueError(
            f"--node-cidr-mask-size {mask_size} and {specific_flag} {specific} disagree; give one"
        )
    mask = next((m for m in (specific, mask_size) if m is not None), DEFAULT_MASK[family])
    flag = specific_flag if specific is not None else "--node-cidr-mask-size"
    validate_mask(cluster, mask, flag=flag)
    service = _parse_network(service_cidr, "--service-cluster-ip-range") if service_cidr else None
    return IPAMConfig(cluster_cidr=cluster, mask_size=mask, service_cidr=service)


def parse_cluster_cidr(text: str) -> Network:
    """--cluster-cidr as a network (one CIDR, no host bits)."""
    if not text:
        raise ValueError(
            "--cluster-cidr is required with --allocate-node-cidrs (e.g. 10.244.0.0/16)"
        )
    if "," in text:
        raise ValueError(
            f'--cluster-cidr "{text}": dual-stack (two CIDRs) is not supported yet; give one CIDR'
        )
    return _parse_network(text, "--cluster-cidr")


def _parse_network(text: str, flag: str) -> Network:
    if "/" not in text:
        raise ValueError(f'{flag} "{text}" is not a CIDR (e.g. 10.244.0.0/16)')
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as e:
        raise ValueError(f'{flag} "{text}" is not a network (e.g. 10.244.0.0/16): {e}') from None


def validate_mask(cluster: Network, mask: int, *, flag: str) -> None:
    """A node range must fit in the cluster CIDR, leave room for pods and not
    cut the cluster into more than 2**16 ranges."""
    family = cluster.version
    if mask < cluster.prefixlen:
        raise ValueError(
            f"{flag} {mask} is smaller than the prefix of --cluster-cidr {cluster} "
            f"(/{cluster.prefixlen}): a node's range cannot be larger than the cluster's"
        )
    if mask > MAX_MASK[family]:
        raise ValueError(
            f"{flag} {mask} is too large: at most {MAX_MASK[family]} for IPv{family} "
            "(a node's range needs room for pods)"
        )
    if mask - cluster.prefixlen > MAX_SUBNET_BITS:
        raise ValueError(
            f"{flag} {mask} cuts --cluster-cidr {cluster} into 2^{mask - cluster.prefixlen} "
            f"node ranges; at most 2^{MAX_SUBNET_BITS} (use a mask of at most "
            f"{cluster.prefixlen + MAX_SUBNET_BITS})"
        )


def config_from_options(opts: Any) -> IPAMConfig:
    """IPAMConfig from the parsed controller-manager flags."""
    return config_from(
        cluster_cidr=getattr(opts, "cluster_cidr", "") or "",
        mask_size=getattr(opts, "node_cidr_mask_size", None),
        mask_size_ipv4=getattr(opts, "node_cidr_mask_size_ipv4", None),
        mask_size_ipv6=getattr(opts, "node_cidr_mask_size_ipv6", None),
        service_cidr=getattr(opts, "service_cluster_ip_range", "") or "",
    )


class Problem(enum.Enum):
    """Why a CIDR a Node carries was not claimed."""

    INVALID = "is not a valid CIDR"
    OUT_OF_RANGE = "is not inside the cluster CIDR"
    TAKEN = "is already allocated to another node"


@dataclass(frozen=True)
class Rejected:
    cidr: str
    problem: Problem
    owner: str = ""  # for TAKEN

    def message(self, cluster: Network) -> str:
        why = self.problem.value
        if self.problem is Problem.OUT_OF_RANGE:
            why = f"is not inside the cluster CIDR {cluster}"
        elif self.problem is Problem.TAKEN and self.owner == SERVICE_RANGE:
            why = "overlaps the service cluster IP range"
        elif self.problem is Problem.TAKEN:
            why = f"is already allocated to node {self.owner}"
        return f"podCIDR {self.cidr} {why}; left as it is"


class CidrSet:
    """The node ranges of one cluster CIDR and who owns each (see module doc)."""

    def __init__(self, config: IPAMConfig) -> None:
        self.cluster = config.cluster_cidr
        self.mask = config.mask_size
        self.size = 1 << (self.mask - self.cluster.prefixlen)
        self._shift = self.cluster.max_prefixlen - self.mask
        self._owner: dict[int, str] = {}
        self._owned: dict[str, set[int]] = {}
        self._lowest_free = 0  # no range below this index is free
        if config.service_cidr is not None:
            self._reserve(config.service_cidr)

    def subnet(self, index: int) -> Network:
        base = int(self.cluster.network_address) + (index << self._shift)
        return ipaddress.ip_network((base, self.mask))

    def owned(self, name: str) -> list[Network]:
        return [self.subnet(i) for i in sorted(self._owned.get(name, ()))]

    def owner_of(self, cidr: str) -> str | None:
        indices = self._indices(cidr)
        if not isinstance(indices, range):
            return None
        return next((self._owner[i] for i in indices if i in self._owner), None)

    def used(self) -> int:
        return len(self._owner)

    def allocate(self, name: str) -> Network | None:
        """The range ``name`` owns, else the lowest free one (now owned by
        ``name``), else None when every range is taken."""
        mine = self._owned.get(name)
        if mine:
            return self.subnet(min(mine))
        for index in range(self._lowest_free, self.size):
            if index not in self._owner:
                self._take(name, range(index, index + 1))
                self._lowest_free = index + 1
                return self.subnet(index)
        self._lowest_free = self.size
        return None

    def claim(self, name: str, cidrs: Iterable[str]) -> list[Rejected]:
        """Make ``name`` own exactly the ranges of ``cidrs`` (a Node's
        podCIDRs); the ones that cannot be claimed are returned."""
        self.release(name)
        rejected: list[Rejected] = []
        for cidr in cidrs:
            indices = self._indices(cidr)
            if isinstance(indices, Problem):
                rejected.append(Rejected(cidr, indices))
                continue
            other = next((self._owner[i] for i in indices if self._owner.get(i, name) != name), "")
            if other:
                rejected.append(Rejected(cidr, Problem.TAKEN, other))
                continue
            self._take(name, indices)
        return rejected

    def release(self, name: str) -> list[Network]:
        """Free every range ``name`` owns; returns them."""
        indices = sorted(self._owned.pop(name, ()))
        for index in indices:
            del self._owner[index]
        if indices:
            self._lowest_free = min(self._lowest_free, indices[0])
        return [self.subnet(i) for i in indices]

    def _reserve(self, net: Network) -> None:
        """Keep the node ranges overlapping ``net`` (the Services' range)
        from ever being handed out (Kubernetes' filterOutServiceRange)."""
        if net.version != self.cluster.version:
            return
        if _inside(self.cluster, net):
            self._take(SERVICE_RANGE, range(self.size))
            return
        indices = self._indices(str(net))
        if isinstance(indices, range):
            self._take(SERVICE_RANGE, indices)

    def _take(self, name: str, indices: range) -> None:
        for index in indices:
            self._owner[index] = name
        self._owned.setdefault(name, set()).update(indices)

    def _indices(self, cidr: str) -> range | Problem:
        """The node ranges ``cidr`` covers: one for a node-sized or smaller
        network inside the cluster CIDR, several for a larger one."""
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return Problem.INVALID
        if not _inside(net, self.cluster):
            return Problem.OUT_OF_RANGE
        first = (int(net.network_address) - int(self.cluster.network_address)) >> self._shift
        count = 1 << (self.mask - net.prefixlen) if net.prefixlen < self.mask else 1
        return range(first, first + count)


def _inside(net: Network, outer: Network) -> bool:
    """``net`` lies within ``outer`` (same family)."""
    return (
        net.version == outer.version
        and net.prefixlen >= outer.prefixlen
        and int(outer.network_address) <= int(net.network_address)
        and int(net.broadcast_address) <= int(outer.broadcast_address)
    )


def backoff(failures: int) -> float:
    """Seconds before a node that found the range full tries again: 1, 2,
    4, ... capped at 60 (a freed range also wakes it at once)."""
    return min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, failures - 1))
