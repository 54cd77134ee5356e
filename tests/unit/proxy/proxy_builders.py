"""Services and EndpointSlices for the proxy's unit tests, written as
Kubernetes manifests (so they read like what users send)."""

from __future__ import annotations

from typing import Any

from pinnace.api.core.v1 import service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.machinery import codec
from pinnace.machinery.wellknown import LABEL_SERVICE_NAME


def service(
    name: str,
    *,
    cluster_ip: str = "10.96.0.10",
    ports: list[dict[str, Any]] | None = None,
    type_: str = "ClusterIP",
    namespace: str = "ns",
    **spec: Any,
) -> service_pb2.Service:
    body: dict[str, Any] = {
        "type": type_,
        "ports": ports if ports is not None else [{"name": "http", "port": 80}],
        **spec,
    }
    if cluster_ip:
        body["clusterIP"] = cluster_ip
    return codec.from_dict(
        service_pb2.Service,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": body,
        },
    )


def ep(ip: str, **conditions: bool) -> dict[str, Any]:
    """An endpoint; no keyword = conditions unset (read as ready)."""
    return {"addresses": [ip], "conditions": conditions}


def slice_(
    service_name: str,
    endpoints: list[dict[str, Any]],
    *,
    ports: list[dict[str, Any]] | None = None,
    name: str = "",
    namespace: str = "ns",
    address_type: str = "IPv4",
) -> endpointslice_pb2.EndpointSlice:
    return codec.from_dict(
        endpointslice_pb2.EndpointSlice,
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": name or f"{service_name}-abc",
                "namespace": namespace,
                "labels": {LABEL_SERVICE_NAME: service_name},
            },
            "addressType": address_type,
            "endpoints": endpoints,
            "ports": ports if ports is not None else [{"name": "http", "port": 8080}],
        },
    )
