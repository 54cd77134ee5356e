"""The EndpointSlice controller's pure planning: endpoints, ports, slices."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.controllerref import owner_reference
from controllers.endpointslice.plan import SlicePlan, new_slice, plan_slices, pod_endpoint
from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2 as es_pb2
from pinnace.machinery.intstr import intstr
from pinnace.machinery.wellknown import (
    ENDPOINTSLICE_CONTROLLER_NAME,
    LABEL_ENDPOINTSLICE_MANAGED_BY,
    LABEL_SERVICE_NAME,
)


def service(
    *, ports: list[tuple[str, int, int | str]] | None = None, publish: bool = False
) -> service_pb2.Service:
    svc = service_pb2.Service(api_version="v1", kind="Service")
    svc.metadata.name = "web"
    svc.metadata.namespace = "ns"
    svc.metadata.uid = "uid-web"
    svc.spec.selector["app"] = "web"
    for name, port, target in ports if ports is not None else [("http", 80, 8080)]:
        sp = svc.spec.ports.add(name=name, port=port, protocol="TCP")
        sp.target_port.CopyFrom(intstr(target))
    svc.spec.publish_not_ready_addresses = publish
    return svc


def pod(
    name: str,
    *,
    ready: bool = True,
    ip: str = "10.0.0.1",
    deleting: bool = False,
    phase: str = "Running",
    http_port: int = 0,
) -> pod_pb2.Pod:
    p = pod_pb2.Pod()
    p.metadata.name = name
    p.metadata.namespace = "ns"
    p.metadata.uid = f"uid-{name}"
    p.metadata.labels["app"] = "web"
    if deleting:
        p.metadata.deletion_timestamp = "2024-01-01T00:00:00Z"
    p.spec.node_name = "node-a"
    c = p.spec.containers.add(name="c")
    if http_port:
        c.ports.add(name="http", container_port=http_port, protocol="TCP")
    p.status.phase = phase
    p.status.pod_ip = ip
    p.status.conditions.add(type="Ready", status="True" if ready else "False")
    return p


def conditions(ep: es_pb2.Endpoint | None) -> tuple[bool, bool, bool] | None:
    if ep is None:
        return None
    c = ep.conditions
    return (c.ready, c.serving, c.terminating)


ENDPOINTS: list[Any] = [
    ("ready", pod("a"), False, (True, True, False)),
    ("not-ready", pod("a", ready=False), False, (False, False, False)),
    ("terminating-ready", pod("a", deleting=True), False, (False, True, True)),
    ("terminating-not-ready", pod("a", ready=False, deleting=True), False, (False, False, True)),
    ("publish-not-ready", pod("a", ready=False), True, (True, False, False)),
    ("publish-terminating", pod("a", deleting=True), True, (True, True, True)),
    ("no-ip", pod("a", ip=""), False, None),
    ("ipv6-only", pod("a", ip="fd00::1"), False, None),
    ("succeeded", pod("a", phase="Succeeded"), False, None),
    ("failed", pod("a", phase="Failed"), False, None),
]


@pytest.mark.parametrize(
    ("p", "publish", "want"), [c[1:] for c in ENDPOINTS], ids=[c[0] for c in ENDPOINTS]
)
def test_pod_endpoint_conditions(p: pod_pb2.Pod, publish: bool, want: Any) -> None:
    assert conditions(pod_endpoint(service(publish=publish), p)) == want


def test_pod_endpoint_fields() -> None:
    p = pod("a", ip="10.0.0.7")
    ep = pod_endpoint(service(), p)
    assert ep is not None
    assert list(ep.addresses) == ["10.0.0.7"]
    assert ep.node_name == "node-a"
    assert not ep.HasField("hostname")
    assert (ep.target_ref.kind, ep.target_ref.namespace, ep.target_ref.name) == ("Pod", "ns", "a")
    assert ep.target_ref.uid == "uid-a"
    p.spec.hostname, p.spec.subdomain = "a-host", "other"
    other = pod_endpoint(service(), p)
    assert other is not None and not other.HasField("hostname")
    p.spec.subdomain = "web"
    same = pod_endpoint(service(), p)
    assert same is not None and same.hostname == "a-host"


def slice_of(
    name: str, pods: list[pod_pb2.Pod], *, ports: list[int] | None = None, owner: str = "uid-web"
) -> es_pb2.EndpointSlice:
    """A stored slice of the Service, as an earlier sync would have written it."""
    svc = service()
    svc.metadata.uid = owner
    eps = [pod_endpoint(svc, p) for p in pods]
    port_list = [
        es_pb2.EndpointPort(name="http", protocol="TCP", port=n) for n in (ports or [8080])
    ]
    es = new_slice(svc, port_list, [e for e in eps if e is not None])
    es.metadata.name = name
    es.metadata.resource_version = "5"
    del es.metadata.owner_references[:]
    es.metadata.owner_references.append(owner_reference(svc))
    return es


def summary(plan: SlicePlan) -> dict[str, Any]:
    """Each write as (name or "new", [pod names], [ports])."""

    def one(es: es_pb2.EndpointSlice) -> tuple[str, list[str], list[int]]:
        return (
            es.metadata.name or "new",
            [e.target_ref.name for e in es.endpoints],
            [p.port for p in es.ports],
        )

    return {
        "create": [one(e) for e in plan.create],
        "update": [one(e) for e in plan.update],
        "delete": plan.delete,
    }


def pods(*names: str, **kw: Any) -> list[pod_pb2.Pod]:
    return [pod(n, **kw) for n in names]


PLANS: list[Any] = [
    (
        "first-sync-one-slice",
        service(),
        pods("a", "b", "c"),
        [],
        3,
        {"create": [("new", ["a", "b", "c"], [8080])], "update": [], "delete": []},
    ),
    (
        "unchanged-no-write",
        service(),
        pods("a", "b"),
        [slice_of("web-1", pods("a", "b"))],
        3,
        {"create": [], "update": [], "delete": []},
    ),
    (
        "limit-splits",
        service(),
        pods("a", "b", "c", "d", "e"),
        [],
        2,
        {
            "create": [
                ("new", ["a", "b"], [8080]),
                ("new", ["c", "d"], [8080]),
                ("new", ["e"], [8080]),
            ],
            "update": [],
            "delete": [],
        },
    ),
    (
        "keep-in-place-fill-changed-first",
        service(),
        pods("p1", "p3", "p4", "p5", "p6"),
        [slice_of("web-a", pods("p1", "p2", "p3")), slice_of("web-b", pods("p4"))],
        3,
        {
            "create": [],
            "update": [("web-a", ["p1", "p3", "p5"], [8080]), ("web-b", ["p4", "p6"], [8080])],
            "delete": [],
        },
    ),
    (
        "scale-down-deletes-emptied",
        service(),
        pods("a"),
        [slice_of("web-a", pods("a", "b")), slice_of("web-b", pods("c", "d"))],
        2,
        {"create": [], "update": [("web-a", ["a"], [8080])], "delete": ["web-b"]},
    ),
    (
        "no-pods-placeholder",
        service(),
        [],
        [],
        3,
        {"create": [("new", [], [])], "update": [], "delete": []},
    ),
    (
        "no-pods-reuses-slice-as-placeholder",
        service(),
        [],
        [slice_of("web-a", pods("a")), slice_of("web-b", pods("b"))],
        3,
        {"create": [], "update": [("web-a", [], [])], "delete": ["web-b"]},
    ),
    (
        "port-change-reuses-slice",
        service(ports=[("http", 80, 9090)]),
        pods("a"),
        [slice_of("web-a", pods("a"))],
        3,
        {"create": [], "update": [("web-a", ["a"], [9090])], "delete": []},
    ),
    (
        "named-port-per-pod-groups",
        service(ports=[("http", 80, "http")]),
        [pod("a", http_port=8080), pod("b", http_port=9090), pod("c", http_port=8080)],
        [],
        3,
        {
            "create": [("new", ["a", "c"], [8080]), ("new", ["b"], [9090])],
            "update": [],
            "delete": [],
        },
    ),
    (
        "named-port-missing-leaves-port-out",
        service(ports=[("http", 80, "http"), ("metrics", 81, 9100)]),
        [pod("a", http_port=8080), pod("b")],
        [],
        3,
        {
            "create": [("new", ["a"], [8080, 9100]), ("new", ["b"], [9100])],
            "update": [],
            "delete": [],
        },
    ),
    (
        "foreign-owner-deleted",
        service(),
        pods("a"),
        [slice_of("web-old", pods("a"), owner="uid-old")],
        3,
        {"create": [("new", ["a"], [8080])], "update": [], "delete": ["web-old"]},
    ),
    (
        "duplicate-endpoint-dropped",
        service(),
        pods("a", "b"),
        [slice_of("web-a", pods("a", "b")), slice_of("web-b", pods("b"))],
        3,
        {"create": [], "update": [], "delete": ["web-b"]},
    ),
    (
        "readiness-change-updates-in-place",
        service(),
        [pod("a"), pod("b", ready=False)],
        [slice_of("web-a", pods("a", "b"))],
        3,
        {"create": [], "update": [("web-a", ["a", "b"], [8080])], "delete": []},
    ),
]


@pytest.mark.parametrize(
    ("svc", "pod_list", "existing", "limit", "want"),
    [c[1:] for c in PLANS],
    ids=[c[0] for c in PLANS],
)
def test_plan_slices(
    svc: service_pb2.Service,
    pod_list: list[pod_pb2.Pod],
    existing: list[es_pb2.EndpointSlice],
    limit: int,
    want: dict[str, Any],
) -> None:
    assert summary(plan_slices(svc, pod_list, existing, max_endpoints=limit)) == want


def test_new_slice_metadata() -> None:
    plan = plan_slices(service(), pods("a"), [])
    (es,) = plan.create
    assert es.metadata.generate_name == "web-"
    assert es.metadata.namespace == "ns"
    assert es.address_type == "IPv4"
    assert es.metadata.labels[LABEL_SERVICE_NAME] == "web"
    assert es.metadata.labels[LABEL_ENDPOINTSLICE_MANAGED_BY] == ENDPOINTSLICE_CONTROLLER_NAME
    (ref,) = es.metadata.owner_references
    assert (ref.kind, ref.name, ref.uid, ref.controller) == ("Service", "web", "uid-web", True)
    (port,) = es.ports
    assert (port.name, port.protocol, port.port) == ("http", "TCP", 8080)


def test_readiness_change_content() -> None:
    existing = [slice_of("web-a", pods("a", "b"))]
    plan = plan_slices(service(), [pod("a"), pod("b", ready=False)], existing)
    (es,) = plan.update
    assert [e.conditions.ready for e in es.endpoints] == [True, False]
    assert es.metadata.resource_version == "5"  # an update of the stored slice
