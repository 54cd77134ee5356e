"""The components' boolean flags read as Kubernetes' components read theirs
(pflag): ``--flag`` is true, ``--flag=true``/``--flag=false`` set it, a bad
value is an argument error naming the flag's values. The same Parser as the
CLI (pinnace/machinery/flags.py), so there is one way to declare one."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from apiserver.main import parse_args as apiserver_args
from controllers.main import parse_args as controller_manager_args
from kubelet.main import parse_args as kubelet_args
from pinnace.machinery.flags import BoolFlag
from proxy.main import parse_args as proxy_args
from scheduler.main import parse_args as scheduler_args

ParseArgs = Callable[[list[str]], argparse.Namespace]

# (component, the arguments it needs to parse, flag, dest, default)
CASES: list[tuple[str, ParseArgs, list[str], str, str, bool]] = [
    (
        "controller-manager",
        controller_manager_args,
        ["--apiserver", "127.0.0.1:1"],
        "--leader-elect",
        "leader_elect",
        True,
    ),
    (
        "controller-manager",
        controller_manager_args,
        ["--apiserver", "127.0.0.1:1", "--cluster-cidr", "10.244.0.0/16"],
        "--allocate-node-cidrs",
        "allocate_node_cidrs",
        False,
    ),
    ("scheduler", scheduler_args, [], "--leader-elect", "leader_elect", True),
    (
        "kubelet",
        kubelet_args,
        ["--node-name", "n", "--root-dir", "/tmp/pinnace-flags-test"],
        "--kill-pods-on-exit",
        "kill_pods_on_exit",
        False,
    ),
    (
        "kubelet",
        kubelet_args,
        ["--node-name", "n", "--root-dir", "/tmp/pinnace-flags-test"],
        "--cgroups",
        "cgroups",
        True,
    ),
    ("proxy", proxy_args, ["--apiserver", "127.0.0.1:1"], "--cleanup", "cleanup", False),
    (
        "apiserver",
        apiserver_args,
        ["--etcd-servers", "127.0.0.1:1"],
        "--rest-plain-http",
        "rest_plain_http",
        False,
    ),
    (
        "apiserver",
        apiserver_args,
        ["--etcd-servers", "127.0.0.1:1"],
        "--anonymous-auth",
        "anonymous_auth",
        False,
    ),
]
IDS = [f"{c[0]}{c[3]}" for c in CASES]


@pytest.mark.parametrize("name,parse,needed,flag,dest,default", CASES, ids=IDS)
@pytest.mark.parametrize(
    "given,want",
    [
        pytest.param([], None, id="absent"),
        pytest.param(["{flag}"], True, id="bare"),
        pytest.param(["{flag}=true"], True, id="true"),
        pytest.param(["{flag}=false"], False, id="false"),
    ],
)
def test_bool_flag_forms(
    name: str,
    parse: ParseArgs,
    needed: list[str],
    flag: str,
    dest: str,
    default: bool,
    given: list[str],
    want: bool | None,
) -> None:
    args = parse([*needed, *(g.format(flag=flag) for g in given)])
    assert getattr(args, dest) is (default if want is None else want)


@pytest.mark.parametrize("name,parse,needed,flag,dest,default", CASES, ids=IDS)
def test_bad_bool_value_is_an_argument_error(
    name: str,
    parse: ParseArgs,
    needed: list[str],
    flag: str,
    dest: str,
    default: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse([*needed, f"{flag}=maybe"])
    assert exit_.value.code == 2
    assert 'invalid boolean value "maybe"' in capsys.readouterr().err


@pytest.mark.parametrize(
    "parse,needed",
    [
        pytest.param(apiserver_args, ["--etcd-servers", "127.0.0.1:1"], id="apiserver"),
        pytest.param(controller_manager_args, ["--apiserver", "127.0.0.1:1"], id="cm"),
        pytest.param(scheduler_args, [], id="scheduler"),
        pytest.param(kubelet_args, ["--node-name", "n", "--root-dir", "/tmp/x"], id="kubelet"),
        pytest.param(proxy_args, ["--apiserver", "127.0.0.1:1"], id="proxy"),
    ],
)
def test_every_boolean_flag_is_declared_one_way(parse: ParseArgs, needed: list[str]) -> None:
    """No store_true/store_false flag is left: each boolean is a BoolFlag
    and appears in CASES."""
    captured: list[argparse.ArgumentParser] = []
    original = argparse.ArgumentParser.parse_args

    def spy(self: argparse.ArgumentParser, *a: object, **kw: object) -> argparse.Namespace:
        captured.append(self)
        return original(self, *a, **kw)  # type: ignore[arg-type]  # forwarding argparse's own overloads

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(argparse.ArgumentParser, "parse_args", spy)
        parse(needed)
    assert captured, "the component's parser was not seen: the spy checks nothing"
    actions = [a for p in captured for a in p._actions]
    stray = [a.option_strings for a in actions if isinstance(a, argparse._StoreTrueAction)]
    stray += [a.option_strings for a in actions if isinstance(a, argparse._StoreFalseAction)]
    assert stray == []
    declared = {s for a in actions if isinstance(a, BoolFlag) for s in a.option_strings}
    assert declared <= {c[3] for c in CASES}


@pytest.mark.parametrize(
    ("parse", "needed"),
    [
        pytest.param(controller_manager_args, ["--apiserver", "127.0.0.1:1"], id="cm"),
        pytest.param(scheduler_args, [], id="scheduler"),
        pytest.param(kubelet_args, ["--node-name", "n", "--root-dir", "/tmp/x"], id="kubelet"),
        pytest.param(proxy_args, ["--apiserver", "127.0.0.1:1"], id="proxy"),
    ],
)
def test_a_missing_kubeconfig_is_an_argument_error(
    parse: ParseArgs, needed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse([*needed, "--kubeconfig", "/nonexistent/kubeconfig"])
    assert exit_.value.code == 2
    assert "argument --kubeconfig: no such file: /nonexistent/kubeconfig" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
@pytest.mark.parametrize(
    "flag", ["--container-log-times-period", "--housekeeping-period", "--sync-frequency"]
)
def test_a_kubelet_period_must_be_above_zero(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        kubelet_args(["--node-name", "n", "--root-dir", "/tmp/x", f"{flag}={value}"])
    assert exit_.value.code == 2
    assert f"argument {flag}:" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
@pytest.mark.parametrize("flag", ["--etcd-healthcheck-period", "--etcd-healthcheck-timeout"])
def test_an_etcd_healthcheck_time_must_be_above_zero(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        apiserver_args(["--etcd-servers", "127.0.0.1:1", f"{flag}={value}"])
    assert exit_.value.code == 2
    assert f"argument {flag}:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "--node-name is required"),
        (["--node-name", "n", "--node-name-prefix", "h-"], "not both"),
        (["--node-name-prefix", "h-", "--nodes", "3"], "needs --runtime hollow"),
        (["--node-name-prefix", "h-", "--runtime", "hollow", "--nodes", "0"], "from 1 to 10000"),
        (["--node-name-prefix", "h-", "--runtime", "hollow", "--nodes", "10001"], "from 1 to"),
        (["--node-name", "n", "--nodes", "2"], "--nodes needs --node-name-prefix"),
    ],
    ids=[
        "no-name",
        "name-and-prefix",
        "fleet-of-processes",
        "zero-nodes",
        "too-many-nodes",
        "nodes-without-prefix",
    ],
)
def test_kubelet_node_flags_are_checked(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        kubelet_args(["--root-dir", "/tmp/x", *argv])
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_a_hollow_fleet_is_parsed() -> None:
    args = kubelet_args(
        ["--root-dir", "/tmp/x", "--runtime", "hollow", "--nodes", "5", "--node-name-prefix", "h-"]
    )
    assert (args.nodes, args.node_name_prefix, args.node_name) == (5, "h-", "")
