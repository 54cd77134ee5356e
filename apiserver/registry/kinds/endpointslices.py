"""Strategy of discovery.k8s.io/v1 EndpointSlice."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.discovery.v1 import endpointslice_pb2


class EndpointSliceStrategy(Strategy[endpointslice_pb2.EndpointSlice]):
    pass


__all__ = ["EndpointSliceStrategy"]
