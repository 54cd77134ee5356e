"""Pod IPs from the podCIDR, one file per address (kubelet/network/ipam.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.network.ipam import AddressesExhausted, Ipam


def test_lowest_free_address_skipping_the_gateway(tmp_path: Path) -> None:
    ipam = Ipam(tmp_path, "10.244.3.0/24")
    assert str(ipam.gateway) == "10.244.3.1"
    assert ipam.allocate("a") == "10.244.3.2"
    assert ipam.allocate("b") == "10.244.3.3"
    assert ipam.allocate("a") == "10.244.3.2"  # idempotent per pod
    assert ipam.release("a") == ["10.244.3.2"]
    assert ipam.allocate("c") == "10.244.3.2"  # freed addresses are reused


def test_survives_a_new_instance(tmp_path: Path) -> None:
    """A restarted kubelet finds every pod's address."""
    Ipam(tmp_path, "10.244.3.0/24").allocate("a")
    again = Ipam(tmp_path, "10.244.3.0/24")
    assert again.lookup("a") == "10.244.3.2"
    assert again.allocate("b") == "10.244.3.3"


def test_exhausted_range_says_so(tmp_path: Path) -> None:
    ipam = Ipam(tmp_path, "10.244.3.0/30")  # hosts .1 (gateway) and .2
    assert ipam.allocate("a") == "10.244.3.2"
    with pytest.raises(AddressesExhausted, match="no free address left in the node's podCIDR"):
        ipam.allocate("b")


def test_release_all_but_frees_gone_pods_and_other_cidrs(tmp_path: Path) -> None:
    old = Ipam(tmp_path, "10.244.9.0/24")
    old.allocate("keep-old-cidr")
    new = Ipam(tmp_path, "10.244.3.0/24")
    new.allocate("keep")
    new.allocate("gone")
    freed = new.release_all_but({"keep", "keep-old-cidr"})
    assert sorted(freed) == ["10.244.3.3", "10.244.9.2"]
    assert new.lookup("keep") == "10.244.3.2"
