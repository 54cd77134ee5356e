"""EndpointSlice defaults and validation, one bad object per rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.registry.helpers import assert_only, create_errors, created, update_errors


def test_port_defaults() -> None:
    slice_, errs = created("EndpointSlice", {"ports": [{"port": 80}]})
    assert errs == []
    assert slice_.ports[0].name == ""
    assert slice_.ports[0].protocol == "TCP"


def ep(*addresses: str, **more: Any) -> dict[str, Any]:
    return {"endpoints": [{"addresses": list(addresses), **more}]}


CASES = [
    ("address-type-required", {"addressType": None}, "addressType", "Required value"),
    (
        "address-type",
        {"addressType": "IPv5"},
        "addressType",
        'Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
    ),
    ("no-addresses", ep(), "endpoints[0].addresses", "must contain at least 1 address"),
    (
        "too-many-addresses",
        ep(*(f"10.0.0.{i}" for i in range(1, 102))),
        "endpoints[0].addresses",
        "must have at most 100 items",
    ),
    ("bad-ipv4", ep("10.0.0.300"), "endpoints[0].addresses[0]", "must be a valid IPv4 address"),
    (
        "ipv6-in-ipv4",
        ep("2001:db8::1"),
        "endpoints[0].addresses[0]",
        "must be a valid IPv4 address",
    ),
    (
        "bad-fqdn",
        {"addressType": "FQDN", **ep("Not_A_Host")},
        "endpoints[0].addresses[0]",
        "RFC 1123 subdomain",
    ),
    (
        "hostname",
        ep("10.0.0.1", hostname="web.0"),
        "endpoints[0].hostname",
        "RFC 1123 label",
    ),
    ("node-name", ep("10.0.0.1", nodeName="Node_A"), "endpoints[0].nodeName", "RFC 1123 subdomain"),
    ("port-name", {"ports": [{"name": "HTTP", "port": 80}]}, "ports[0].name", "RFC 1123 label"),
    (
        "duplicate-port-name",
        {"ports": [{"name": "http", "port": 80}, {"name": "http", "port": 81}]},
        "ports[1].name",
        'Duplicate value: "http"',
    ),
    (
        "protocol",
        {"ports": [{"port": 80, "protocol": "ICMP"}]},
        "ports[0].protocol",
        'Unsupported value: "ICMP"',
    ),
    (
        "port-range",
        {"ports": [{"port": 0}]},
        "ports[0].port",
        "Invalid value: 0: must be between 1 and 65535, inclusive",
    ),
]


@pytest.mark.parametrize(
    ("patch", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule(patch: dict[str, Any], path: str, fragment: str) -> None:
    assert_only(create_errors("EndpointSlice", patch), path, fragment)


def test_fqdn_and_ipv6_slices_pass() -> None:
    assert create_errors("EndpointSlice", {"addressType": "FQDN", **ep("db.example.com")}) == []
    assert create_errors("EndpointSlice", {"addressType": "IPv6", **ep("2001:db8::1")}) == []


def test_address_type_is_immutable() -> None:
    errs = update_errors("EndpointSlice", {"addressType": "FQDN", **ep("db.example.com")})
    assert_only(errs, "addressType", "field is immutable")
