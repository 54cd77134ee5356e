"""The controller-manager's node IPAM flags: checked at start-up, and
nodeipam runs only with --allocate-node-cidrs."""

from __future__ import annotations

import pytest

from controllers.main import controllers_to_run, parse_args

BASE = ["--apiserver", "127.0.0.1:1"]


def test_nodeipam_is_off_unless_allocate_node_cidrs() -> None:
    assert "nodeipam" not in controllers_to_run(parse_args(BASE))
    assert "nodeipam" not in controllers_to_run(parse_args([*BASE, "--controllers", "nodeipam"]))
    args = parse_args([*BASE, "--allocate-node-cidrs", "--cluster-cidr", "10.244.0.0/16"])
    assert "nodeipam" in controllers_to_run(args)
    assert args.node_cidr_mask_size is None  # 24 for IPv4, resolved by the controller


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--allocate-node-cidrs"], "--cluster-cidr is required"),
        (["--allocate-node-cidrs", "--cluster-cidr", "10.244.0.1/16"], "has host bits set"),
        (
            [
                "--allocate-node-cidrs",
                "--cluster-cidr",
                "10.244.0.0/16",
                "--node-cidr-mask-size",
                "8",
            ],
            "smaller than the prefix",
        ),
        (["--cluster-cidr", "10.244.0.0/16", "--node-cidr-mask-size-ipv4", "31"], "at most 30"),
    ],
    ids=["no-cluster-cidr", "host-bits", "mask-too-small", "mask-too-large"],
)
def test_bad_flags_stop_the_start(
    flags: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args([*BASE, *flags])
    assert exit_info.value.code == 2
    assert fragment in capsys.readouterr().err
