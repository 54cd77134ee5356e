"""pinnace describe: an object in detail, with its events (kubectl describe)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml
from google.protobuf.message import Message

from pinnace.api.core.v1 import service_pb2
from pinnace.cli.connect import connect
from pinnace.cli.describe_service import describe_service
from pinnace.cli.printing import age
from pinnace.cli.targets import split_kind
from pinnace.client import Client, object_meta
from pinnace.machinery import codec
from pinnace.machinery.wellknown import LABEL_SERVICE_NAME


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("describe", help="show an object in detail, with its events")
    p.add_argument("kind", help="KIND or KIND/NAME")
    p.add_argument("names", nargs="*")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("-l", "--selector", default="")
    p.set_defaults(func=describe)


def _events(client: Client, obj: Message) -> list[Any]:
    meta = object_meta(obj)
    ns = meta.namespace or "default"
    items = client.events(ns).list(field_selector=f"involvedObject.uid={meta.uid}").items
    return sorted(
        items, key=lambda e: e.last_timestamp or e.first_timestamp or e.metadata.creation_timestamp
    )


def render_description(obj: Message, events: list[Any]) -> str:
    doc = codec.to_dict(obj)
    meta = doc.pop("metadata", {})
    doc.pop("apiVersion", None)
    doc.pop("kind", None)
    lines = [f"Name:         {meta.get('name', '')}"]
    if meta.get("namespace"):
        lines.append(f"Namespace:    {meta['namespace']}")
    labels = meta.get("labels") or {}
    lines.append(
        "Labels:       "
        + ("\n              ".join(f"{k}={v}" for k, v in labels.items()) or "<none>")
    )
    annotations = meta.get("annotations") or {}
    lines.append(
        "Annotations:  "
        + ("\n              ".join(f"{k}: {v}" for k, v in annotations.items()) or "<none>")
    )
    lines.append(f"Created:      {meta.get('creationTimestamp', '')}")
    if meta.get("deletionTimestamp"):
        lines.append(f"Deleting:     since {meta['deletionTimestamp']}")
    if meta.get("ownerReferences"):
        owners = ", ".join(f"{o['kind']}/{o['name']}" for o in meta["ownerReferences"])
        lines.append(f"Controlled By: {owners}")
    for section, body in doc.items():
        lines.append(f"{section[0].upper()}{section[1:]}:")
        text = yaml.safe_dump(body, sort_keys=False, default_flow_style=False).rstrip()
        lines += ["  " + line for line in text.splitlines()]
    lines.append("Events:" + ("" if events else "  <none>"))
    if events:
        rows = [("Type", "Reason", "Age", "From", "Message")]
        for e in events:
            when = e.last_timestamp or e.first_timestamp or e.metadata.creation_timestamp
            count = f" (x{e.count} over {age(e.first_timestamp)})" if e.count > 1 else ""
            source = e.source.component or e.reporting_component
            rows.append((e.type, e.reason, age(when) + count, source, e.message))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            lines.append(
                "  "
                + "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True))
                + "  "
                + r[4]
            )
    return "\n".join(lines)


def describe(args: argparse.Namespace) -> int:
    info, names = split_kind(args.kind, args.names)
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        objects = (
            [handle.get(n) for n in names]
            if names
            else handle.list(label_selector=args.selector).items
        )
        if not objects:
            print(f"No resources found in {args.namespace} namespace.", file=sys.stderr)
        print("\n\n".join(_describe_one(client, o) for o in objects))
    return 0


def _describe_one(client: Client, obj: Message) -> str:
    """kubectl's own text for the kinds that have one (Service), else the generic one."""
    if isinstance(obj, service_pb2.Service):
        ns, name = obj.metadata.namespace, obj.metadata.name
        slices = client.endpoint_slices(ns).list(label_selector=f"{LABEL_SERVICE_NAME}={name}")
        return describe_service(obj, slices.items, _events(client, obj), age=age)
    return render_description(obj, _events(client, obj))
