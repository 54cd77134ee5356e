"""Strategy of coordination.k8s.io/v1 Lease."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy


class LeaseStrategy(Strategy):
    pass
