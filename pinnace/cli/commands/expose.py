"""``pinnace expose KIND/NAME --port P``: a Service for a workload, a pod or
another Service, as kubectl expose makes it.

* What can be exposed: a Pod, Service, ReplicationController, Deployment or
  ReplicaSet (kubectl's CanBeExposed); anything else is ``cannot expose a
  Job.batch``.
* The selector (kubectl's MapBasedSelectorForObject, unless ``--selector``;
  its errors read ``couldn't retrieve selectors via --selector flag or
  introspection: <why>``):
  a pod's labels (``the pod has no labels and cannot be exposed``), a
  Service's selector (``the service has no pod selector set``), a
  ReplicationController's selector, a Deployment's or ReplicaSet's
  ``matchLabels`` (``invalid deployment: no selectors, therefore cannot be
  exposed`` without them; ``couldn't convert expressions - "[{Key:app
  Operator:In Values:[web]}]" to map-based selector format`` when it also
  has matchExpressions, which a Service selector cannot say).
* Ports: ``--port``, else every port of the object (its containers' ports,
  or a Service's ports; ``couldn't find port via --port flag or
  introspection`` when none, unless ``--cluster-ip None``); several ports
  are named port-1, port-2, ... Each port's protocol is ``--protocol``,
  else the object's protocol for that port number (one Service port per
  protocol, port-N-tcp/port-N-udp, when it has several), else TCP; its
  targetPort is ``--target-port`` (a number or a port name), else the port
  itself.
* The Service is named ``--name`` or after the object (cut to 63
  characters), and carries the object's labels (unless ``--labels``).

``pinnace expose deploy/web --port 80 --target-port 8080`` prints
``service/web exposed``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from pinnace.api.core.v1 import service_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.cli.connect import connect
from pinnace.cli.targets import split_kind
from pinnace.client import object_meta
from pinnace.machinery import kinds

__all__ = ["ExposeOptions", "build_service", "parse_labels", "register", "selector_for"]

EXPOSABLE = {
    ("", "Pod"),
    ("", "Service"),
    ("", "ReplicationController"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("expose", help="make a Service for a workload, pod or Service")
    p.add_argument("kind", help="KIND/NAME or KIND NAME (deploy, rs, rc, pod, svc)")
    p.add_argument("names", nargs="*")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("--port", type=int, default=None, help="the Service's port")
    p.add_argument("--target-port", default="", help="the pods' port: a number or a name")
    p.add_argument("--name", default="", help="the Service's name (default: the object's)")
    p.add_argument("--type", default="", help="ClusterIP (default), NodePort or LoadBalancer")
    p.add_argument("--protocol", default="", help="TCP (default) or UDP")
    p.add_argument("--cluster-ip", default="", help='the clusterIP ("None": headless)')
    p.add_argument("--selector", default="", help="k=v,... instead of the object's selector")
    p.add_argument("--labels", "-l", default="", help="k=v,... labels of the Service")
    p.add_argument("--session-affinity", default="", help="None or ClientIP")
    p.set_defaults(func=expose)


@dataclass(frozen=True)
class ExposeOptions:
    """The flags of one expose (see register)."""

    port: int | None = None
    target_port: str = ""
    name: str = ""
    type: str = ""
    protocol: str = ""
    cluster_ip: str = ""
    selector: str = ""
    labels: str = ""
    session_affinity: str = ""


def _go_requirements(reqs: Any) -> str:
    """Go's %+v of []LabelSelectorRequirement, as kubectl's message shows it."""
    items = [f"{{Key:{r.key} Operator:{r.operator} Values:[{' '.join(r.values)}]}}" for r in reqs]
    return "[" + " ".join(items) + "]"


def selector_for(obj: Message) -> dict[str, str]:
    """The map-based pod selector of ``obj`` (ValueError with kubectl's message)."""
    info = kinds.by_message(obj)
    spec: Any = getattr(obj, "spec", None)
    if info.kind == "Pod":
        labels = dict(object_meta(obj).labels)
        if not labels:
            raise ValueError("the pod has no labels and cannot be exposed")
        return labels
    if info.kind == "Service":
        if not spec.selector:
            raise ValueError("the service has no pod selector set")
        return dict(spec.selector)
    if info.kind == "ReplicationController":
        return dict(spec.selector)
    if info.kind in ("Deployment", "ReplicaSet"):
        sel: meta_pb2.LabelSelector = spec.selector
        if not sel.match_labels:
            raise ValueError(
                f"invalid {info.kind.lower()}: no selectors, therefore cannot be exposed"
            )
        if sel.match_expressions:
            raise ValueError(
                f'couldn\'t convert expressions - "{_go_requirements(sel.match_expressions)}" '
                "to map-based selector format"
            )
        return dict(sel.match_labels)
    raise ValueError(f"cannot extract pod selector from {info.kind}")


def _object_ports(obj: Message) -> list[tuple[int, str]]:
    """(port, protocol) of ``obj``: a Service's ports or its pods' container ports."""
    spec: Any = getattr(obj, "spec", None)
    if isinstance(obj, service_pb2.Service):
        return [(p.port, p.protocol or "TCP") for p in spec.ports]
    pod_spec = spec if kinds.by_message(obj).kind == "Pod" else spec.template.spec
    return [(p.container_port, p.protocol or "TCP") for c in pod_spec.containers for p in c.ports]


def parse_labels(text: str) -> dict[str, str]:
    """kubectl expose's ``k=v,k2=v2`` (its parseLabels and messages)."""
    out: dict[str, str] = {}
    for item in text.split(","):
        parts = item.split("=")
        if len(parts) != 2:
            raise ValueError(f"unexpected label spec: {item}")
        if not parts[0]:
            raise ValueError("unexpected empty label key")
        out[parts[0]] = parts[1]
    return out


def _target_port(text: str, port: int) -> meta_pb2.IntOrString:
    """intstr.Parse of --target-port, else the port itself."""
    if not text:
        return meta_pb2.IntOrString(int_val=port)
    try:
        return meta_pb2.IntOrString(int_val=int(text))
    except ValueError:
        return meta_pb2.IntOrString(str_val=text)


def _port_protocols(known: list[tuple[int, str]]) -> dict[int, list[str]]:
    """Port -> its distinct protocols, in the object's order (MultiProtocolsForObject)."""
    out: dict[int, list[str]] = {}
    for port, proto in known:
        if proto not in out.setdefault(port, []):
            out[port].append(proto)
    return out


def _service_ports(
    ports: list[int], known: list[tuple[int, str]], opts: ExposeOptions
) -> list[tuple[str, int, str]]:
    """(name, port, protocol) of each Service port, as kubectl's createService:
    several ports are port-1, port-2, ...; a port the object serves over
    several protocols (53/TCP and 53/UDP) becomes one port per protocol,
    port-N-tcp and port-N-udp, unless --protocol picks one."""
    by_port = _port_protocols(known)
    out: list[tuple[str, int, str]] = []
    for i, port in enumerate(ports):
        name = f"port-{i + 1}" if len(ports) > 1 else ""
        protos = by_port.get(port, ["TCP"])
        if opts.protocol or len(protos) == 1:
            out.append((name, port, opts.protocol or protos[0]))
            continue
        out += [(f"port-{i + 1}-{proto.lower()}", port, proto) for proto in protos]
    return out


def build_service(obj: Message, opts: ExposeOptions) -> service_pb2.Service:
    """The Service kubectl expose makes for ``obj`` (module docstring; ValueError)."""
    info = kinds.by_message(obj)
    if (info.group, info.kind) not in EXPOSABLE:
        raise ValueError(f"cannot expose a {info.kind}{'.' + info.group if info.group else ''}")
    meta = object_meta(obj)
    try:
        selector = parse_labels(opts.selector) if opts.selector else selector_for(obj)
    except ValueError as e:
        raise ValueError(
            f"couldn't retrieve selectors via --selector flag or introspection: {e}"
        ) from None
    known = _object_ports(obj)
    # A port number the object lists twice (53/TCP, 53/UDP) is one entry
    # here and one Service port per protocol below (kubectl's getPorts
    # repeats it, and the repeat would make duplicate Service ports).
    ports = [opts.port] if opts.port is not None else list(dict.fromkeys(p for p, _ in known))
    if not ports and opts.cluster_ip != "None":
        raise ValueError("couldn't find port via --port flag or introspection")
    if opts.session_affinity not in ("", "None", "ClientIP"):
        raise ValueError(f"unknown session affinity: {opts.session_affinity}")
    svc = service_pb2.Service(api_version="v1", kind="Service")
    # A Service name is a DNS-1035 label: at most 63 characters.
    svc.metadata.name = opts.name or meta.name[:63]
    svc.metadata.labels.update(parse_labels(opts.labels) if opts.labels else dict(meta.labels))
    svc.spec.selector.update(selector)
    for name, port, protocol in _service_ports(ports, known, opts):
        svc.spec.ports.add(
            name=name,
            port=port,
            protocol=protocol,
            target_port=_target_port(opts.target_port, port),
        )
    if opts.type:
        svc.spec.type = opts.type
    if opts.session_affinity:
        svc.spec.session_affinity = opts.session_affinity
    if opts.cluster_ip:
        svc.spec.cluster_ip = opts.cluster_ip
    return svc


def expose(args: argparse.Namespace) -> int:
    info, names = split_kind(args.kind, args.names)
    if len(names) != 1:
        raise ValueError("usage: expose KIND/NAME --port PORT (one object)")
    opts = ExposeOptions(
        port=args.port,
        target_port=args.target_port,
        name=args.name,
        type=args.type,
        protocol=args.protocol,
        cluster_ip=args.cluster_ip,
        selector=args.selector,
        labels=args.labels,
        session_affinity=args.session_affinity,
    )
    with connect(args) as client:
        obj = client.resource(info, args.namespace).get(names[0])
        made = client.services(args.namespace).create(build_service(obj, opts))
    print(f"service/{made.metadata.name} exposed")
    return 0
