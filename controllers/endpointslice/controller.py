"""The EndpointSlice controller: informer wiring, handlers and the sync loop
(Kubernetes' pkg/controller/endpointslice).

For every Service with a selector it keeps EndpointSlices (labelled
``kubernetes.io/service-name`` and managed-by
``endpointslice-controller.k8s.io``, controlled by the Service) holding the
pods its selector matches; plan.py says what they hold. Services without a
selector (their slices are someone else's) and ExternalName Services are
left alone; a deleted Service's slices go with it (garbage collection
through the ownerReference).

Handlers only map objects to Service keys:

* Service added/updated/deleted → its key (a delete also forgets its
  parsed selector and tracked writes);
* pod added/updated/deleted → every Service in its namespace whose selector
  matches it (on a label change, the old labels' Services too);
* EndpointSlice added/updated/deleted → the Service its
  ``kubernetes.io/service-name`` label names, if this controller manages it
  (so a slice changed or deleted by someone else is put back).

``sync(key)`` re-reads the caches, and does nothing while the slice cache
has not seen this controller's last writes for the Service (tracker.py);
otherwise it plans (plan.py) and writes (sync.py) only what changed. It is
never run concurrently for one key (the work queue guarantees it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from controllers.base import Controller, ControllerContext, key_of, unwrap
from controllers.endpointslice.plan import MAX_ENDPOINTS_PER_SLICE, plan_slices
from controllers.endpointslice.sync import apply_plan
from controllers.endpointslice.tracker import SliceTracker
from controllers.selectors import SelectorCache
from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.api.discovery.v1 import endpointslice_pb2 as es_pb2
from pinnace.client.informer import NAMESPACE_INDEX
from pinnace.machinery.labels import Selector, selector_from_map
from pinnace.machinery.wellknown import (
    ENDPOINTSLICE_CONTROLLER_NAME,
    LABEL_ENDPOINTSLICE_MANAGED_BY,
    LABEL_SERVICE_NAME,
    SERVICE_TYPE_EXTERNAL_NAME,
)

# A sync that found the slice cache behind our own writes looks again after
# this long, in case the slice event that would wake it got lost.
STALE_CACHE_RETRY = 1.0


def service_selector(svc: service_pb2.Service) -> Selector | None:
    """The Service's selector; None (selects nothing) when it has none."""
    return selector_from_map(svc.spec.selector) if svc.spec.selector else None


def managed_service_key(es: es_pb2.EndpointSlice) -> str | None:
    """The key of the Service a slice of ours belongs to."""
    labels = es.metadata.labels
    if labels.get(LABEL_ENDPOINTSLICE_MANAGED_BY) != ENDPOINTSLICE_CONTROLLER_NAME:
        return None
    name = labels.get(LABEL_SERVICE_NAME)
    return f"{es.metadata.namespace}/{name}" if name else None


class EndpointSliceController(Controller):
    """Keeps every selecting Service's EndpointSlices."""

    name: ClassVar[str] = "endpointslice"

    def __init__(self, ctx: ControllerContext, *, max_endpoints: int | None = None) -> None:
        flag = getattr(ctx.options, "max_endpoints_per_slice", None)
        self.max_endpoints = max_endpoints or flag or MAX_ENDPOINTS_PER_SLICE
        self.tracker = SliceTracker(clock=ctx.clock.monotonic)
        super().__init__(ctx)

    # ---- wiring ----------------------------------------------------------------

    def setup(self) -> None:
        self.selectors = SelectorCache(service_selector, kind="Service", log=self.log)
        self.services = self.ctx.informer(service_pb2.Service)
        self.pods = self.ctx.informer(pod_pb2.Pod)
        self.slices = self.ctx.informer(es_pb2.EndpointSlice)
        self.services.add_handler(
            on_add=self.enqueue,
            on_update=lambda _old, cur: self.enqueue(cur),
            on_delete=self.delete_service,
        )
        self.pods.add_handler(
            on_add=self.pod_changed, on_update=self.update_pod, on_delete=self.pod_changed
        )
        self.slices.add_handler(
            on_add=self.slice_changed, on_update=self.update_slice, on_delete=self.delete_slice
        )

    # ---- handlers ----------------------------------------------------------------

    def delete_service(self, obj: Any) -> None:
        key = key_of(obj)
        self.selectors.forget(unwrap(obj))
        self.tracker.forget(key)
        self.queue.add(key)

    def pod_changed(self, obj: Any) -> None:
        pod = unwrap(obj)
        services = self.services.store.by_index(NAMESPACE_INDEX, pod.metadata.namespace)
        for svc in self.selectors.selecting(services, pod):
            self.enqueue(svc)

    def update_pod(self, old: pod_pb2.Pod, cur: pod_pb2.Pod) -> None:
        if old.metadata.resource_version == cur.metadata.resource_version:
            return  # a resync: nothing changed
        self.pod_changed(cur)
        if dict(old.metadata.labels) != dict(cur.metadata.labels):
            self.pod_changed(old)

    def slice_changed(self, obj: Any) -> None:
        key = managed_service_key(unwrap(obj))
        if key is not None:
            self.queue.add(key)

    def update_slice(self, old: es_pb2.EndpointSlice, cur: es_pb2.EndpointSlice) -> None:
        if old.metadata.resource_version == cur.metadata.resource_version:
            return
        self.slice_changed(cur)
        old_key = managed_service_key(old)
        if old_key is not None and old_key != managed_service_key(cur):
            # No longer one of the Service's slices (its labels changed): as
            # good as deleted for it.
            self.delete_slice(old)

    def delete_slice(self, obj: Any) -> None:
        es = unwrap(obj)
        key = managed_service_key(es)
        if key is not None:
            self.tracker.delete_observed(key, es.metadata.name)
            self.queue.add(key)

    # ---- sync --------------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        svc = self.services.store.get(key)
        if svc is None:
            self.tracker.forget(key)
            return None
        selector = self.selectors.get(svc)
        if (
            selector is None
            or svc.metadata.deletion_timestamp
            or svc.spec.type == SERVICE_TYPE_EXTERNAL_NAME
        ):
            return None
        namespace = svc.metadata.namespace
        pods = [
            p
            for p in self.pods.store.by_index(NAMESPACE_INDEX, namespace)
            if selector.matches(p.metadata.labels)
        ]
        slices = [
            s
            for s in self.slices.store.by_index(NAMESPACE_INDEX, namespace)
            if managed_service_key(s) == key
        ]
        if self.tracker.stale(key, slices):
            self.log.debug("slice cache of %s is behind our writes; waiting", key)
            return STALE_CACHE_RETRY
        plan = plan_slices(svc, pods, slices, max_endpoints=self.max_endpoints)
        if not plan.empty:
            self.log.info(
                "service %s: creating %d, updating %d, deleting %d slices",
                key,
                len(plan.create),
                len(plan.update),
                len(plan.delete),
            )
            await apply_plan(self.client, self.tracker, key=key, namespace=namespace, plan=plan)
        return None
