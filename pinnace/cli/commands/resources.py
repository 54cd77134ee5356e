"""pinnace get / create / apply / delete."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from google.protobuf.message import Message

from pinnace.cli.connect import connect
from pinnace.cli.printing import render
from pinnace.cli.targets import ref, split_kind
from pinnace.client import Client, NotFound, object_meta
from pinnace.machinery import codec, errors, kinds
from pinnace.machinery.flags import add_bool_flag, duration
from pinnace.machinery.manifests import load_manifests
from pinnace.machinery.patch import merge_patch
from pinnace.machinery.wellknown import ANNOTATION_LAST_APPLIED


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("get", help="display one or many objects")
    p.add_argument("kind", help="kind, plural or short name (pods, deploy, ...), or KIND/NAME")
    p.add_argument("names", nargs="*")
    p.add_argument("-n", "--namespace", default="default")
    add_bool_flag(p, "-A", "--all-namespaces", help="list across all namespaces")
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_argument("--field-selector", default="")
    p.add_argument("-o", "--output", default="", help="wide, yaml, json or name")
    add_bool_flag(p, "-w", "--watch", help="after listing, print changes as they happen")
    p.set_defaults(func=get)

    for verb in ("create", "apply"):
        p = sub.add_parser(verb, help=f"{verb} objects from manifests")
        p.add_argument(
            "-f", "--filename", required=True, action="append", help="file, directory or -"
        )
        p.add_argument("-n", "--namespace", default=None)
        p.set_defaults(func=create if verb == "create" else apply)

    p = sub.add_parser("delete", help="delete objects by name or from manifests")
    p.add_argument("kind", nargs="?", help="kind, or KIND/NAME")
    p.add_argument("names", nargs="*")
    p.add_argument("-f", "--filename", action="append", default=[])
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("-l", "--selector", default="")
    p.add_argument(
        "--cascade", default="background", choices=["background", "foreground", "orphan"]
    )
    p.add_argument("--grace-period", type=int, default=None)
    add_bool_flag(p, "--wait", default=True, help="wait until the objects are gone")
    p.add_argument(
        "--timeout", type=duration, default="0s", help="how long --wait waits (0: forever)"
    )
    p.set_defaults(func=delete)


def get(args: argparse.Namespace) -> int:
    info, names = split_kind(args.kind, args.names)
    namespace = "" if args.all_namespaces else args.namespace
    with connect(args) as client:
        handle = client.resource(info, namespace)
        rv = ""
        if names:
            objects = [handle.get(n) for n in names]
        else:
            listed = handle.list(label_selector=args.selector, field_selector=args.field_selector)
            objects, rv = listed.items, listed.resource_version
        if not objects and args.output in ("", "wide") and not args.watch:
            where = (
                "" if args.all_namespaces or not info.namespaced else f" in {namespace} namespace"
            )
            print(f"No resources found{where}.", file=sys.stderr)
            return 0
        single = len(names) == 1 and not args.watch
        out = render(objects, args.output, single=single, all_namespaces=args.all_namespaces)
        if out:
            print(out, flush=True)
        if args.watch:
            _watch(handle, args, names, rv)
    return 0


def _watch(handle: Any, args: argparse.Namespace, names: list[str], rv: str) -> None:
    """Print each change as kubectl get -w does: one row (or document) per event."""
    fields = args.field_selector
    if len(names) == 1:
        fields = ",".join(f for f in (fields, f"metadata.name={names[0]}") if f)
    events = handle.watch(
        resource_version=rv or "",
        label_selector=args.selector,
        field_selector=fields,
        allow_bookmarks=False,
    )
    for ev in events:
        if ev.object is None or (len(names) > 1 and ev.object.metadata.name not in names):
            continue
        if not rv and ev.type == "ADDED" and names:
            continue  # the named objects were printed already
        text = render([ev.object], args.output, single=True, all_namespaces=args.all_namespaces)
        if args.output in ("", "wide"):
            text = text.splitlines()[-1]
        print(text, flush=True)


def _objects(args: argparse.Namespace) -> list[Message]:
    objects: list[Message] = []
    for f in args.filename:
        objects += load_manifests(f)
    for obj in objects:
        meta = object_meta(obj)
        if kinds.by_message(obj).namespaced and not meta.namespace:
            meta.namespace = args.namespace or "default"
        elif args.namespace and meta.namespace and meta.namespace != args.namespace:
            raise ValueError(
                f"the namespace from the provided object ({meta.namespace}) does not match"
                f" the namespace given with -n ({args.namespace})"
            )
    return objects


def create(args: argparse.Namespace) -> int:
    with connect(args) as client:
        for obj in _objects(args):
            made = client.create(obj)
            print(f"{ref(made)} created")
    return 0


def three_way_patch(last: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The merge patch client-side apply sends: fields in the manifest as
    written, and null for fields the previous apply set but this one drops."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        old = last.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            patch[key] = three_way_patch(old, value)
        else:
            patch[key] = value
    for key in last:
        if key not in new:
            patch[key] = None
    return patch


def apply(args: argparse.Namespace) -> int:
    with connect(args) as client:
        for obj in _objects(args):
            meta = object_meta(obj)
            desired = codec.to_dict(obj)
            handle = client.resource(type(obj), meta.namespace)
            try:
                live = handle.get(meta.name)
            except NotFound:
                meta.annotations[ANNOTATION_LAST_APPLIED] = json.dumps(
                    desired, separators=(",", ":")
                )
                print(f"{ref(handle.create(obj))} created")
                continue
            live_meta = object_meta(live)
            last = json.loads(live_meta.annotations.get(ANNOTATION_LAST_APPLIED) or "{}")
            patch = three_way_patch(last, desired)
            patch = merge_patch(
                patch,
                {
                    "metadata": {
                        "annotations": {
                            ANNOTATION_LAST_APPLIED: json.dumps(desired, separators=(",", ":"))
                        }
                    }
                },
            )
            updated = handle.patch(meta.name, patch)
            same = object_meta(updated).resource_version == live_meta.resource_version
            print(f"{ref(updated)} {'unchanged' if same else 'configured'}")
    return 0


def delete(args: argparse.Namespace) -> int:
    policy = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}[
        args.cascade
    ]
    options: dict[str, Any] = {"propagation_policy": policy}
    if args.grace_period is not None:
        options["grace_period_seconds"] = args.grace_period
    targets: list[tuple[kinds.KindInfo, str, str]] = []
    if args.filename:
        for f in args.filename:
            for obj in load_manifests(f):
                info = kinds.by_message(obj)
                meta = object_meta(obj)
                targets.append((info, meta.namespace or args.namespace, meta.name))
    elif args.kind:
        info, names = split_kind(args.kind, args.names)
        targets += [(info, args.namespace, n) for n in names]
        if not names and args.selector:
            with connect(args) as client:
                for o in (
                    client.resource(info, args.namespace).list(label_selector=args.selector).items
                ):
                    targets.append((info, args.namespace, o.metadata.name))
        elif not names:
            raise ValueError("resource(s) were provided, but no name was specified")
    else:
        raise ValueError(
            "you must provide one or more resources by KIND NAME, -l SELECTOR or -f FILE"
        )
    failed = 0
    pending: list[tuple[kinds.KindInfo, str, Message]] = []
    with connect(args) as client:
        for info, ns, name in targets:
            try:
                obj = client.resource(info, ns).delete(name, **options)
                print(f"{ref(obj)} deleted", flush=True)
                pending.append((info, ns, obj))
            except NotFound as e:
                print(f"Error from server (NotFound): {e.message}", file=sys.stderr)
                failed += 1
        if args.wait:
            _wait_gone(client, pending, args.timeout)
    return 1 if failed else 0


def _wait_gone(
    client: Client, pending: list[tuple[kinds.KindInfo, str, Message]], timeout: float
) -> None:
    """Wait until each deleted object (that uid) is gone, as kubectl delete
    --wait; ``timeout`` seconds (0: forever)."""
    deadline = time.monotonic() + timeout if timeout > 0 else None
    for info, ns, obj in pending:
        meta = object_meta(obj)
        while True:
            try:
                if client.resource(info, ns).get(meta.name).metadata.uid != meta.uid:
                    break
            except NotFound:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise errors.Timeout(f"timed out waiting for {ref(obj)} to be deleted")
            time.sleep(0.1)
