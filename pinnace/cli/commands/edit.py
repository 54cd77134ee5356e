"""pinnace label / annotate / patch / cordon / uncordon."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pinnace.cli.connect import connect
from pinnace.cli.targets import parse_pairs, ref, split_kind
from pinnace.machinery.flags import add_bool_flag


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for verb in ("label", "annotate"):
        p = sub.add_parser(
            verb,
            help=f"update the {verb.replace('annotate', 'annotation')}s of an object (KEY=VALUE sets, KEY- removes)",
        )
        p.add_argument("kind", help="KIND or KIND/NAME")
        p.add_argument("args", nargs="+", help="[NAME] KEY=VALUE ... KEY- ...")
        p.add_argument("-n", "--namespace", default="default")
        add_bool_flag(p, "--overwrite", help="allow changing an existing value")
        p.set_defaults(func=label if verb == "label" else annotate)
    p = sub.add_parser("patch", help="patch an object with a JSON merge or JSON patch")
    p.add_argument("kind", help="KIND or KIND/NAME")
    p.add_argument("names", nargs="*")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("--type", default="merge", choices=["merge", "json"])
    p.add_argument("-p", "--patch", required=True, help="the patch, JSON")
    p.add_argument("--subresource", default="", choices=["", "status"])
    p.set_defaults(func=patch)
    for verb in ("cordon", "uncordon"):
        p = sub.add_parser(verb, help=f"mark a node {'un' if verb == 'cordon' else ''}schedulable")
        p.add_argument("node")
        p.set_defaults(func=cordon if verb == "cordon" else uncordon)


def _meta_map(args: argparse.Namespace, field: str) -> int:
    info, rest = split_kind(args.kind, args.args)
    names = [a for a in rest if "=" not in a and not a.endswith("-")]
    pairs = parse_pairs([a for a in rest if a not in names])
    if not names:
        raise ValueError("a name is required")
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        for name in names:
            current = getattr(handle.get(name).metadata, field)
            for key, value in pairs.items():
                if (
                    value is not None
                    and key in current
                    and current[key] != value
                    and not args.overwrite
                ):
                    raise ValueError(
                        f"'{key}' already has a value ({current[key]}), and --overwrite is false"
                    )
            obj = handle.patch(name, {"metadata": {field: pairs}})
            print(f"{ref(obj)} {'labeled' if field == 'labels' else 'annotated'}")
    return 0


def label(args: argparse.Namespace) -> int:
    return _meta_map(args, "labels")


def annotate(args: argparse.Namespace) -> int:
    return _meta_map(args, "annotations")


def patch(args: argparse.Namespace) -> int:
    info, names = split_kind(args.kind, args.names)
    try:
        body: Any = json.loads(args.patch)
    except ValueError as e:
        raise ValueError(f"the patch is not valid JSON: {e}") from None
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        for name in names:
            before = handle.get(name).metadata.resource_version
            obj = handle.patch(name, body, patch_type=args.type, subresource=args.subresource)
            same = obj.metadata.resource_version == before
            print(f"{ref(obj)} {'patched (no change)' if same else 'patched'}")
    return 0


def _set_unschedulable(args: argparse.Namespace, value: bool) -> int:
    with connect(args) as client:
        node = client.nodes().get(args.node)
        if node.spec.unschedulable == value:
            print(f"node/{args.node} already {'cordoned' if value else 'uncordoned'}")
            return 0
        client.nodes().patch(args.node, {"spec": {"unschedulable": value or None}})
        print(f"node/{args.node} {'cordoned' if value else 'uncordoned'}")
    return 0


def cordon(args: argparse.Namespace) -> int:
    return _set_unschedulable(args, True)


def uncordon(args: argparse.Namespace) -> int:
    return _set_unschedulable(args, False)
