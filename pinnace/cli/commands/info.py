"""pinnace api-resources, pinnace version."""

from __future__ import annotations

import argparse
from importlib.metadata import version as dist_version

from pinnace.cli.connect import connect


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("api-resources", help="list the kinds the server serves")
    p.set_defaults(func=api_resources)
    p = sub.add_parser("version", help="print the client and server versions")
    p.set_defaults(func=version)


def api_resources(args: argparse.Namespace) -> int:
    with connect(args) as client:
        resp = client.discovery()
    rows = [("NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND")]
    for r in sorted(resp.resources, key=lambda r: (r.group, r.name)):
        api_version = f"{r.group}/{r.version}" if r.group else r.version
        rows.append(
            (r.name, ",".join(r.short_names), api_version, str(r.namespaced).lower(), r.kind)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def version(args: argparse.Namespace) -> int:
    print(f"Client Version: pinnace-{dist_version('pinnace')}")
    with connect(args, timeout=5) as client:
        print(f"Server Version: {client.discovery().server_version}")
    return 0
