"""pinnace: drive a Pinnace cluster with kubectl's verbs.

Every command reads the server from --server, $PINNACE_SERVER or the config
file written by ``pinnace up``. Errors print one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import sys

from pinnace.cli.commands import (
    auth,
    batch,
    certs,
    cluster,
    describe,
    drain,
    edit,
    expose,
    info,
    pods,
    portforward,
    resources,
    rollout,
    wait,
)
from pinnace.cli.connect import add_connection_flags
from pinnace.machinery import errors
from pinnace.machinery.codec import CodecError
from pinnace.machinery.flags import Parser
from pinnace.machinery.kinds import UnknownKindError


class CliError(Exception):
    """A user mistake the CLI reports as one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="pinnace", description="Drive a Pinnace cluster (kubectl's verbs).")
    add_connection_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (
        cluster,
        certs,
        auth,
        resources,
        edit,
        drain,
        describe,
        wait,
        pods,
        info,
        rollout,
        batch,
        expose,
        portforward,
    ):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after "--" is passed through untouched (exec's command):
    # argparse's own "--" handling does not reach subcommands.
    passthrough: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    args.passthrough = passthrough
    try:
        code = args.func(args)
    except errors.ApiError as e:
        print(
            f"Error from server ({e.status.reason or type(e).__name__}): {e.message}",
            file=sys.stderr,
        )
        sys.exit(1)
    except (CliError, CodecError, UnknownKindError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
