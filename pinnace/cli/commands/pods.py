"""pinnace logs / pinnace exec: through the kubelet of the pod's node."""

from __future__ import annotations

import argparse
import http.client
import json
import ssl
import sys
from typing import Any
from urllib.parse import quote, urlencode

from pinnace.api.core.v1 import pod_pb2
from pinnace.cli.connect import connect
from pinnace.client import Client
from pinnace.machinery.execstream import STATUS, STDERR, STDOUT, FrameReader
from pinnace.machinery.flags import add_bool_flag
from pinnace.machinery.kubeletaddr import kubelet_endpoint
from pinnace.machinery.labels import selector_from_label_selector, selector_from_map
from pinnace.machinery.wellknown import ANNOTATION_DEFAULT_CONTAINER


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("logs", help="print the logs of a container in a pod")
    p.add_argument("pod", help="POD, pod/POD, or KIND/NAME of a workload (its first pod)")
    p.add_argument("container_arg", nargs="?", help="container (same as -c)")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("-c", "--container", default="")
    add_bool_flag(p, "-f", "--follow", help="keep streaming new lines")
    add_bool_flag(p, "-p", "--previous", help="the previous instance of the container")
    p.add_argument("--tail", type=int, default=-1, help="lines from the end (-1: all)")
    p.set_defaults(func=logs)
    p = sub.add_parser(
        "exec", help="run a command in a container (on its node, with its env and dir)"
    )
    p.add_argument("pod")
    p.add_argument("command", nargs="*", help="-- COMMAND [ARGS...] (options go before --)")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("-c", "--container", default="")
    add_bool_flag(p, "-i", "--stdin", help="pass stdin to the command")
    p.set_defaults(func=exec_)


def resolve_pod(client: Client, namespace: str, target: str) -> pod_pb2.Pod:
    """A pod by name, pod/NAME, or the first pod of a workload (job/x, deploy/x)."""
    kind, _, name = target.partition("/")
    if not name:
        return client.pods(namespace).get(kind)
    if kind in ("pod", "pods", "po"):
        return client.pods(namespace).get(name)
    owner = client.resource(kind, namespace).get(name)
    selector = owner.spec.selector
    text = str(
        selector_from_map(dict(selector))
        if not hasattr(selector, "match_labels")
        else selector_from_label_selector(selector)
    )
    pods = sorted(
        client.pods(namespace).list(label_selector=text).items,
        key=lambda p: p.metadata.creation_timestamp,
    )
    if not pods:
        raise ValueError(f"no pods found for {target}")
    return pods[0]


def choose_container(pod: pod_pb2.Pod, wanted: str) -> str:
    names = [c.name for c in pod.spec.init_containers] + [c.name for c in pod.spec.containers]
    if wanted:
        if wanted not in names:
            raise ValueError(
                f"container {wanted} is not valid for pod {pod.metadata.name}; choose one of: {', '.join(names)}"
            )
        return wanted
    default: str = (
        pod.metadata.annotations.get(ANNOTATION_DEFAULT_CONTAINER) or pod.spec.containers[0].name
    )
    if len(pod.spec.containers) > 1:
        others = ", ".join(c.name for c in pod.spec.containers)
        print(f'Defaulted container "{default}" out of: {others}', file=sys.stderr)
    return default


def kubelet_address(client: Client, pod: pod_pb2.Pod) -> tuple[str, int]:
    if not pod.spec.node_name:
        raise ValueError(f"pod {pod.metadata.name} is not scheduled to a node yet")
    node = client.nodes().get(pod.spec.node_name)
    endpoint = kubelet_endpoint(node)
    if endpoint is None:
        raise ValueError(f"node {node.metadata.name} does not publish its kubelet endpoint")
    return endpoint


def _connection(
    host: str, port: int, tls: ssl.SSLContext | None, timeout: float | None
) -> http.client.HTTPConnection:
    """HTTP to the kubelet; HTTPS with our certificate on a secure cluster."""
    if tls is None:
        return http.client.HTTPConnection(host, port, timeout=timeout)
    return http.client.HTTPSConnection(host, port, timeout=timeout, context=tls)


def _path(kind: str, pod: pod_pb2.Pod, container: str) -> str:
    return f"/{kind}/{quote(pod.metadata.namespace)}/{quote(pod.metadata.name)}/{quote(container)}"


def logs(args: argparse.Namespace) -> int:
    with connect(args) as client:
        pod = resolve_pod(client, args.namespace, args.pod)
        container = choose_container(pod, args.container or args.container_arg or "")
        host, port = kubelet_address(client, pod)
        tls = client.config.kubelet_tls()
    query: dict[str, str] = {}
    if args.previous:
        query["previous"] = "true"
    if args.follow:
        query["follow"] = "true"
    if args.tail >= 0:
        query["tailLines"] = str(args.tail)
    conn = _connection(host, port, tls, None if args.follow else 30)
    conn.request("GET", _path("containerLogs", pod, container) + "?" + urlencode(query))
    resp = conn.getresponse()
    if resp.status != 200:
        raise ValueError(
            resp.read().decode(errors="replace").strip() or f"kubelet answered {resp.status}"
        )
    out = sys.stdout.buffer
    while chunk := resp.read1(65536):
        out.write(chunk)
        out.flush()
    return 0


def exec_(args: argparse.Namespace) -> int:
    command = [*args.command, *args.passthrough]
    if not command:
        raise ValueError("you must specify a command: pinnace exec POD -- COMMAND [ARGS...]")
    with connect(args) as client:
        pod = resolve_pod(client, args.namespace, args.pod)
        container = choose_container(pod, args.container)
        host, port = kubelet_address(client, pod)
        tls = client.config.kubelet_tls()
    body = sys.stdin.buffer.read() if args.stdin else b""
    query = urlencode([("command", c) for c in command])
    conn = _connection(host, port, tls, None)
    conn.request("POST", _path("exec", pod, container) + "?" + query, body=body)
    resp = conn.getresponse()
    if resp.status != 200:
        raise ValueError(
            resp.read().decode(errors="replace").strip() or f"kubelet answered {resp.status}"
        )
    reader = FrameReader()
    status: dict[str, Any] = {"exitCode": -1, "error": "the stream ended without a status"}
    while chunk := resp.read1(65536):
        for channel, payload in reader.feed(chunk):
            if channel == STDOUT:
                sys.stdout.buffer.write(payload)
                sys.stdout.buffer.flush()
            elif channel == STDERR:
                sys.stderr.buffer.write(payload)
                sys.stderr.buffer.flush()
            elif channel == STATUS:
                status = json.loads(payload)
    if status.get("error"):
        print(f"error: {status['error']}", file=sys.stderr)
    code = int(status.get("exitCode", -1))
    return code if code >= 0 else 1
