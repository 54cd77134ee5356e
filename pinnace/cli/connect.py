"""The CLI's connection: ``--server`` and ``--kubeconfig``/``--context``,
with the kubeconfig found as kubectl finds it when not named."""

from __future__ import annotations

import argparse
from dataclasses import replace

from pinnace.client import Client
from pinnace.client.config import default_kubeconfig, load_config

__all__ = ["add_connection_flags", "connect"]


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server", "-s", default=None, help="apiserver address(es), host:port[,host:port]"
    )
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="the kubeconfig with the cluster's CA and your credentials "
        "(default: $KUBECONFIG, else the one `pinnace up` wrote)",
    )
    parser.add_argument(
        "--context", default=None, help="the kubeconfig context to use (default: its current one)"
    )
    parser.add_argument(
        "--as", dest="as_user", default="", help="act as this user (needs the impersonate verb)"
    )
    parser.add_argument(
        "--as-group",
        action="append",
        default=[],
        help="act as a member of this group (repeatable; needs --as)",
    )


def connect(args: argparse.Namespace, *, timeout: float = 30.0) -> Client:
    """A client for the cluster the flags (or their defaults) name."""
    kubeconfig = args.kubeconfig or default_kubeconfig()
    config = load_config(args.server, kubeconfig=kubeconfig, context=args.context)
    if args.as_user or args.as_group:
        config = replace(
            config, impersonate_user=args.as_user, impersonate_groups=tuple(args.as_group)
        )
    return Client(config=config, timeout=timeout)
