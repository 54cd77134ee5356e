"""pinnace drain NODE: cordon the node, then delete every pod on it except
DaemonSet pods and mirror pods, and wait for them to go (kubectl drain, with
DELETE instead of the eviction API, which Pinnace does not serve).

Refuses, listing the pods, without the flag that allows them:
DaemonSet-managed pods (``--ignore-daemonsets`` skips them), pods no
controller manages (``--force`` deletes them; nothing will re-create them)
and pods with emptyDir volumes (``--delete-emptydir-data``; their data is
lost). Terminated pods are deleted without asking.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from pinnace.api.core.v1 import pod_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.cli.connect import connect
from pinnace.client import Client
from pinnace.machinery import errors
from pinnace.machinery.flags import add_bool_flag, duration
from pinnace.machinery.wellknown import ANNOTATION_MIRROR_POD

POLL = 0.2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("drain", help="cordon a node and delete its pods (not DaemonSet pods)")
    p.add_argument("node")
    add_bool_flag(p, "--ignore-daemonsets", help="skip DaemonSet-managed pods")
    add_bool_flag(p, "--force", help="also delete pods without a controller")
    p.add_argument("--pod-selector", default="", help="only pods whose labels match this selector")
    add_bool_flag(
        p, "--delete-emptydir-data", help="also delete pods with emptyDir volumes (data is lost)"
    )
    p.add_argument(
        "--grace-period",
        type=int,
        default=-1,
        help="seconds each pod gets to stop (-1: the pod's own terminationGracePeriodSeconds)",
    )
    p.add_argument(
        "--timeout",
        type=duration,
        default="0s",
        help="give up after this long, e.g. 90s or 2m (0: wait forever)",
    )
    p.set_defaults(func=drain)


def _controller(pod: pod_pb2.Pod) -> meta_pb2.OwnerReference | None:
    for ref in pod.metadata.owner_references:
        if ref.HasField("controller") and ref.controller:
            return ref
    return None


def classify(
    pods: list[pod_pb2.Pod], args: argparse.Namespace
) -> tuple[list[pod_pb2.Pod], list[str], list[str]]:
    """(pods to delete, warnings, errors) as kubectl's drain filters decide."""
    delete: list[pod_pb2.Pod] = []
    daemons: list[str] = []
    unmanaged: list[str] = []
    local: list[str] = []
    problems: list[str] = []
    for pod in pods:
        name = f"{pod.metadata.namespace}/{pod.metadata.name}"
        if ANNOTATION_MIRROR_POD in pod.metadata.annotations:
            continue
        if pod.status.phase in ("Succeeded", "Failed"):
            delete.append(pod)
            continue
        ref = _controller(pod)
        if ref is not None and ref.kind == "DaemonSet":
            daemons.append(name)
            continue
        if ref is None:
            unmanaged.append(name)
            if not args.force:
                continue
        if any(v.HasField("empty_dir") for v in pod.spec.volumes):
            local.append(name)
            if not args.delete_emptydir_data:
                continue
        delete.append(pod)
    warnings: list[str] = []
    if daemons:
        if args.ignore_daemonsets:
            warnings.append(f"ignoring DaemonSet-managed Pods: {', '.join(daemons)}")
        else:
            problems.append(
                "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): "
                + ", ".join(daemons)
            )
    if unmanaged:
        if args.force:
            warnings.append(f"deleting Pods that declare no controller: {', '.join(unmanaged)}")
        else:
            problems.append(
                "cannot delete Pods that declare no controller (use --force to override): "
                + ", ".join(unmanaged)
            )
    if local and not args.delete_emptydir_data:
        problems.append(
            "cannot delete Pods with local storage (use --delete-emptydir-data to override): "
            + ", ".join(local)
        )
    return delete, warnings, problems


def drain(args: argparse.Namespace) -> int:
    with connect(args) as client:
        node = client.nodes().get(args.node)
        if node.spec.unschedulable:
            print(f"node/{args.node} already cordoned")
        else:
            client.nodes().patch(args.node, {"spec": {"unschedulable": True}})
            print(f"node/{args.node} cordoned")
        pods = (
            client.pods("")
            .list(field_selector=f"spec.nodeName={args.node}", label_selector=args.pod_selector)
            .items
        )
        delete, warnings, problems = classify(pods, args)
        if problems:
            print(
                f'error: unable to drain node "{args.node}" due to error: '
                + "; ".join(problems)
                + ", continuing command...",
                file=sys.stderr,
            )
            print(f"There are pending nodes to be drained:\n {args.node}", file=sys.stderr)
            for p in problems:
                print(f"error: {p}", file=sys.stderr)
            return 1
        for w in warnings:
            print(f"Warning: {w}", file=sys.stderr)
        options: dict[str, Any] = {}
        if args.grace_period >= 0:
            options["grace_period_seconds"] = args.grace_period
        for pod in delete:
            print(f"deleting pod {pod.metadata.namespace}/{pod.metadata.name}")
            try:
                client.pods(pod.metadata.namespace).delete(
                    pod.metadata.name, uid=pod.metadata.uid, **options
                )
            except errors.NotFound:
                pass
        if not _wait_gone(client, delete, args.timeout):
            print(
                f'error: unable to drain node "{args.node}": timed out after '
                f"{args.timeout:g}s waiting for pods to be deleted",
                file=sys.stderr,
            )
            return 1
        print(f"node/{args.node} drained")
    return 0


def _wait_gone(client: Client, pods: list[pod_pb2.Pod], timeout: float) -> bool:
    """Wait until every pod is gone (or replaced by a namesake); False on timeout."""
    deadline = time.monotonic() + timeout if timeout > 0 else None
    waiting = list(pods)
    while waiting:
        left = []
        for pod in waiting:
            try:
                now = client.pods(pod.metadata.namespace).get(pod.metadata.name)
            except errors.NotFound:
                now = None
            if now is None or now.metadata.uid != pod.metadata.uid:
                print(f"pod/{pod.metadata.name} deleted")
            else:
                left.append(pod)
        waiting = left
        if not waiting:
            return True
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True
