"""pinnace-proxy's flags: defaults, accepted forms, and bad values refused
at start with a message naming the flag."""

from __future__ import annotations

import ipaddress
import shutil

import pytest

from proxy import main as main_module
from proxy.main import config_from, parse_args

API = ["--apiserver", "127.0.0.1:1,127.0.0.1:2"]


def test_defaults() -> None:
    args = parse_args(API)
    config = config_from(args)
    assert config.cluster_cidr == ipaddress.IPv4Network("10.244.0.0/16")
    assert config.service_cidr == ipaddress.IPv4Network("10.96.0.0/12")
    assert config.nodeport_addresses == (ipaddress.IPv4Network("127.0.0.0/8"),)
    assert config.table == "pinnace"
    assert args.min_sync_period == 0.1 and args.sync_period == 30.0
    assert args.cleanup is False and args.health_listen == "" and args.log_level == "info"


@pytest.mark.parametrize(
    "given,dest,want",
    [
        pytest.param(["--min-sync-period", "250ms"], "min_sync_period", 0.25, id="duration"),
        pytest.param(["--min-sync-period", "0"], "min_sync_period", 0.0, id="zero-period"),
        pytest.param(["--sync-period", "1m"], "sync_period", 60.0, id="sync-period"),
        pytest.param(
            ["--nodeport-addresses", "127.0.0.1, 192.168.1.0/24"],
            "nodeport_addresses",
            (ipaddress.IPv4Network("127.0.0.1/32"), ipaddress.IPv4Network("192.168.1.0/24")),
            id="nodeport-list",
        ),
        pytest.param(
            ["--cluster-cidr", "10.200.0.0/16"],
            "cluster_cidr",
            ipaddress.IPv4Network("10.200.0.0/16"),
            id="cluster-cidr",
        ),
    ],
)
def test_accepted(given: list[str], dest: str, want: object) -> None:
    assert getattr(parse_args([*API, *given]), dest) == want


def test_cleanup_needs_no_apiserver() -> None:
    assert parse_args(["--cleanup"]).cleanup is True


@pytest.mark.parametrize(
    "given,message",
    [
        pytest.param([], "--apiserver is required", id="no-apiserver"),
        pytest.param(
            [*API, "--cluster-cidr", "10.244.0.1/16"], "argument --cluster-cidr", id="host-bits"
        ),
        pytest.param([*API, "--cluster-cidr", "banana"], "not an IPv4 CIDR", id="not-cidr"),
        pytest.param([*API, "--service-cluster-ip-range", "fd00::/108"], "only IPv4", id="ipv6"),
        pytest.param(
            [*API, "--nodeport-addresses", ""],
            "argument --nodeport-addresses",
            id="empty-nodeports",
        ),
        pytest.param(
            [*API, "--nodeport-addresses", "127.0.0.1,x"],
            "argument --nodeport-addresses",
            id="bad-nodeport",
        ),
        pytest.param(
            [*API, "--min-sync-period", "-1"], "argument --min-sync-period", id="negative"
        ),
        pytest.param(
            [*API, "--min-sync-period", "soon"], "argument --min-sync-period", id="not-a-period"
        ),
        pytest.param([*API, "--sync-period", "0"], "more than 0", id="zero-sync-period"),
        pytest.param([*API, "--log-level", "loud"], "argument --log-level", id="log-level"),
        pytest.param(
            [*API, "--cluster-cidr", "10.96.0.0/16"],
            "--service-cluster-ip-range 10.96.0.0/12 overlap",
            id="overlap",
        ),
        pytest.param([*API, "--cleanup=maybe"], 'invalid boolean value "maybe"', id="cleanup-bool"),
    ],
)
def test_refused(given: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(given)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "euid,missing,message",
    [
        pytest.param(1000, "", "not running as root", id="not-root"),
        pytest.param(0, "nft", "'nft' command (nftables) is not installed", id="no-nft"),
        pytest.param(0, "ip", "'ip' command (iproute2) is not installed", id="no-ip"),
    ],
)
def test_start_refused_without_root_or_tools(
    euid: int,
    missing: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The proxy says why and exits 1 before touching anything."""
    monkeypatch.setattr(main_module.os, "geteuid", lambda: euid)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda t: None if t == missing else real_which(t) or t)
    with pytest.raises(SystemExit) as exit_:
        main_module.main(API)
    assert exit_.value.code == 1
    assert "pinnace-proxy cannot run: " in caplog.text and message in caplog.text
