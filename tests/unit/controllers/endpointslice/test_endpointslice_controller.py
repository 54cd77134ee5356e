"""The EndpointSlice controller's sync over the fake API: writes, the stale
cache guard, handlers mapping pods and slices to Services."""

from __future__ import annotations

from controllers.base import ControllerContext
from controllers.endpointslice.controller import STALE_CACHE_RETRY, EndpointSliceController
from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2 as es_pb2
from pinnace.client.fake import FakeClient
from pinnace.client.informer import SharedInformerFactory
from pinnace.machinery.intstr import intstr
from pinnace.machinery.timeutil import FakeClock


def service(*, selector: bool = True) -> service_pb2.Service:
    svc = service_pb2.Service(api_version="v1", kind="Service")
    svc.metadata.name = "web"
    svc.metadata.namespace = "ns"
    svc.metadata.uid = "uid-web"
    svc.metadata.generation = 1
    if selector:
        svc.spec.selector["app"] = "web"
    sp = svc.spec.ports.add(name="http", port=80, protocol="TCP")
    sp.target_port.CopyFrom(intstr(8080))
    return svc


def pod(name: str, *, ready: bool = True, app: str = "web") -> pod_pb2.Pod:
    p = pod_pb2.Pod()
    p.metadata.name = name
    p.metadata.namespace = "ns"
    p.metadata.uid = f"uid-{name}"
    p.metadata.resource_version = "1"
    p.metadata.labels["app"] = app
    p.status.phase = "Running"
    p.status.pod_ip = "10.0.0.1"
    p.status.conditions.add(type="Ready", status="True" if ready else "False")
    return p


def controller(client: FakeClient, clock: FakeClock) -> EndpointSliceController:
    ctx = ControllerContext(
        client=client,  # type: ignore[arg-type]  # the fake stands in for AsyncClient
        informers=SharedInformerFactory(client),  # type: ignore[arg-type]  # idem
        recorder=None,  # type: ignore[arg-type]  # this controller records no events
        clock=clock,
    )
    return EndpointSliceController(ctx)


def writes(client: FakeClient) -> list[tuple[str, str]]:
    return [(a.verb, a.name) for a in client.actions if a.resource == "endpointslices"]


async def drain(ctl: EndpointSliceController) -> list[str]:
    """The keys queued so far (taken off the queue)."""
    keys = []
    while len(ctl.queue):
        key = await ctl.queue.get()
        ctl.queue.done(key)
        keys.append(key)
    return keys


def observe(ctl: EndpointSliceController, client: FakeClient) -> None:
    """Let the slice cache catch up with the fake server, as the informer would."""
    for key in ctl.slices.store.keys():
        ctl.slices.store.delete(key)
    for obj in client.tracker.objects.values():
        if isinstance(obj, es_pb2.EndpointSlice):
            ctl.slices.store.upsert(obj)


async def test_sync_creates_then_stays_quiet_and_follows_readiness() -> None:
    svc, pods = service(), [pod("a"), pod("b")]
    client = FakeClient(svc, *pods)
    ctl = controller(client, FakeClock(monotonic=100.0))
    ctl.services.store.upsert(svc)
    for p in pods:
        ctl.pods.store.upsert(p)

    assert await ctl.sync("ns/web") is None
    assert writes(client) == [("create", "")]
    # The cache has not seen the create yet: no second slice.
    assert await ctl.sync("ns/web") == STALE_CACHE_RETRY
    assert writes(client) == [("create", "")]

    observe(ctl, client)
    client.actions.clear()
    assert await ctl.sync("ns/web") is None
    assert writes(client) == []  # unchanged: nothing written

    unready = pod("b", ready=False)
    unready.metadata.resource_version = "2"
    ctl.pods.store.upsert(unready)
    await ctl.sync("ns/web")
    ((verb, name),) = writes(client)
    assert verb == "update" and name.startswith("web-")
    (stored,) = [o for o in client.tracker.objects.values() if isinstance(o, es_pb2.EndpointSlice)]
    assert [(e.target_ref.name, e.conditions.ready) for e in stored.endpoints] == [
        ("a", True),
        ("b", False),
    ]


async def test_service_without_selector_left_alone() -> None:
    svc = service(selector=False)
    client = FakeClient(svc, pod("a"))
    ctl = controller(client, FakeClock())
    ctl.services.store.upsert(svc)
    ctl.pods.store.upsert(pod("a"))
    assert await ctl.sync("ns/web") is None
    assert await ctl.sync("ns/gone") is None
    assert writes(client) == []


async def test_handlers_map_pods_and_slices_to_services() -> None:
    svc = service()
    client = FakeClient()
    ctl = controller(client, FakeClock())
    ctl.services.store.upsert(svc)
    ctl.pod_changed(pod("a", app="other"))
    assert await drain(ctl) == []
    ctl.pod_changed(pod("a"))
    assert await drain(ctl) == ["ns/web"]
    old, cur = pod("a"), pod("a", app="other")
    ctl.update_pod(old, old)  # a resync
    assert await drain(ctl) == []
    cur.metadata.resource_version = "2"
    ctl.update_pod(old, cur)  # labels moved away: the old Service hears of it
    assert await drain(ctl) == ["ns/web"]

    es = es_pb2.EndpointSlice()
    es.metadata.namespace, es.metadata.name = "ns", "web-x"
    es.metadata.labels["kubernetes.io/service-name"] = "web"
    ctl.slice_changed(es)  # not ours: no managed-by label
    assert await drain(ctl) == []
    es.metadata.labels["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io"
    ctl.delete_slice(es)
    assert await drain(ctl) == ["ns/web"]


async def test_slice_relabelled_away_counts_as_deleted() -> None:
    ctl = controller(FakeClient(), FakeClock())
    old = es_pb2.EndpointSlice()
    old.metadata.namespace, old.metadata.name = "ns", "web-x"
    old.metadata.resource_version = "7"
    old.metadata.labels["kubernetes.io/service-name"] = "web"
    old.metadata.labels["endpointslice.kubernetes.io/managed-by"] = (
        "endpointslice-controller.k8s.io"
    )
    ctl.tracker.wrote("ns/web", old)
    cur = es_pb2.EndpointSlice()
    cur.CopyFrom(old)
    cur.metadata.resource_version = "8"
    del cur.metadata.labels["endpointslice.kubernetes.io/managed-by"]
    ctl.update_slice(old, cur)
    assert await drain(ctl) == ["ns/web"]
    assert not ctl.tracker.stale("ns/web", [])  # no wait for a slice that is not ours now
