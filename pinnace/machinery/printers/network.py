"""Printers of Service and EndpointSlice (Kubernetes' printService and
printEndpointSlice).

The server prints as ``-o wide`` does, so a LoadBalancer's EXTERNAL-IP is
never cut to 16 characters there (kubectl's own printer cuts it only when
it prints objects itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pinnace.api.core.v1 import service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.machinery.printers.columns import AGE, NAME, Cell, Printer, age, column, format_labels

__all__ = ["ENDPOINT_SLICE", "SERVICE"]


def _load_balancer_ips(status: service_pb2.LoadBalancerStatus) -> str:
    """loadBalancerStatusStringer (wide): each ingress IP, or hostname,
    sorted and deduplicated."""
    found = {i.ip or i.hostname for i in status.ingress if i.ip or i.hostname}
    return ",".join(sorted(found))


def _external_ip(svc: service_pb2.Service) -> str:
    """getServiceExternalIP: externalIPs for ClusterIP and NodePort; the
    load balancer's ingress (``<pending>`` until written) and externalIPs
    for LoadBalancer; the externalName for ExternalName."""
    spec = svc.spec
    if spec.type in ("ClusterIP", "NodePort"):
        return ",".join(spec.external_ips) or "<none>"
    if spec.type == "LoadBalancer":
        ingress = _load_balancer_ips(svc.status.load_balancer)
        if spec.external_ips:
            return ",".join([*(ingress.split(",") if ingress else []), *spec.external_ips])
        return ingress or "<pending>"
    if spec.type == "ExternalName":
        return spec.external_name
    return "<unknown>"


def _ports(ports: Iterable[service_pb2.ServicePort]) -> str:
    """makePortString: ``80/TCP``, ``80:30080/TCP``, comma-joined."""
    return ",".join(
        f"{p.port}:{p.node_port}/{p.protocol}" if p.node_port > 0 else f"{p.port}/{p.protocol}"
        for p in ports
    )


def _cluster_ip(spec: service_pb2.ServiceSpec) -> str:
    """clusterIPs[0]; a spec with only clusterIP reads as Kubernetes
    converts it ("None" for a headless Service)."""
    if spec.cluster_ips:
        return spec.cluster_ips[0]
    return spec.cluster_ip or "<none>"


def _service_cells(svc: service_pb2.Service, now: datetime) -> list[Cell]:
    spec = svc.spec
    return [
        svc.metadata.name,
        spec.type,
        _cluster_ip(spec),
        _external_ip(svc),
        _ports(spec.ports) or "<none>",
        age(svc, now),
        format_labels(spec.selector),
    ]


SERVICE = Printer(
    columns=(
        NAME,
        column("Type", doc="ServiceSpec.type"),
        column("Cluster-IP", doc="ServiceSpec.clusterIP"),
        column("External-IP", doc="ServiceSpec.externalIPs"),
        column("Port(s)", doc="ServiceSpec.ports"),
        AGE,
        column("Selector", doc="ServiceSpec.selector", priority=1),
    ),
    cells=_service_cells,
)

_SHOWN = 3  # formatDiscoveryPorts / formatDiscoveryEndpoints list three


def _with_more(items: list[str]) -> str:
    """listWithMoreString: the first three, then " + N more..."; "<unset>"
    for none."""
    shown = ",".join(items[:_SHOWN])
    if len(items) > _SHOWN:
        return f"{shown} + {len(items) - _SHOWN} more..."
    return shown or "<unset>"


def _slice_port(port: endpointslice_pb2.EndpointPort) -> str:
    if port.HasField("port"):
        return str(port.port)
    if port.HasField("name"):
        return port.name
    return "*"


def _slice_cells(eps: endpointslice_pb2.EndpointSlice, now: datetime) -> list[Cell]:
    return [
        eps.metadata.name,
        eps.address_type,
        _with_more([_slice_port(p) for p in eps.ports]),
        _with_more([a for e in eps.endpoints for a in e.addresses]),
        age(eps, now),
    ]


ENDPOINT_SLICE = Printer(
    columns=(
        NAME,
        column("AddressType", doc="EndpointSlice.addressType"),
        column("Ports", doc="EndpointSlice.ports"),
        column("Endpoints", doc="EndpointSlice.endpoints"),
        AGE,
    ),
    cells=_slice_cells,
)
