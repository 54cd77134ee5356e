"""Pure decisions of the EndpointSlice controller: which endpoints a Service
has, and which slice writes turn the existing slices into them.

Desired state (Kubernetes' podToEndpoint and getEndpointPorts):

* a pod is an endpoint when it matches the selector, has an IPv4 podIP and
  is not terminal (Succeeded/Failed); terminating pods stay, marked;
* conditions: ``serving`` = pod Ready, ``terminating`` = deletionTimestamp
  set, ``ready`` = serving and not terminating, or always true with
  ``publishNotReadyAddresses``;
* ports are resolved per pod: a numeric targetPort is used as is, a named
  one is the container port of that name and protocol (a Service port the
  pod does not have is left out for that pod). Pods whose ports resolve
  differently go to different slices: endpoints are grouped by port set.

Reconciling (Kubernetes' reconciler, simplified), per port set, with
``max_endpoints`` (100) per slice. Worked example, max 3, slices
A{p1,p2,p3} and B{p4}, desired {p1,p3,p4,p5,p6}:

1. every endpoint stays in the slice it is in, refreshed; gone ones are
   dropped: A{p1,p3} (changed), B{p4} (unchanged);
2. new endpoints fill slices already being updated first (no extra write),
   then the other slices with room: A{p1,p3,p5}, B{p4,p6};
3. what is left goes into new slices of up to ``max_endpoints``; a new
   slice takes over a slice that would be deleted (an update, not a delete
   plus a create), as Kubernetes does;
4. slices left empty, of a port set no longer wanted, not owned by this
   Service or duplicated (the same endpoint in two slices) are deleted.

A Service without endpoints keeps one empty placeholder slice (no ports),
as Kubernetes does. A slice is written only when its endpoints, ports,
labels or ownerReferences differ from what is stored: a sync over an
unchanged world writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from controllers.controllerref import controller_ref, owner_reference
from pinnace.api.core.v1 import pod_pb2, reference_pb2, service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2 as es_pb2
from pinnace.machinery.intstr import intstr_value
from pinnace.machinery.podutil import is_pod_ready, is_pod_terminal
from pinnace.machinery.wellknown import (
    ADDRESS_TYPE_IPV4,
    ENDPOINTSLICE_CONTROLLER_NAME,
    LABEL_ENDPOINTSLICE_MANAGED_BY,
    LABEL_HEADLESS_SERVICE,
    LABEL_SERVICE_NAME,
)

__all__ = [
    "MAX_ENDPOINTS_PER_SLICE",
    "PortKey",
    "SlicePlan",
    "desired_endpoints",
    "endpoint_ports",
    "plan_slices",
    "pod_endpoint",
    "slice_labels",
]

MAX_ENDPOINTS_PER_SLICE = 100

PortKey = tuple[tuple[str, str, int, str], ...]
"""A port set, order-free: sorted (name, protocol, port, appProtocol)."""


@dataclass
class SlicePlan:
    """The writes of one sync: new slices, changed slices (carrying the
    stored name and resourceVersion), and the names of slices to delete."""

    create: list[es_pb2.EndpointSlice] = field(default_factory=list)
    update: list[es_pb2.EndpointSlice] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


# ---- desired endpoints ---------------------------------------------------------------


def ipv4_address(pod: pod_pb2.Pod) -> str | None:
    """The pod's first IPv4 address, if it has one."""
    ips = [p.ip for p in pod.status.pod_ips] or [pod.status.pod_ip]
    return next((ip for ip in ips if ip and ":" not in ip), None)


def find_port(pod: pod_pb2.Pod, port: service_pb2.ServicePort) -> int | None:
    """The pod's port for a Service port (Kubernetes' podutil.FindPort)."""
    target = intstr_value(port.target_port) if port.HasField("target_port") else None
    if isinstance(target, str):
        protocol = port.protocol or "TCP"
        for c in pod.spec.containers:
            for cp in c.ports:
                if cp.name == target and (cp.protocol or "TCP") == protocol:
                    return cp.container_port
        return None
    return target or port.port


def endpoint_ports(svc: service_pb2.Service, pod: pod_pb2.Pod) -> list[es_pb2.EndpointPort]:
    """The Service's ports as this pod serves them, in the Service's order."""
    out = []
    for sp in svc.spec.ports:
        number = find_port(pod, sp)
        if number is None:
            continue
        ep = es_pb2.EndpointPort(name=sp.name, protocol=sp.protocol or "TCP", port=number)
        if sp.HasField("app_protocol"):
            ep.app_protocol = sp.app_protocol
        out.append(ep)
    return out


