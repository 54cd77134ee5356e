"""The nft script the proxy renders (proxy/rules.py): expected fragments per
kind of Service, and, where root and nft are here, the kernel's own check
of whole scripts (``nft -c``: validated, nothing applied)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from typing import Any

import pytest

from proxy.rules import ProxyConfig, render
from tests.unit.proxy.proxy_builders import ep, service, slice_

CONFIG = ProxyConfig(
    cluster_cidr=ipaddress.IPv4Network("10.244.0.0/16"),
    service_cidr=ipaddress.IPv4Network("10.96.0.0/12"),
)
A, B = "10.244.1.5", "10.244.2.7"
SVC = "svc-{h}-ns/web/tcp/http"


def chain_names(script: str, prefix: str) -> list[str]:
    return [
        line.split()[1]
        for line in script.splitlines()
        if line.strip().startswith(f"chain {prefix}")
    ]


# (id, services, slices, fragments that must be there, fragments that must not)
CASES: list[tuple[str, list[Any], list[Any], list[str], list[str]]] = [
    (
        "cluster-ip",
        [service("web")],
        [slice_("web", [ep(A), ep(B)])],
        [
            "10.96.0.10 . tcp . 80 : goto svc-",
            "meta mark set meta mark | 0x4000",
            "numgen random mod 2 vmap { 0 : goto ep-",
            f"meta l4proto tcp dnat to {A}:8080",
            f"meta l4proto tcp dnat to {B}:8080",
        ],
        ["reject-chain }", ": goto reject-chain"],
    ),
    (
        "node-port",
        [service("web", type_="NodePort", ports=[{"name": "http", "port": 80, "nodePort": 30080}])],
        [slice_("web", [ep(A)])],
        [
            "tcp . 30080 : goto svc-",
            "10.96.0.10 . tcp . 80 : goto svc-",
            "numgen random mod 1 vmap",
            "elements = { 127.0.0.0/8 }",
            "fib daddr type local ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
        ],
        [],
    ),
    (
        "multi-port",
        [service("web", ports=[{"name": "http", "port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"}])],
        [slice_("web", [ep(A)], ports=[{"name": "http", "port": 8080}, {"name": "dns", "port": 5353, "protocol": "UDP"}])],
        [
            "10.96.0.10 . tcp . 80 : goto svc-",
            "10.96.0.10 . udp . 53 : goto svc-",
            f"meta l4proto udp dnat to {A}:5353",
            f"meta l4proto tcp dnat to {A}:8080",
        ],
        [],
    ),
    (
        "no-endpoints-rejected",
        [service("web", type_="NodePort", ports=[{"name": "http", "port": 80, "nodePort": 30080}])],
        [slice_("web", [ep(A, ready=False)])],
        [
            "10.96.0.10 . tcp . 80 : goto reject-chain",
            "tcp . 30080 : goto reject-chain",
            "meta l4proto tcp reject with tcp reset",
        ],
        ["chain svc-", "dnat to"],
    ),
    (
        "terminating-fallback",
        [service("web")],
        [slice_("web", [ep(A, ready=False, serving=True, terminating=True), ep(B, ready=False)])],
        [f"dnat to {A}:8080", "numgen random mod 1 vmap"],
        [f"dnat to {B}:8080", "goto reject-chain"],
    ),
    ("headless-skipped", [service("db", cluster_ip="None")], [slice_("db", [ep(A)])], [], ["chain svc-", "dnat to", "goto reject-chain"]),
    (
        "external-name-skipped",
        [service("ext", cluster_ip="", ports=[], type_="ExternalName", externalName="a.example")],
        [],
        [],
        ["chain svc-", "goto reject-chain"],
    ),
    (
        "safety-chains",
        [],
        [],
        [
            "add table ip pinnace\ndelete table ip pinnace\ntable ip pinnace {",
            'iifname "pinnacebr*" ct state established,related accept\n\t\t'
            'iifname "pinnacebr*" oifname != "pinnace*" ip daddr != { 10.244.0.0/16, 10.96.0.0/12 } drop',
            "ip daddr 10.96.0.0/12 jump reject-chain",
            "ip saddr { 10.244.0.0/16, 127.0.0.0/8 } masquerade fully-random\n"
            '\t\toifname != "pinnace*" masquerade fully-random',
            "type nat hook output priority -100;",
            "type filter hook prerouting priority -110;",
        ],
        ["elements = { }"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    "services,slices,present,absent", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rendered_fragments(
    services: list[Any], slices: list[Any], present: list[str], absent: list[str]
) -> None:
    script = render(services, slices, CONFIG).script
    for fragment in present:
        assert fragment in script
    for fragment in absent:
        assert fragment not in script


def test_chain_names_carry_the_service_port_and_endpoint() -> None:
    script = render([service("web")], [slice_("web", [ep(A)])], CONFIG).script
    [svc] = chain_names(script, "svc-")
    [endpoint] = chain_names(script, "ep-")
    assert svc.endswith("-ns/web/tcp/http")
    assert endpoint.endswith(f"-ns/web/tcp/http__{A}/8080")
    assert f"goto {svc}" in script and f"goto {endpoint}" in script


def test_same_objects_in_any_order_give_the_same_text() -> None:
    services = [service("a", cluster_ip="10.96.0.1"), service("b", cluster_ip="10.96.0.2")]
    slices = [slice_("a", [ep(A), ep(B)]), slice_("b", [ep(B), ep(A)])]
    one = render(services, slices, CONFIG)
    two = render(services[::-1], [s for s in slices[::-1]], CONFIG)
    assert one.script == two.script
    assert one.counts == (2, 4, 0, 0)


def test_nodeport_addresses_are_collapsed() -> None:
    config = ProxyConfig(
        cluster_cidr=CONFIG.cluster_cidr,
        service_cidr=CONFIG.service_cidr,
        nodeport_addresses=(
            ipaddress.IPv4Network("127.0.0.1/32"),
            ipaddress.IPv4Network("127.0.0.0/8"),
            ipaddress.IPv4Network("192.168.1.10/32"),
        ),
    )
    assert "elements = { 127.0.0.0/8, 192.168.1.10/32 }" in render([], [], config).script


def _nft_check_unavailable() -> str:
    if os.geteuid() != 0:
        return "nft -c needs root"
    if shutil.which("nft") is None:
        return "nft is not installed"
    return ""


@pytest.mark.skipif(bool(_nft_check_unavailable()), reason=_nft_check_unavailable() or "runs")
@pytest.mark.parametrize("services,slices", [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_kernel_accepts_the_script(services: list[Any], slices: list[Any]) -> None:
    """``nft -c`` parses and validates the transaction without applying it."""
    script = render(services, slices, CONFIG).script
    proc = subprocess.run(["nft", "-c", "-f", "-"], input=script, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
