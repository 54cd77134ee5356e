"""``pinnace describe svc``: kubectl's describeService text.

Fields in kubectl's order: Name, Namespace, Labels, Annotations, Selector,
Type, IP Family Policy, IP Families, IP, IPs (then External IPs,
LoadBalancer IP, External Name, LoadBalancer Ingress when set), per port
``Port: NAME PORT/PROTO``, ``TargetPort``, ``NodePort`` (when allocated) and
``Endpoints``, then Session Affinity, the traffic policies, HealthCheck
NodePort, LoadBalancer Source Ranges and Events.

Endpoints of a port: the ready addresses (``conditions.ready`` true or
unset, as the EndpointSlice API reads it) of the Service's EndpointSlices
(label ``kubernetes.io/service-name``) whose ports include one of the same
name, as ``ip:port``; the first three, then ``+ N more...``; ``<none>``
when there are none. For a Service with one port 80 -> 8080 and two ready
pods: ``Endpoints: 10.0.0.1:8080,10.0.0.2:8080``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pinnace.api.core.v1 import service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.cli.tabwriter import tabbed

__all__ = ["describe_service", "format_endpoints", "render_events"]

MAX_ENDPOINTS = 3


def _host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _ready(endpoint: endpointslice_pb2.Endpoint) -> bool:
    cond = endpoint.conditions
    return not cond.HasField("ready") or cond.ready


def format_endpoints(slices: Iterable[endpointslice_pb2.EndpointSlice], port_name: str) -> str:
    """The ready endpoints of the port named ``port_name`` (module docstring)."""
    found: list[str] = []
    for es in slices:
        ready = [e.addresses[0] for e in es.endpoints if e.addresses and _ready(e)]
        if not es.ports:
            found += ready
            continue
        for p in es.ports:
            if p.name == port_name:
                found += [_host_port(ip, p.port) for ip in ready]
    if not found:
        return "<none>"
    text = ",".join(found[:MAX_ENDPOINTS])
    more = len(found) - MAX_ENDPOINTS
    return f"{text} + {more} more..." if more > 0 else text


def _multiline(title: str, items: list[str]) -> list[str]:
    if not items:
        return [f"{title}:\t<none>"]
    return [f"{title}:\t{items[0]}", *(f"\t{i}" for i in items[1:])]


def _port_lines(
    svc: service_pb2.Service, slices: Sequence[endpointslice_pb2.EndpointSlice]
) -> list[str]:
    out: list[str] = []
    for sp in svc.spec.ports:
        name = sp.name or "<unset>"
        out.append(f"Port:\t{name}\t{sp.port}/{sp.protocol}")
        tp = sp.target_port
        target = tp.str_val if tp.WhichOneof("value") == "str_val" else str(tp.int_val)
        out.append(f"TargetPort:\t{target}/{sp.protocol}")
        if sp.node_port:
            out.append(f"NodePort:\t{name}\t{sp.node_port}/{sp.protocol}")
        out.append(f"Endpoints:\t{format_endpoints(slices, sp.name)}")
    return out


def _optional_lines(svc: service_pb2.Service) -> list[str]:
    spec, out = svc.spec, []
    if spec.external_ips:
        out.append(f"External IPs:\t{','.join(spec.external_ips)}")
    if spec.load_balancer_ip:
        out.append(f"IP:\t{spec.load_balancer_ip}")
    if spec.external_name:
        out.append(f"External Name:\t{spec.external_name}")
    ingress = [i.ip or i.hostname for i in svc.status.load_balancer.ingress]
    if ingress:
        out.append(f"LoadBalancer Ingress:\t{', '.join(ingress)}")
    return out


def _policy_lines(svc: service_pb2.Service) -> list[str]:
    spec = svc.spec
    out = [f"Session Affinity:\t{spec.session_affinity}"]
    if spec.external_traffic_policy:
        out.append(f"External Traffic Policy:\t{spec.external_traffic_policy}")
    if spec.HasField("internal_traffic_policy"):
        out.append(f"Internal Traffic Policy:\t{spec.internal_traffic_policy}")
    if spec.health_check_node_port:
        out.append(f"HealthCheck NodePort:\t{spec.health_check_node_port}")
    if spec.load_balancer_source_ranges:
        out.append(f"LoadBalancer Source Ranges:\t{','.join(spec.load_balancer_source_ranges)}")
    return out


def render_events(events: Sequence[Any], age: Any) -> list[str]:
    """kubectl's DescribeEvents lines (``age`` formats a timestamp)."""
    if not events:
        return ["Events:\t<none>"]
    out = ["Events:", "  Type\tReason\tAge\tFrom\tMessage", "  ----\t------\t----\t----\t-------"]
    for e in events:
        when = e.last_timestamp or e.first_timestamp or e.metadata.creation_timestamp
        count = f" (x{e.count} over {age(e.first_timestamp)})" if e.count > 1 else ""
        # formatEventSource: the component, then the host when there is one.
        source = ", ".join(
            filter(None, [e.source.component or e.reporting_component, e.source.host])
        )
        out.append(f"  {e.type}\t{e.reason}\t{age(when)}{count}\t{source}\t{e.message.strip()}")
    return out


def describe_service(
    svc: service_pb2.Service,
    slices: Sequence[endpointslice_pb2.EndpointSlice],
    events: Sequence[Any],
    *,
    age: Any,
) -> str:
    """kubectl describe service's text for ``svc`` (module docstring)."""
    meta, spec = svc.metadata, svc.spec
    lines = [f"Name:\t{meta.name}", f"Namespace:\t{meta.namespace}"]
    lines += _multiline("Labels", [f"{k}={v}" for k, v in sorted(meta.labels.items())])
    lines += _multiline("Annotations", [f"{k}: {v}" for k, v in sorted(meta.annotations.items())])
    selector = ",".join(f"{k}={v}" for k, v in sorted(spec.selector.items()))
    lines += [f"Selector:\t{selector or '<none>'}", f"Type:\t{spec.type}"]
    if spec.HasField("ip_family_policy"):
        lines.append(f"IP Family Policy:\t{spec.ip_family_policy}")
    lines.append(f"IP Families:\t{','.join(spec.ip_families) or '<none>'}")
    lines.append(f"IP:\t{spec.cluster_ip}")
    lines.append(f"IPs:\t{','.join(spec.cluster_ips) or '<none>'}")
    lines += _optional_lines(svc)
    lines += _port_lines(svc, slices)
    lines += _policy_lines(svc)
    lines += render_events(events, age)
    return tabbed(lines)
