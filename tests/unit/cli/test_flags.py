"""Every boolean flag of the CLI behaves as kubectl's: ``--flag`` (true),
``--flag=true``, ``--flag=false``; a bad value is a clear error; a bare
flag never swallows the argument after it."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pinnace.cli.main import build_parser
from pinnace.machinery.flags import BoolFlag, parse_bool

# (subcommand path, positional arguments that make it parse, dest, default)
BOOL_FLAGS: list[tuple[tuple[str, ...], tuple[str, ...], str, bool]] = [
    (("get",), ("pods",), "all_namespaces", False),
    (("get",), ("pods",), "watch", False),
    (("delete",), ("pod", "x"), "wait", True),
    (("rollout", "status"), ("deploy/x",), "watch", True),
    (("up",), (), "detach", False),
    (("label",), ("pod", "x", "a=b"), "overwrite", False),
    (("annotate",), ("pod", "x", "a=b"), "overwrite", False),
    (("drain",), ("node-1",), "ignore_daemonsets", False),
    (("drain",), ("node-1",), "force", False),
    (("drain",), ("node-1",), "delete_emptydir_data", False),
    (("logs",), ("p",), "follow", False),
    (("logs",), ("p",), "previous", False),
    (("exec",), ("p",), "stdin", False),
]


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def _option_strings(path: tuple[str, ...], dest: str) -> list[str]:
    parsers = dict(_parsers(build_parser()))
    return next(a.option_strings for a in parsers[path]._actions if a.dest == dest)


@dataclass(frozen=True)
class Case:
    """One option string of one boolean flag, with what makes its command parse."""

    path: tuple[str, ...]
    positionals: tuple[str, ...]
    dest: str
    default: bool
    option: str

    def parse(self, *flag_args: str, before: bool = False) -> argparse.Namespace:
        """Parse the command with ``flag_args`` after (or before) its positionals."""
        middle = [*flag_args, *self.positionals] if before else [*self.positionals, *flag_args]
        return build_parser().parse_args([*self.path, *middle])


CASES = [
    pytest.param(Case(path, positionals, dest, default, option), id=f"{' '.join(path)} {option}")
    for path, positionals, dest, default in BOOL_FLAGS
    for option in _option_strings(path, dest)
]


def test_the_table_lists_every_boolean_flag() -> None:
    """A new boolean flag must use add_bool_flag and be added to the table."""
    found = set()
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            assert not isinstance(
                action, (argparse._StoreTrueAction, argparse._StoreFalseAction)
            ), f"{' '.join(path)} {action.option_strings}: declare it with add_bool_flag"
            if isinstance(action, BoolFlag):
                found.add((path, action.dest))
    assert found == {(path, dest) for path, _, dest, _ in BOOL_FLAGS}


def _parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    ("suffix", "want"),
    [("", True), ("=true", True), ("=false", False), ("=True", True), ("=0", False)],
    ids=["bare", "true", "false", "True", "zero"],
)
def test_flag_forms(case: Case, suffix: str, want: bool) -> None:
    # Before the positionals too: a bare flag must not take them.
    args = case.parse(case.option + suffix, before=True)
    assert getattr(args, case.dest) is want
    assert case.parse(case.option + suffix) == args


@pytest.mark.parametrize("case", CASES)
def test_flag_default(case: Case) -> None:
    assert getattr(case.parse(), case.dest) is case.default


@pytest.mark.parametrize("case", CASES)
def test_bad_value_is_a_clear_error(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        case.parse(f"{case.option}=maybe")
    assert exit_info.value.code == 2
    names = "/".join(_option_strings(case.path, case.dest))
    assert f'argument {names}: invalid boolean value "maybe"' in capsys.readouterr().err


def test_space_separated_value_is_refused_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse("delete", "pod", "x", "--wait", "false")
    assert "write --wait=false" in capsys.readouterr().err


def test_short_flags_combine() -> None:
    args = _parse("get", "-Aw", "pods")
    assert (args.all_namespaces, args.watch, args.kind) == (True, True, "pods")


@pytest.mark.parametrize(
    ("text", "want"),
    [("1", True), ("t", True), ("TRUE", True), ("yes", True), ("0", False), ("F", False)],
    ids=["one", "t", "upper-true", "yes", "zero", "upper-f"],
)
def test_parse_bool(text: str, want: bool) -> None:
    assert parse_bool(text) is want


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
@pytest.mark.parametrize(
    "flag", ["--etcd-members", "--apiservers", "--controller-managers", "--schedulers"]
)
def test_up_counts_are_whole_numbers_of_at_least_one(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["up", f"{flag}={value}"])
    assert exit_.value.code == 2
    assert f"argument {flag}:" in capsys.readouterr().err


def test_up_counts_default_to_one_and_take_more() -> None:
    args = build_parser().parse_args(["up", "--etcd-members", "3", "--apiservers", "2"])
    assert (args.etcd_members, args.apiservers, args.controller_managers, args.schedulers) == (
        3,
        2,
        1,
        1,
    )
