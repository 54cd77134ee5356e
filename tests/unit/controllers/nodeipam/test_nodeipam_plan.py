"""Node IPAM: the flags' validation and the CidrSet allocator, table by table."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest

from controllers.nodeipam.plan import CidrSet, Problem, backoff, config_from


def cidr_set(cluster: str = "10.244.0.0/16", mask: int = 24) -> CidrSet:
    return CidrSet(config_from(cluster_cidr=cluster, mask_size=mask))


CONFIGS = [
    ("defaults-ipv4", "10.244.0.0/16", {}, 24),
    ("defaults-ipv6", "fd00:10:244::/56", {}, 64),
    ("mask", "10.244.0.0/16", {"mask_size": 26}, 26),
    ("ipv4-alias", "10.244.0.0/16", {"mask_size_ipv4": 25}, 25),
    ("alias-agrees", "10.244.0.0/16", {"mask_size": 25, "mask_size_ipv4": 25}, 25),
    ("other-family-alias-ignored", "10.244.0.0/16", {"mask_size_ipv6": 80}, 24),
    ("mask-equals-prefix", "10.244.0.0/24", {"mask_size": 24}, 24),
]


@pytest.mark.parametrize(
    ("cluster", "flags", "want"), [c[1:] for c in CONFIGS], ids=[c[0] for c in CONFIGS]
)
def test_config(cluster: str, flags: dict[str, Any], want: int) -> None:
    config = config_from(cluster_cidr=cluster, **flags)
    assert config.mask_size == want
    assert str(config.cluster_cidr) == cluster


BAD_CONFIGS = [
    ("missing", "", {}, "--cluster-cidr is required with --allocate-node-cidrs"),
    ("not-cidr", "10.244.0.0", {}, "is not a CIDR"),
    ("garbage", "ten/16", {}, "is not a network"),
    ("host-bits", "10.244.0.1/16", {}, "has host bits set"),
    ("dual-stack", "10.244.0.0/16,fd00::/56", {}, "dual-stack"),
    ("mask-below-prefix", "10.244.0.0/16", {"mask_size": 8}, "smaller than the prefix"),
    ("mask-too-large", "10.244.0.0/16", {"mask_size": 31}, "at most 30 for IPv4"),
    ("ipv6-too-large", "fd00::/112", {"mask_size": 127}, "at most 126 for IPv6"),
    ("too-many-ranges", "10.0.0.0/8", {"mask_size": 25}, "at most 2^16"),
    ("alias-disagrees", "10.244.0.0/16", {"mask_size": 24, "mask_size_ipv4": 25}, "disagree"),
]


@pytest.mark.parametrize(
    ("cluster", "flags", "fragment"),
    [c[1:] for c in BAD_CONFIGS],
    ids=[c[0] for c in BAD_CONFIGS],
)
def test_bad_config(cluster: str, flags: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("^", r"\^")):
        config_from(cluster_cidr=cluster, **flags)


# (id, cluster, mask, node CIDRs claimed first {node: [cidr]}, allocations in order, want)
ALLOCATIONS = [
    ("first", "10.244.0.0/16", 24, {}, ["a"], ["10.244.0.0/24"]),
    ("next-free", "10.244.0.0/16", 24, {}, ["a", "b"], ["10.244.0.0/24", "10.244.1.0/24"]),
    (
        "skips-occupied",
        "10.244.0.0/16",
        24,
        {"x": ["10.244.0.0/24"], "y": ["10.244.2.0/24"]},
        ["a", "b"],
        ["10.244.1.0/24", "10.244.3.0/24"],
    ),
    ("same-node-same-range", "10.244.0.0/16", 24, {}, ["a", "a"], ["10.244.0.0/24"] * 2),
    ("full", "10.244.0.0/23", 24, {}, ["a", "b", "c"], ["10.244.0.0/24", "10.244.1.0/24", None]),
    (
        "larger-existing-occupies-several",
        "10.244.0.0/22",
        24,
        {"x": ["10.244.0.0/23"]},
        ["a", "b", "c"],
        ["10.244.2.0/24", "10.244.3.0/24", None],
    ),
    (
        "smaller-existing-occupies-its-range",
        "10.244.0.0/16",
        24,
        {"x": ["10.244.0.128/25"]},
        ["a"],
        ["10.244.1.0/24"],
    ),
    (
        "out-of-range-existing-occupies-nothing",
        "10.244.0.0/16",
        24,
        {"x": ["10.0.0.0/24"]},
        ["a"],
        ["10.244.0.0/24"],
    ),
    ("ipv6", "fd00:10:244::/56", 64, {}, ["a", "b"], ["fd00:10:244::/64", "fd00:10:244:1::/64"]),
]


@pytest.mark.parametrize(
    ("cluster", "mask", "existing", "nodes", "want"),
    [c[1:] for c in ALLOCATIONS],
    ids=[c[0] for c in ALLOCATIONS],
)
def test_allocate(
    cluster: str,
    mask: int,
    existing: dict[str, list[str]],
    nodes: list[str],
    want: list[str | None],
) -> None:
    cidrs = cidr_set(cluster, mask)
    for name, claimed in existing.items():
        cidrs.claim(name, claimed)
    got = [cidrs.allocate(n) for n in nodes]
    assert [str(g) if g else None for g in got] == want


def test_release_frees_for_the_next_node_and_only_then() -> None:
    cidrs = cidr_set("10.244.0.0/23")
    assert str(cidrs.allocate("a")) == "10.244.0.0/24"
    assert str(cidrs.allocate("b")) == "10.244.1.0/24"
    assert cidrs.allocate("c") is None
    assert [str(n) for n in cidrs.release("a")] == ["10.244.0.0/24"]
    assert cidrs.release("a") == []  # idempotent
    assert str(cidrs.allocate("c")) == "10.244.0.0/24"
    assert cidrs.owner_of("10.244.0.0/24") == "c"


# (id, claimed first, the node's CIDRs, the problems reported)
CLAIMS = [
    ("inside", {}, ["10.244.5.0/24"], []),
    ("outside", {}, ["10.0.0.0/24"], [Problem.OUT_OF_RANGE]),
    ("other-family", {}, ["fd00::/64"], [Problem.OUT_OF_RANGE]),
    ("contains-the-cluster", {}, ["10.0.0.0/8"], [Problem.OUT_OF_RANGE]),
    ("invalid", {}, ["nonsense"], [Problem.INVALID]),
    ("taken", {"x": ["10.244.5.0/24"]}, ["10.244.5.0/24"], [Problem.TAKEN]),
    ("overlaps-taken", {"x": ["10.244.5.0/24"]}, ["10.244.4.0/23"], [Problem.TAKEN]),
]


@pytest.mark.parametrize(
    ("existing", "cidrs_of_node", "problems"),
    [c[1:] for c in CLAIMS],
    ids=[c[0] for c in CLAIMS],
)
def test_claim(
    existing: dict[str, list[str]], cidrs_of_node: list[str], problems: list[Problem]
) -> None:
    cidrs = cidr_set()
    for name, claimed in existing.items():
        cidrs.claim(name, claimed)
    rejected = cidrs.claim("n", cidrs_of_node)
    assert [r.problem for r in rejected] == problems
    owned = [str(n) for n in cidrs.owned("n")]
    assert owned == ([] if problems else cidrs_of_node)


def test_rejection_messages_name_the_range_and_the_owner() -> None:
    cidrs = cidr_set()
    cidrs.claim("x", ["10.244.5.0/24"])
    (taken,) = cidrs.claim("n", ["10.244.5.0/24"])
    assert taken.message(cidrs.cluster) == (
        "podCIDR 10.244.5.0/24 is already allocated to node x; left as it is"
    )
    (outside,) = cidrs.claim("n", ["10.0.0.0/24"])
    assert "not inside the cluster CIDR 10.244.0.0/16" in outside.message(cidrs.cluster)


def test_claim_again_replaces_what_the_node_owned() -> None:
    cidrs = cidr_set()
    assert str(cidrs.allocate("n")) == "10.244.0.0/24"
    assert cidrs.claim("n", ["10.244.7.0/24"]) == []
    assert [str(c) for c in cidrs.owned("n")] == ["10.244.7.0/24"]
    assert cidrs.owner_of("10.244.0.0/24") is None


def test_every_range_handed_out_once() -> None:
    cidrs = cidr_set("10.244.0.0/20", 26)
    got = [cidrs.allocate(f"n{i}") for i in range(cidrs.size)]
    assert cidrs.allocate("one-more") is None
    networks = [n for n in got if n is not None]
    assert len(set(networks)) == len(networks) == 64
    cluster = ipaddress.IPv4Network("10.244.0.0/20")
    assert all(isinstance(n, ipaddress.IPv4Network) and n.subnet_of(cluster) for n in networks)


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n) for n in (1, 2, 3, 7, 8, 100)] == [1.0, 2.0, 4.0, 60.0, 60.0, 60.0]


# (id, cluster, service range, the first range handed out)
SERVICE_RANGES = [
    ("outside", "10.244.0.0/16", "10.96.0.0/12", "10.244.0.0/24"),
    ("first-range", "10.244.0.0/16", "10.244.0.0/24", "10.244.1.0/24"),
    ("part-of-a-range", "10.244.0.0/16", "10.244.0.0/28", "10.244.1.0/24"),
    ("two-ranges", "10.244.0.0/16", "10.244.0.0/23", "10.244.2.0/24"),
    ("whole-cluster", "10.96.0.0/16", "10.96.0.0/12", None),
    ("other-family", "10.244.0.0/16", "fd00:96::/108", "10.244.0.0/24"),
]


@pytest.mark.parametrize(
    ("cluster", "service", "want"),
    [c[1:] for c in SERVICE_RANGES],
    ids=[c[0] for c in SERVICE_RANGES],
)
def test_service_range_is_never_handed_out(cluster: str, service: str, want: str | None) -> None:
    cidrs = CidrSet(config_from(cluster_cidr=cluster, mask_size=24, service_cidr=service))
    got = cidrs.allocate("a")
    assert (str(got) if got else None) == want


def test_node_cidr_in_the_service_range_is_rejected() -> None:
    cidrs = CidrSet(
        config_from(cluster_cidr="10.244.0.0/16", mask_size=24, service_cidr="10.244.0.0/24")
    )
    (rejected,) = cidrs.claim("n", ["10.244.0.0/24"])
    assert rejected.problem is Problem.TAKEN
    assert rejected.message(cidrs.cluster) == (
        "podCIDR 10.244.0.0/24 overlaps the service cluster IP range; left as it is"
    )


def test_bad_service_range() -> None:
    with pytest.raises(
        ValueError, match=re.escape('--service-cluster-ip-range "10.96.0.1/12" is not a network')
    ):
        config_from(cluster_cidr="10.244.0.0/16", service_cidr="10.96.0.1/12")