def port_key(ports: Iterable[es_pb2.EndpointPort]) -> PortKey:
    return tuple(sorted((p.name, p.protocol, p.port, p.app_protocol) for p in ports))


def pod_endpoint(svc: service_pb2.Service, pod: pod_pb2.Pod) -> es_pb2.Endpoint | None:
    """The pod's endpoint in the Service's slices, or None if it has none."""
    address = ipv4_address(pod)
    if address is None or is_pod_terminal(pod):
        return None
    serving = is_pod_ready(pod)
    terminating = bool(pod.metadata.deletion_timestamp)
    ep = es_pb2.Endpoint(addresses=[address])
    ep.conditions.ready = svc.spec.publish_not_ready_addresses or (serving and not terminating)
    ep.conditions.serving = serving
    ep.conditions.terminating = terminating
    if pod.spec.node_name:
        ep.node_name = pod.spec.node_name
    if pod.spec.hostname and pod.spec.subdomain == svc.metadata.name:
        ep.hostname = pod.spec.hostname
    ep.target_ref.CopyFrom(
        reference_pb2.ObjectReference(
            kind="Pod",
            namespace=pod.metadata.namespace,
            name=pod.metadata.name,
            uid=pod.metadata.uid,
        )
    )
    return ep


def endpoint_key(ep: es_pb2.Endpoint) -> str:
    """What identifies an endpoint across syncs: its pod (or its address)."""
    return ep.target_ref.name or ",".join(ep.addresses)


@dataclass
class PortGroup:
    """Endpoints sharing one port set, by endpoint key, in pod-name order."""

    ports: list[es_pb2.EndpointPort]
    endpoints: dict[str, es_pb2.Endpoint] = field(default_factory=dict)


def desired_endpoints(
    svc: service_pb2.Service, pods: Iterable[pod_pb2.Pod]
) -> dict[PortKey, PortGroup]:
    """The Service's endpoints grouped by port set (pods already selected)."""
    groups: dict[PortKey, PortGroup] = {}
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        ep = pod_endpoint(svc, pod)
        if ep is None:
            continue
        ports = endpoint_ports(svc, pod)
        group = groups.setdefault(port_key(ports), PortGroup(ports=ports))
        group.endpoints[endpoint_key(ep)] = ep
    return groups


# ---- slices ------------------------------------------------------------------------------


def slice_labels(svc: service_pb2.Service) -> dict[str, str]:
    """The Service's labels plus the ones that tie a slice to it."""
    labels = dict(svc.metadata.labels)
    labels[LABEL_SERVICE_NAME] = svc.metadata.name
    labels[LABEL_ENDPOINTSLICE_MANAGED_BY] = ENDPOINTSLICE_CONTROLLER_NAME
    if svc.spec.cluster_ip == "None":
        labels[LABEL_HEADLESS_SERVICE] = ""
    else:
        labels.pop(LABEL_HEADLESS_SERVICE, None)
    return labels


def owned_by(es: es_pb2.EndpointSlice, svc: service_pb2.Service) -> bool:
    ref = controller_ref(es)
    return ref is not None and ref.uid == svc.metadata.uid and ref.kind == "Service"


def new_slice(
    svc: service_pb2.Service,
    ports: Sequence[es_pb2.EndpointPort],
    endpoints: Iterable[es_pb2.Endpoint],
) -> es_pb2.EndpointSlice:
    es = es_pb2.EndpointSlice(api_version="discovery.k8s.io/v1", kind="EndpointSlice")
    es.metadata.generate_name = f"{svc.metadata.name}-"
    es.metadata.namespace = svc.metadata.namespace
    es.metadata.labels.update(slice_labels(svc))
    es.metadata.owner_references.append(owner_reference(svc))
    es.address_type = ADDRESS_TYPE_IPV4
    es.ports.extend(ports)
    es.endpoints.extend(endpoints)
    return es


def _with_content(
    svc: service_pb2.Service,
    stored: es_pb2.EndpointSlice,
    ports: Sequence[es_pb2.EndpointPort],
    endpoints: Iterable[es_pb2.Endpoint],
) -> es_pb2.EndpointSlice:
    """stored, rewritten to hold these ports and endpoints (a copy)."""
    out = es_pb2.EndpointSlice()
    out.CopyFrom(stored)
    fresh = new_slice(svc, ports, endpoints)
    out.metadata.labels.clear()
    out.metadata.labels.update(fresh.metadata.labels)
    del out.metadata.owner_references[:]
    out.metadata.owner_references.extend(fresh.metadata.owner_references)
    del out.ports[:]
    out.ports.extend(fresh.ports)
    del out.endpoints[:]
    out.endpoints.extend(fresh.endpoints)
    return out


