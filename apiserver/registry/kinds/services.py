"""Strategy of core/v1 Service."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.core.v1 import service_pb2


class ServiceStrategy(Strategy[service_pb2.Service]):
    pass


__all__ = ["ServiceStrategy"]
