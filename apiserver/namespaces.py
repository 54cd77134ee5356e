"""Namespace lifecycle inside the apiserver.

* ``ensure_system_namespaces`` creates default, kube-system, kube-public and
  kube-node-lease at start (idempotent).
* ``NamespaceFinalizer`` empties every Terminating namespace: it deletes each
  namespaced object in it (pods first, as Kubernetes' ordered namespace
  deletion does), waits until none is left, then removes the "kubernetes"
  spec finalizer so the namespace itself goes. It is level triggered: after a
  restart it finds Terminating namespaces in the cache and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from google.protobuf.message import Message

from apiserver.registry.resource import Resource
from apiserver.registry.verbs import Verbs
from apiserver.storage.watchcache import Filter
from pinnace.api.core.v1 import namespace_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import errors
from pinnace.machinery.errors import aggregate
from pinnace.machinery.wellknown import FINALIZER_KUBERNETES

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def ensure_system_namespaces(namespaces: Resource, verbs: Verbs) -> None:
    for name in SYSTEM_NAMESPACES:
        ns = namespace_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name))
        with contextlib.suppress(errors.AlreadyExists):
            await verbs.create(namespaces, "", ns)
            log.info("created namespace %s", name)


class NamespacePhases:
    """The phase of a namespace, as the verbs ask before creating in it."""

    def __init__(self, namespaces: Resource) -> None:
        self._namespaces = namespaces

    def phase_of(self, name: str) -> str | None:
        """The phase the watch cache holds; None when it holds no such namespace."""
        cached = self._namespaces.cache.get(self._namespaces.key("", name))
        if cached is None:
            return None
        return namespace_pb2.Namespace.FromString(cached.raw).status.phase

    async def phase(self, name: str) -> str | None:
        """The namespace's phase; reads etcd when the cache has not seen it yet."""
        phase = self.phase_of(name)
        if phase is not None:
            return phase
        stored = await self._namespaces.store.get(self._namespaces.key("", name))
        return None if stored is None else _namespace(stored.obj).status.phase


class NamespaceFinalizer:
    """Deletes the contents of Terminating namespaces, then the namespace."""

    def __init__(
        self, resources: dict[str, Resource], verbs: Verbs, *, period: float = 0.5
    ) -> None:
        self._resources = resources
        self._namespaces = resources["namespaces"]
        self._verbs = verbs
        self._period = period

    async def run(self) -> None:
        while True:
            await self.sync_all()
            await asyncio.sleep(self._period)

    async def sync_all(self) -> None:
        """One pass over every Terminating namespace. A namespace whose
        contents fail to delete is logged and retried on the next pass; it
        does not hold up the others."""
        for cached in self._namespaces.cache.objects():
            ns = namespace_pb2.Namespace.FromString(cached.raw)
            if not ns.metadata.deletion_timestamp:
                continue
            try:
                await self._finalize(ns)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("finalizing namespace %s failed; retrying", cached.name)

    async def _finalize(self, ns: namespace_pb2.Namespace) -> None:
        name = ns.metadata.name
        remaining = 0
        # Pods first (Kubernetes' OrderedNamespaceDeletion), then everything else.
        order = sorted(
            (r for r in self._resources.values() if r.info.namespaced),
            key=lambda r: r.info.kind != "Pod",
        )
        pods_left = False
        # Background, as Kubernetes' namespace deleter does: a kind's own default
        # (Orphan for RC and Job) would leave a finalizer only the garbage
        # collector removes, and the namespace would wait for it.
        options = meta_pb2.DeleteOptions(propagation_policy="Background")
        # Every object is tried; the failures are reported together, as
        # Kubernetes' namespace deleter aggregates them.
        failed: list[errors.ApiError] = []
        for res in order:
            if res.info.kind != "Pod" and pods_left:
                break
            items, _ = res.cache.list(Filter(namespace=name))
            remaining += len(items)
            if res.info.kind == "Pod" and items:
                pods_left = True
            for item in items:
                try:
                    await self._verbs.delete(res, name, item.name, options)
                except (errors.NotFound, errors.Conflict):
                    continue  # gone already, or changed meanwhile: the next pass sees it
                except errors.ApiError as e:
                    failed.append(e)
        err = aggregate(failed)
        if err is not None:
            raise err
        if remaining:
            return
        if FINALIZER_KUBERNETES in ns.spec.finalizers:
            await self._remove_spec_finalizer(name)

    async def _remove_spec_finalizer(self, name: str) -> None:
        res = self._namespaces

        async def mutate(current: Message, rv: int) -> Message | None:
            ns = _namespace(current)
            kept = [f for f in ns.spec.finalizers if f != FINALIZER_KUBERNETES]
            del ns.spec.finalizers[:]
            ns.spec.finalizers.extend(kept)
            return ns

        with contextlib.suppress(errors.NotFound):
            stored, _ = await res.store.guaranteed_update(
                res.key("", name), mutate, not_found=lambda: errors.NotFound(name)
            )
            ns = _namespace(stored.obj)
            if not ns.metadata.finalizers and not ns.spec.finalizers:
                await res.store.delete_if_unchanged(res.key("", name), stored.rv, old=stored.obj)
                log.info("namespace %s is empty and deleted", name)


def _namespace(obj: Message) -> namespace_pb2.Namespace:
    """obj as the Namespace it is (the namespaces store holds only Namespaces)."""
    if not isinstance(obj, namespace_pb2.Namespace):  # pragma: no cover - see above
        raise TypeError(f"expected a Namespace, got a {obj.DESCRIPTOR.full_name}")
    return obj
