"""``pinnace port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...]`` (kubectl's).

The pod is the one named, or the most active pod of a Service's or
workload's selector (pinnace/cli/podchoice.py); ports are resolved as
kubectl resolves them, named ports and a Service's targetPort included
(pinnace/cli/portspec.py); the pod must be Running ("unable to forward port
because pod is not running. Current status=Pending"). Then it listens on
``--address`` (default localhost) and relays each accepted connection to
the pod through its node's kubelet (pinnace/cli/forwarder.py), printing
kubectl's lines::

    Forwarding from 127.0.0.1:8080 -> 80
    Forwarding from [::1]:8080 -> 80
    Handling connection for 8080

until interrupted (SIGINT: exit 0) or until the pod is gone (exit 1, "lost
connection to pod").
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from google.protobuf.message import Message

from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.cli.commands.pods import kubelet_address
from pinnace.cli.connect import connect
from pinnace.cli.forwarder import KubeletTarget, LostConnection, PortForwarder
from pinnace.cli.podchoice import attachable_pod, target_object
from pinnace.cli.portspec import (
    ForwardedPort,
    ListenAddress,
    check_udp_ports,
    container_port_by_name,
    convert_pod_named_ports,
    parse_addresses,
    parse_ports,
    precheck_ports,
    service_port_by_name,
    translate_service_ports,
)
from pinnace.machinery.flags import duration

__all__ = ["register", "resolve_ports"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "port-forward",
        help="forward local ports to a pod (or a Service's or workload's pod)",
        description="Listen on local ports and forward each connection to a port of a pod.",
    )
    p.add_argument("target", help="TYPE/NAME: pod/x, deploy/x, rs/x, svc/x ... (or a pod NAME)")
    p.add_argument(
        "ports",
        nargs="*",
        metavar="[LOCAL_PORT:]REMOTE_PORT",
        help="8080:80 (local 8080), :80 (a random local port) or 80 (the same locally)",
    )
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument(
        "--address",
        action="append",
        default=None,
        help="addresses to listen on, comma separated: localhost (default) or IPs",
    )
    p.add_argument(
        "--pod-running-timeout",
        type=duration,
        default="1m",
        help="how long to wait until at least one pod is running (like 5s, 2m)",
    )
    p.set_defaults(func=port_forward)


def resolve_ports(obj: Message, pod: pod_pb2.Pod, specs: Sequence[str]) -> list[ForwardedPort]:
    """The numeric ports to forward to ``pod`` for ``specs`` given against
    ``obj`` (the pod itself, its workload, or a Service)."""
    if isinstance(obj, service_pb2.Service):
        svc = obj
        protocols = [(int(p.port), p.protocol or "TCP") for p in svc.spec.ports]
        check_udp_ports(specs, protocols, lambda name: service_port_by_name(svc, name))
        return parse_ports(translate_service_ports(specs, svc, pod))
    protocols = [
        (int(p.container_port), p.protocol or "TCP") for c in pod.spec.containers for p in c.ports
    ]
    check_udp_ports(specs, protocols, lambda name: container_port_by_name(pod, name))
    return parse_ports(convert_pod_named_ports(specs, pod))


def port_forward(args: argparse.Namespace) -> int:
    precheck_ports(args.ports)
    addresses = parse_addresses(args.address or ["localhost"])
    if args.pod_running_timeout <= 0:
        raise ValueError("--pod-running-timeout must be higher than zero")
    namespace = args.namespace
    with connect(args) as client:
        obj = target_object(client, namespace, args.target)
        chosen = attachable_pod(client, namespace, obj, timeout=args.pod_running_timeout)
        ports = resolve_ports(obj, chosen, args.ports)
        pod = client.pods(namespace).get(chosen.metadata.name)
        if pod.status.phase != "Running":
            raise ValueError(
                "unable to forward port because pod is not running. "
                f"Current status={pod.status.phase}"
            )
        host, port = kubelet_address(client, pod)
        tls = client.config.kubelet_tls()
    target = KubeletTarget(host, port, namespace, pod.metadata.name, tls)
    return asyncio.run(_serve(target, ports, addresses))


async def _serve(
    target: KubeletTarget, ports: list[ForwardedPort], addresses: list[ListenAddress]
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        await PortForwarder(target, ports, addresses, out=sys.stdout, err=sys.stderr).run(stop)
    except LostConnection as e:
        raise ValueError(str(e)) from None
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    return 0
