"""Flags as Kubernetes' commands take them: booleans (``--wait``, ``--wait=true``,
``--wait=false``) and durations (``--timeout=1m30s``).

kubectl's boolean flags (spf13/pflag with ``NoOptDefVal``) are true when
given bare and take a value only after ``=``: ``--wait false`` is the flag
``--wait`` followed by the argument ``false``. argparse cannot say that
directly: ``store_true`` rejects ``--wait=false`` and ``nargs="?"`` swallows
the next argument (``get -w pods`` would read "pods" as the flag's value).

So every boolean flag is declared with :func:`add_bool_flag` (an optional
value parsed by :func:`parse_bool`) on a :class:`Parser`, which, before
argparse sees the arguments, rewrites each bare boolean flag to
``FLAG=true`` (and ``-Aw`` to ``-A=true -w=true``). A bare flag followed by
a lone ``true``/``false`` is refused with a hint to write ``FLAG=VALUE``:
before this rule ``delete --wait false`` meant "do not wait", and silently
reading it as "wait, and delete the object named false" would be a trap.

Values are Go's ``strconv.ParseBool`` (1, t, T, TRUE, true, True, 0, f, F,
FALSE, false, False), plus yes/no, which ``rollout status --watch`` took.

The CLI and every component (apiserver, controller-manager, scheduler,
kubelet) declare their flags on a :class:`Parser`, so ``--leader-elect``,
``--leader-elect=false`` and ``--kill-pods-on-exit`` read the same way
everywhere, as Kubernetes' pflag-based commands do.

A duration flag (``type=duration``) is read by
:func:`pinnace.machinery.duration.parse_duration` when the arguments are
parsed, so a bad one is an argument error like any other.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, overload

from pinnace.machinery.duration import parse_duration

_N = TypeVar("_N")
_TRUE = frozenset({"1", "t", "true", "yes"})
_FALSE = frozenset({"0", "f", "false", "no"})


def parse_bool(text: str) -> bool:
    """A flag value as Go's strconv.ParseBool reads it (case-insensitive)."""
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f'invalid boolean value "{text}": use true or false')


def duration(text: str) -> float:
    """A duration flag's value in seconds (argparse ``type=``)."""
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def ipv4_cidr(largest_prefix: int = 32) -> Callable[[str], ipaddress.IPv4Network]:
    """An argparse ``type=``: an IPv4 CIDR such as 10.244.0.0/16 (no host
    bits set) of at most ``largest_prefix`` bits of prefix."""

    def parse(text: str) -> ipaddress.IPv4Network:
        try:
            net = ipaddress.ip_network(text.strip(), strict=True)
        except ValueError as e:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an IPv4 CIDR such as 10.244.0.0/16 ({e})"
            ) from None
        if not isinstance(net, ipaddress.IPv4Network):
            raise argparse.ArgumentTypeError(f"{text!r}: only IPv4 is supported")
        if net.prefixlen > largest_prefix:
            raise argparse.ArgumentTypeError(f"{text!r}: need a /{largest_prefix} or larger range")
        return net

    return parse


class BoolFlag(argparse.Action):
    """A boolean flag: bare means true, ``=VALUE`` sets it (see module doc)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, True if values is None else values)


def add_kubeconfig_flag(parser: argparse.ArgumentParser) -> None:
    """A component's ``--kubeconfig``: the cluster's CA and this component's
    credentials (and, without ``--apiserver``, the apiserver's endpoint)."""
    parser.add_argument(
        "--kubeconfig",
        type=_kubeconfig_file,
        default=None,
        help="kubeconfig with the cluster CA and this component's client certificate "
        "(default: none, a plain connection)",
    )


def positive_seconds(text: str) -> float:
    """A period flag's value: a number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def at_least_one(text: str) -> int:
    """A count flag's value: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text!r}")
    return value


def _kubeconfig_file(text: str) -> str:
    """A kubeconfig flag's value: a file that exists (read when connecting)."""
    if not os.path.isfile(os.path.expanduser(text)):
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return text


def add_bool_flag(
    parser: argparse.ArgumentParser, *names: str, default: bool = False, help: str = ""
) -> argparse.Action:
    """Declare a kubectl-style boolean flag (the one way the CLI does)."""
    if not isinstance(parser, Parser):
        raise TypeError("boolean flags need a pinnace.machinery.flags.Parser (bare-flag rewriting)")
    shown = f"{help} (default {str(default).lower()})" if help else f"default {default}".lower()
    return parser.add_argument(
        *names,
        action=BoolFlag,
        nargs="?",
        type=parse_bool,
        default=default,
        metavar="true|false",
        help=shown,
    )


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose boolean flags (add_bool_flag) behave as
    kubectl's. Subcommand parsers inherit the class (add_subparsers)."""

    def _bool_options(self) -> set[str]:
        return {s for a in self._actions if isinstance(a, BoolFlag) for s in a.option_strings}

    def _short_bools(self) -> set[str]:
        return {s[1] for s in self._bool_options() if len(s) == 2 and s[0] == "-"}

    def normalize(self, args: Iterable[str]) -> list[str]:
        """The arguments with every bare boolean flag written ``FLAG=true``.
        Stops at the first token that is not an option or positional of
        this parser's own options: a subcommand parses its own tokens."""
        bools, shorts = self._bool_options(), self._short_bools()
        out: list[str] = []
        tokens = list(args)
        for i, token in enumerate(tokens):
            if token == "--":
                return out + tokens[i:]
            expanded = self._expand(token, bools, shorts)
            if expanded is None:
                out.append(token)
                continue
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            if following.lower() in ("true", "false"):
                flag = expanded[-1].partition("=")[0]
                self.error(
                    f"boolean flag {flag} takes its value after '=': "
                    f"write {flag}={following.lower()}"
                )
            out += expanded
        return out

    @staticmethod
    def _expand(token: str, bools: set[str], shorts: set[str]) -> list[str] | None:
        if token in bools:
            return [f"{token}=true"]
        body = token[1:]
        if token.startswith("-") and not token.startswith("--") and len(body) > 1:
            if all(c in shorts for c in body):
                return [f"-{c}=true" for c in body]
        return None

    @overload
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: None = None
    ) -> tuple[argparse.Namespace, list[str]]: ...
    @overload
    def parse_known_args(
        self, args: Iterable[str] | None, namespace: _N
    ) -> tuple[_N, list[str]]: ...
    @overload
    def parse_known_args(self, *, namespace: _N) -> tuple[_N, list[str]]: ...
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        given = sys.argv[1:] if args is None else args
        return super().parse_known_args(self.normalize(given), namespace)
