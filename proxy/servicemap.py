"""Which service ports the proxy programs, and the endpoints of each (pure).

``service_ports(services, slices)`` reads Services and EndpointSlices (the
informers' objects, never changed) and returns one ``ServicePortInfo`` per
(Service, port) that needs rules, sorted by namespace, name and port, with
its endpoints:

* Skipped Services: ``type: ExternalName`` (DNS only), headless
  (``clusterIP: None``) and those without an IPv4 ClusterIP yet; proxying is
  for virtual IPs (Kubernetes' ``ShouldSkipService``).
* A Service's slices are those in its namespace labelled
  ``kubernetes.io/service-name=<name>``, of address type IPv4, whichever
  controller (or person) wrote them.
* A Service port's target port comes from the slices, not the Service: a
  slice port with the same name (unset and "" are the same) and protocol.
  So a named ``targetPort`` works per pod, as the EndpointSlice controller
  resolved it. An endpoint's address is its first one.
* Which endpoints get traffic (Kubernetes' ``CategorizeEndpoints`` without
  topology): the ready ones; if none is ready, the ones that are serving
  and terminating (so a rolling update loses no connection while the last
  old pods drain); else none, and connections are refused. A condition
  that is not set reads as Kubernetes says: ``ready`` and ``serving`` as
  true, ``terminating`` as false. The same address and port in two slices
  (a pod moving between slices) counts once.

Example: Service ``shop/web`` (ClusterIP 10.96.0.10, ports ``http`` 80/TCP
and ``metrics`` 9090/TCP) with one slice whose ports are ``http`` → 8080
and ``metrics`` → 9100 and whose endpoints are 10.244.1.5 (ready) and
10.244.2.7 (ready: false, serving, terminating) gives two ports:
80/TCP → [10.244.1.5:8080] and 9090/TCP → [10.244.1.5:9100]; were
10.244.1.5 gone, both would fall back to 10.244.2.7.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pinnace.api.core.v1 import service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.machinery.wellknown import LABEL_SERVICE_NAME

__all__ = ["Endpoint", "ServicePortInfo", "endpoints_for_port", "service_ports"]

PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True, order=True)
class Endpoint:
    """One backend of a service port: an IPv4 address and its target port."""

    ip: str
    port: int

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class ServicePortInfo:
    """One (Service, port) to program: its virtual addresses and backends."""

    namespace: str
    name: str
    port_name: str
    protocol: str  # TCP, UDP or SCTP
    cluster_ip: str
    port: int
    node_port: int  # 0: none
    endpoints: tuple[Endpoint, ...]

    @property
    def key(self) -> str:
        """``namespace/name/protocol/port name or number``, unique per port."""
        return f"{self.namespace}/{self.name}/{self.protocol.lower()}/{self.port_name or self.port}"


def service_ports(
    services: Iterable[service_pb2.Service],
    slices: Iterable[endpointslice_pb2.EndpointSlice],
) -> list[ServicePortInfo]:
    """Every service port to program, sorted (see the module docstring)."""
    by_service: dict[tuple[str, str], list[endpointslice_pb2.EndpointSlice]] = defaultdict(list)
    for s in slices:
        owner = s.metadata.labels.get(LABEL_SERVICE_NAME, "")
        if owner and s.address_type == "IPv4":
            by_service[(s.metadata.namespace, owner)].append(s)
    out: list[ServicePortInfo] = []
    for svc in services:
        cluster_ip = proxied_cluster_ip(svc)
        if not cluster_ip:
            continue
        mine = by_service.get((svc.metadata.namespace, svc.metadata.name), [])
        for p in svc.spec.ports:
            protocol = p.protocol or "TCP"
            if protocol not in PROTOCOLS or not 0 < p.port < 65536:
                continue
            out.append(
                ServicePortInfo(
                    namespace=svc.metadata.namespace,
                    name=svc.metadata.name,
                    port_name=p.name,
                    protocol=protocol,
                    cluster_ip=cluster_ip,
                    port=p.port,
                    node_port=p.node_port if 0 < p.node_port < 65536 else 0,
                    endpoints=endpoints_for_port(mine, p.name, protocol),
                )
            )
    out.sort(key=lambda i: (i.namespace, i.name, i.protocol, i.port))
    return out


def proxied_cluster_ip(svc: service_pb2.Service) -> str:
    """The Service's IPv4 ClusterIP if the proxy handles it, else ""."""
    if svc.spec.type == "ExternalName":
        return ""
    ip = svc.spec.cluster_ip
    return ip if ip and _is_ipv4(ip) else ""


def endpoints_for_port(
    slices: Iterable[endpointslice_pb2.EndpointSlice], port_name: str, protocol: str
) -> tuple[Endpoint, ...]:
    """The endpoints that get a port's traffic: ready ones, else serving and
    terminating ones, else none; deduplicated and sorted."""
    ready: set[Endpoint] = set()
    fallback: set[Endpoint] = set()
    for s in slices:
        target = _target_port(s, port_name, protocol)
        if not target:
            continue
        for ep in s.endpoints:
            if not ep.addresses or not _is_ipv4(ep.addresses[0]):
                continue
            endpoint = Endpoint(ep.addresses[0], target)
            c = ep.conditions
            if not c.HasField("ready") or c.ready:
                ready.add(endpoint)
            elif (not c.HasField("serving") or c.serving) and c.terminating:
                fallback.add(endpoint)
    return tuple(sorted(ready or fallback))


def _is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def _target_port(s: endpointslice_pb2.EndpointSlice, port_name: str, protocol: str) -> int:
    for p in s.ports:
        if p.name == port_name and (p.protocol or "TCP") == protocol and 0 < p.port < 65536:
            return p.port
    return 0
