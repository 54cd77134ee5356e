"""Strategy of discovery.k8s.io/v1 EndpointSlice (Kubernetes' SetDefaults
of EndpointPort and ValidateEndpointSlice, with its messages).

An EndpointSlice has no spec: its fields sit at the top level, so the
field paths are ``addressType``, ``endpoints[0].addresses[0]``,
``ports[0].name``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from apiserver.registry.strategy import Strategy
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    duplicate,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    not_supported,
    required,
    too_many,
)

from .common import immutable, opt

ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
PROTOCOLS = ("SCTP", "TCP", "UDP")
MAX_ADDRESSES = 100
MAX_ENDPOINTS = 1000
MAX_PORTS = 20000


class EndpointSliceStrategy(Strategy[endpointslice_pb2.EndpointSlice]):
    def default(self, obj: endpointslice_pb2.EndpointSlice) -> None:
        """SetDefaults_EndpointPort: name "" and protocol TCP when unset."""
        for port in obj.ports:
            if not port.HasField("name"):
                port.name = ""
            if not port.HasField("protocol"):
                port.protocol = "TCP"

    def validate(self, obj: endpointslice_pb2.EndpointSlice) -> list[FieldError]:
        errs: list[FieldError] = []
        path = FieldPath.root("addressType")
        if not obj.address_type:
            errs.append(required(path))
        elif obj.address_type not in ADDRESS_TYPES:
            errs.append(not_supported(path, obj.address_type, ADDRESS_TYPES))
        errs += _validate_endpoints(obj)
        errs += _validate_ports(obj.ports)
        return errs

    def validate_update(
        self, new: endpointslice_pb2.EndpointSlice, old: endpointslice_pb2.EndpointSlice
    ) -> list[FieldError]:
        errs = self.validate(new)
        errs += immutable(new.address_type, old.address_type, FieldPath.root("addressType"))
        return errs


def _validate_endpoints(obj: endpointslice_pb2.EndpointSlice) -> list[FieldError]:
    root = FieldPath.root("endpoints")
    if len(obj.endpoints) > MAX_ENDPOINTS:
        return [too_many(root, len(obj.endpoints), MAX_ENDPOINTS)]
    errs: list[FieldError] = []
    for i, endpoint in enumerate(obj.endpoints):
        path = root.index(i)
        addresses = path.child("addresses")
        if not endpoint.addresses:
            errs.append(required(addresses, "must contain at least 1 address"))
        elif len(endpoint.addresses) > MAX_ADDRESSES:
            errs.append(too_many(addresses, len(endpoint.addresses), MAX_ADDRESSES))
        for j, address in enumerate(endpoint.addresses):
            errs += _validate_address(obj.address_type, address, addresses.index(j))
        hostname = opt(endpoint, "hostname")
        if hostname is not None:
            errs += [
                invalid(path.child("hostname"), hostname, m) for m in is_dns1123_label(hostname)
            ]
        node_name = opt(endpoint, "node_name")
        if node_name is not None:
            errs += [
                invalid(path.child("nodeName"), node_name, m)
                for m in is_dns1123_subdomain(node_name)
            ]
    return errs


def _validate_address(address_type: str, address: str, path: FieldPath) -> list[FieldError]:
    if address_type == "FQDN":
        return [invalid(path, address, m) for m in is_dns1123_subdomain(address)]
    if address_type not in ("IPv4", "IPv6"):
        return []
    try:
        addr = ipaddress.ip_address(address)
    except ValueError:
        addr = None
    if addr is None or f"IPv{addr.version}" != address_type:
        return [invalid(path, address, f"must be a valid {address_type} address")]
    return []


def _validate_ports(ports: Sequence[endpointslice_pb2.EndpointPort]) -> list[FieldError]:
    root = FieldPath.root("ports")
    if len(ports) > MAX_PORTS:
        return [too_many(root, len(ports), MAX_PORTS)]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        path = root.index(i)
        name = port.name
        if name:
            errs += [invalid(path.child("name"), name, m) for m in is_dns1123_label(name)]
        if name in names:
            errs.append(duplicate(path.child("name"), name))
        names.add(name)
        if not port.HasField("protocol"):
            errs.append(required(path.child("protocol")))
        elif port.protocol not in PROTOCOLS:
            errs.append(not_supported(path.child("protocol"), port.protocol, PROTOCOLS))
        number = opt(port, "port")
        if number is not None and not 1 <= number <= 65535:
            errs.append(
                invalid(path.child("port"), number, "must be between 1 and 65535, inclusive")
            )
    return errs


__all__ = ["EndpointSliceStrategy"]
