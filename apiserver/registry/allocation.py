"""ClusterIP and NodePort allocation for Services, kept in etcd.

Choice: one etcd key per allocated value, written in the same transaction
as the Service that holds it (the "claims" of ``Store``):

    /registry/ranges/serviceips/10.96.0.10      -> "default/web"
    /registry/ranges/servicenodeports/30080     -> "default/web"

A claim is created with ``create_revision == 0`` in the Service's create or
update txn, and deleted in the txn that deletes the Service or stops using
the value (type change to ClusterIP/ExternalName, a dropped port). So a
value is never held twice, by any number of apiservers, across restarts,
and nothing can leak between an allocation and the Service write (the
reason Kubernetes needs repair loops for its RangeAllocation bitmap; we do
not). Kubernetes' newer MultiCIDRServiceAllocator keeps one IPAddress
object per IP in the same spirit.

The claim keys sit under /registry/ but under no kind's prefix
(/registry/<group>/<plural>/), so the watch cache's one registry watch
skips them.

Automatic allocation reads the claimed keys under the prefix, picks a free
value and writes it with the Service; if another apiserver took the same
value in between, the txn fails and the write is retried with a new pick.

Ranges (Kubernetes' ipallocator/bitmap.go and portallocator): the network
and broadcast addresses are never handed out; the lowest
``min(max(16, size/16), 256)`` addresses (ports: ``min(max(16, size/32),
128)``) are a static band preferred for user-chosen values, so automatic
picks try the upper band first and fall back to the lower one. E.g. for
10.96.0.0/12: 1,048,574 usable addresses, the lowest 256 (10.96.0.1 to
10.96.1.0) are the static band; for 30000-32767: 2768 ports, the lowest 86
(30000-30085) are the static band.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

IP_PREFIX = "/registry/ranges/serviceips/"
PORT_PREFIX = "/registry/ranges/servicenodeports/"
MAX_IPV6_SIZE = 65536
_RANDOM_TRIES = 64


@dataclass(frozen=True)
class IPRange:
    """A --service-cluster-ip-range: the addresses handed out, as offsets."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network

    @classmethod
    def parse(cls, text: str) -> IPRange:
        """Parse a CIDR ("10.96.0.0/12"); ValueError if it is not one."""
        return cls(ipaddress.ip_network(text, strict=False))

    @property
    def size(self) -> int:
        """Usable addresses: without network and (IPv4) broadcast; IPv6 capped."""
        if self.network.version == 6:
            return min(self.network.num_addresses - 1, MAX_IPV6_SIZE)
        return max(self.network.num_addresses - 2, 0)

    @property
    def static_band(self) -> int:
        return min(max(16, self.size // 16), 256)

    def __contains__(self, addr: object) -> bool:
        if not isinstance(addr, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        if addr.version != self.network.version or addr not in self.network:
            return False
        offset = int(addr) - int(self.network.network_address)
        return 1 <= offset <= self.size

    def at(self, offset: int) -> str:
        """The address at 1-based offset (1 = the first usable address)."""
        return str(self.network.network_address + offset)

    def out_of_range_message(self) -> str:
        return (
            "provided IP is not in the valid range. The range of valid IPs is "
            f"{self.network.with_prefixlen}"
        )


@dataclass(frozen=True)
class PortRange:
    """A --service-node-port-range, "30000-32767" (both ends included)."""

    base: int
    last: int

    @classmethod
    def parse(cls, text: str) -> PortRange:
        """Parse "lo-hi" (or a single port); ValueError if malformed."""
        lo, sep, hi = text.strip().partition("-")
        base, last = int(lo), int(hi) if sep else int(lo)
        if not 0 < base <= last <= 65535:
            raise ValueError(f"invalid port range {text!r}")
        return cls(base, last)

    @property
    def size(self) -> int:
        return self.last - self.base + 1

    @property
    def static_band(self) -> int:
        return min(max(16, self.size // 32), 128)

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.base <= port <= self.last

    def at(self, offset: int) -> str:
        return str(self.base + offset - 1)

    def out_of_range_message(self) -> str:
        return (
            "provided port is not in the valid range. The range of valid ports is "
            f"{self.base}-{self.last}"
        )


def pick(
    rng: IPRange | PortRange, taken: Collection[str], *, rand: random.Random | None = None
) -> str | None:
    """A free value of ``rng``, or None if every one is taken: random tries in
    the upper band, then a scan of the upper band, then of the static band."""
    r = rand or random.Random()
    size, band = rng.size, rng.static_band
    if size <= 0:
        return None
    if band >= size:
        band = 0
    for _ in range(_RANDOM_TRIES):
        value = rng.at(r.randint(band + 1, size))
        if value not in taken:
            return value
    for offset in (*range(band + 1, size + 1), *range(1, band + 1)):
        value = rng.at(offset)
        if value not in taken:
            return value
    return None


# claimed(prefix): the values (key suffixes) claimed under a key prefix.
Claimed = Callable[[str], Awaitable[set[str]]]


__all__ = [
    "IP_PREFIX",
    "PORT_PREFIX",
    "Claimed",
    "IPRange",
    "PortRange",
    "pick",
]
