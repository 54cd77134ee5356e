"""Zone health and the eviction rate limits (Kubernetes'
ComputeZoneState, setLimiterInZone and the RateLimitedTimedQueue of
NoExecute tainting).

A zone (region + zone labels) is

* ``FullDisruption`` when none of its nodes is Ready;
* ``PartialDisruption`` when more than 2 of its nodes are not Ready and
  they are at least ``unhealthy_zone_threshold`` (0.55) of it;
* ``Normal`` otherwise.

NoExecute taints are added at ``eviction_rate`` nodes per second per zone
(Normal and FullDisruption); in a partially disrupted zone at
``secondary_eviction_rate`` when it has more than
``large_cluster_threshold`` nodes, else not at all; when every zone is
fully disrupted nothing is tainted for eviction (the controller, not the
nodes, is probably the one cut off). Worked example: 3 nodes, 1 stops
heartbeating → 1 not ready, not > 2 → Normal → tainted at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from controllers import nodeutil
from pinnace.api.core.v1 import node_pb2

NORMAL = "Normal"
PARTIAL = "PartialDisruption"
FULL = "FullDisruption"


@dataclass(frozen=True)
class ZoneSettings:
    eviction_rate: float = 0.1
    secondary_eviction_rate: float = 0.01
    unhealthy_zone_threshold: float = 0.55
    large_cluster_threshold: int = 50


def zone_states(
    nodes: Iterable[node_pb2.Node], settings: ZoneSettings
) -> dict[str, tuple[str, int]]:
    """zone -> (state, number of nodes)."""
    counts: dict[str, list[int]] = {}
    for node in nodes:
        ready = nodeutil.ready_status(node) == "True"
        c = counts.setdefault(nodeutil.zone_of(node), [0, 0])
        c[0 if ready else 1] += 1
    out = {}
    for zone, (n_ready, not_ready) in counts.items():
        total = n_ready + not_ready
        if n_ready == 0 and not_ready > 0:
            state = FULL
        elif not_ready > 2 and not_ready / total >= settings.unhealthy_zone_threshold:
            state = PARTIAL
        else:
            state = NORMAL
        out[zone] = (state, total)
    return out


def zone_rate(state: str, size: int, settings: ZoneSettings) -> float:
    if state == PARTIAL:
        return settings.secondary_eviction_rate if size > settings.large_cluster_threshold else 0.0
    return settings.eviction_rate


class TokenBucket:
    """``rate`` tokens per second, at most ``burst``; starts full."""

    def __init__(self, rate: float, *, burst: float = 1.0, now: float = 0.0) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at = now

    def set_rate(self, rate: float, now: float) -> None:
        self._refill(now)
        self.rate = rate

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = max(self._at, now)

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.rate <= 0 or self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def wait(self, now: float) -> float | None:
        """Seconds until a token is there (None: never at this rate)."""
        self._refill(now)
        if self.rate <= 0:
            return None
        if self._tokens >= 1:
            return 0.0
        return (1 - self._tokens) / self.rate
