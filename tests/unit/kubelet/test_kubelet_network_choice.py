"""Which pod network the kubelet's flags give (kubelet/app.py make_network)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kubelet.app import make_network
from kubelet.context import Config
from kubelet.network import HostNetwork, NetworkUnavailable
from kubelet.network.bridge import BridgeNetwork
from pinnace.machinery import hostnet


@pytest.mark.parametrize(
    ("flag", "runtime", "unavailable", "expected"),
    [
        ("auto", "process", "", BridgeNetwork),
        ("auto", "process", "not running as root", HostNetwork),
        ("host", "process", "", HostNetwork),
        ("bridge", "process", "", BridgeNetwork),
        ("auto", "hollow", "", HostNetwork),
    ],
    ids=["auto-root", "auto-not-root-falls-back", "host", "bridge", "hollow-never-namespaces"],
)
def test_network_choice(
    flag: str,
    runtime: str,
    unavailable: str,
    expected: type,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(hostnet, "pod_network_unavailable", lambda: unavailable)
    cfg = Config(node_name="n1", root_dir=tmp_path, pod_network=flag, runtime=runtime)
    with caplog.at_level(logging.WARNING):
        network = make_network(cfg)
    assert isinstance(network, expected)
    assert network.mode == ("bridge" if expected is BridgeNetwork else "host")
    if unavailable:  # the fallback is said at start-up, with the reason
        assert "pods share the host's network (not running as root)" in caplog.text


def test_bridge_when_impossible_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostnet, "pod_network_unavailable", lambda: "not running as root")
    cfg = Config(node_name="n1", root_dir=tmp_path, pod_network="bridge")
    with pytest.raises(
        NetworkUnavailable, match="--pod-network bridge is not possible here: not running as root"
    ):
        make_network(cfg)