def _changed(a: es_pb2.EndpointSlice, b: es_pb2.EndpointSlice) -> bool:
    return (
        list(a.endpoints) != list(b.endpoints)
        or list(a.ports) != list(b.ports)
        or dict(a.metadata.labels) != dict(b.metadata.labels)
        or list(a.metadata.owner_references) != list(b.metadata.owner_references)
    )


@dataclass
class _Slot:
    """One existing slice being reconciled: its endpoints, by key, in order."""

    stored: es_pb2.EndpointSlice
    endpoints: dict[str, es_pb2.Endpoint]


def plan_slices(
    svc: service_pb2.Service,
    pods: Iterable[pod_pb2.Pod],
    existing: Iterable[es_pb2.EndpointSlice],
    *,
    max_endpoints: int = MAX_ENDPOINTS_PER_SLICE,
) -> SlicePlan:
    """The writes that make the Service's slices hold its endpoints."""
    groups = desired_endpoints(svc, pods)
    if not groups:
        groups = {(): PortGroup(ports=[])}  # the placeholder slice
    plan = SlicePlan()
    by_ports: dict[PortKey, list[es_pb2.EndpointSlice]] = {}
    spare: list[es_pb2.EndpointSlice] = []  # slices no port set keeps
    for es in sorted(existing, key=lambda s: s.metadata.name):
        key = port_key(es.ports)
        if owned_by(es, svc) and es.address_type == ADDRESS_TYPE_IPV4 and key in groups:
            by_ports.setdefault(key, []).append(es)
        else:
            spare.append(es)
    for key, group in groups.items():
        spare += _reconcile_group(svc, group, by_ports.get(key, []), plan, max_endpoints)
    _reuse_spare(svc, plan, spare)
    return plan


def _reconcile_group(
    svc: service_pb2.Service,
    group: PortGroup,
    slices: list[es_pb2.EndpointSlice],
    plan: SlicePlan,
    max_endpoints: int,
) -> list[es_pb2.EndpointSlice]:
    """Plan one port set's slices; return the slices it no longer needs."""
    placed: set[str] = set()
    slots: list[_Slot] = []
    for es in slices:
        kept: dict[str, es_pb2.Endpoint] = {}
        for ep in es.endpoints:
            key = endpoint_key(ep)
            if key in group.endpoints and key not in placed:
                kept[key] = group.endpoints[key]
                placed.add(key)
        slots.append(_Slot(es, kept))
    left = [ep for key, ep in group.endpoints.items() if key not in placed]
    changed = [s for s in slots if _changed(s.stored, _content(svc, group, s))]
    for slot in changed + [s for s in slots if s not in changed]:
        while left and len(slot.endpoints) < max_endpoints:
            ep = left.pop(0)
            slot.endpoints[endpoint_key(ep)] = ep
    # A Service without endpoints keeps one empty placeholder slice.
    placeholder = not group.endpoints
    unused: list[es_pb2.EndpointSlice] = []
    for i, slot in enumerate(slots):
        if not slot.endpoints and not (placeholder and i == 0):
            unused.append(slot.stored)
            continue
        want = _content(svc, group, slot)
        if _changed(slot.stored, want):
            plan.update.append(want)
    for i in range(0, len(left), max_endpoints):
        plan.create.append(new_slice(svc, group.ports, left[i : i + max_endpoints]))
    if placeholder and not slots:
        plan.create.append(new_slice(svc, group.ports, []))
    return unused


def _content(svc: service_pb2.Service, group: PortGroup, slot: _Slot) -> es_pb2.EndpointSlice:
    return _with_content(svc, slot.stored, group.ports, slot.endpoints.values())


def _reuse_spare(
    svc: service_pb2.Service, plan: SlicePlan, spare: list[es_pb2.EndpointSlice]
) -> None:
    """Turn creates into updates of slices that would be deleted; delete the
    rest. A slice owned by another object is never taken over."""
    reusable = [
        s
        for s in spare
        if owned_by(s, svc)
        and s.address_type == ADDRESS_TYPE_IPV4  # immutable
        and not s.metadata.deletion_timestamp
    ]
    others = [s for s in spare if s not in reusable]
    creates, plan.create = plan.create, []
    for es in creates:
        if reusable:
            stored = reusable.pop(0)
            plan.update.append(_with_content(svc, stored, list(es.ports), es.endpoints))
        else:
            plan.create.append(es)
    plan.delete += [s.metadata.name for s in reusable + others if not s.metadata.deletion_timestamp]
