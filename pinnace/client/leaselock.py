"""Leader election over real coordination.k8s.io/v1 Lease objects.

``LeaseLock`` is the ``leaderelection.LeaseLock`` protocol over the asyncio
client: one Lease (namespace + name) holds the ``LeaseRecord``. Mapping:

    LeaseRecord.holder_identity         spec.holderIdentity
    LeaseRecord.lease_duration_seconds  spec.leaseDurationSeconds (int32: rounded
                                        up to whole seconds, at least 1)
    LeaseRecord.acquire_time            spec.acquireTime (RFC 3339 MicroTime)
    LeaseRecord.renew_time              spec.renewTime   (RFC 3339 MicroTime)
    LeaseRecord.lease_transitions       spec.leaseTransitions
    LeaseRecord.resource_version        metadata.resourceVersion

Writes are optimistic: ``update`` sends the resourceVersion of the record it
was given, and the apiserver refuses a stale one (Conflict), which, like
AlreadyExists on ``create`` and NotFound on ``update`` (the Lease was
deleted meanwhile), becomes ``LockConflict``. Labels and annotations of an
existing Lease are kept.

An update is not abandoned when its caller is cancelled: it may have been
committed already, and a leader cancelled in the middle of a renewal must
still be able to release the lease it holds. So the write runs on, and the
next ``update`` given a record read before it (the elector's last observed
record) is sent with the resourceVersion that write produced: only we wrote
in between, so the record is not stale. Any other writer still conflicts.

``run_leader_elected`` is what components call to run only while leading.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any

from pinnace.api.coordination.v1 import lease_pb2
from pinnace.client.aio import AsyncClient
from pinnace.client.leaderelection import LeaderElector, LeaseRecord, LockConflict
from pinnace.machinery import errors
from pinnace.machinery.timeutil import format_rfc3339, parse_rfc3339

__all__ = ["LeaseLock", "run_leader_elected"]

log = logging.getLogger(__name__)


class LeaseLock:
    """A ``leaderelection.LeaseLock`` backed by one Lease object."""

    def __init__(self, client: AsyncClient, namespace: str, name: str) -> None:
        if not name:
            raise ValueError("a lease needs a name")
        self.namespace = namespace or "default"
        self.name = name
        self._leases = client.leases(self.namespace)
        self._last: lease_pb2.Lease | None = None  # the Lease as last read or written
        # The update a cancelled caller left running, and the resourceVersion
        # our last update replaced -> the one it wrote.
        self._orphan: asyncio.Future[lease_pb2.Lease] | None = None
        self._replaced: dict[str, str] = {}

    def describe(self) -> str:
        return f"{self.namespace}/{self.name}"

    async def get(self) -> LeaseRecord | None:
        try:
            lease = await self._leases.get(self.name)
        except errors.NotFound:
            return None
        self._last = lease
        return record_from_lease(lease)

    async def create(self, record: LeaseRecord) -> LeaseRecord:
        lease = lease_pb2.Lease()
        lease.metadata.name = self.name
        lease.metadata.namespace = self.namespace
        apply_record(lease, record)
        try:
            created = await self._leases.create(lease)
        except errors.AlreadyExists as err:
            raise LockConflict(f"lease {self.describe()} exists already: {err}") from None
        self._last = created
        return record_from_lease(created)

    async def update(self, record: LeaseRecord) -> LeaseRecord:
        # A write of ours whose caller was cancelled finishes first, and if it
        # replaced the version this record was read at, the record is current
        # still: nobody but us wrote since.
        if self._orphan is not None:
            await asyncio.wait([self._orphan])
        rv = self._replaced.get(record.resource_version, record.resource_version)
        if self._last is not None and self._last.metadata.resource_version == rv:
            lease = lease_pb2.Lease()
            lease.CopyFrom(self._last)
        else:
            lease = lease_pb2.Lease()
            lease.metadata.name = self.name
            lease.metadata.namespace = self.namespace
        lease.metadata.resource_version = rv
        apply_record(lease, record)
        write = asyncio.ensure_future(self._leases.update(lease))
        try:
            updated = await asyncio.shield(write)
        except (errors.Conflict, errors.NotFound) as err:
            raise LockConflict(f"lease {self.describe()}: {err}") from None
        except asyncio.CancelledError:
            self._orphan = write
            write.add_done_callback(lambda w: self._orphan_done(w, rv))
            raise
        self._wrote(updated, rv)
        return record_from_lease(updated)

    def _orphan_done(self, write: asyncio.Future[lease_pb2.Lease], rv: str) -> None:
        if self._orphan is write:
            self._orphan = None
        if not write.cancelled() and write.exception() is None:
            self._wrote(write.result(), rv)
            log.debug("lease %s: a cancelled update was written anyway", self.describe())

    def _wrote(self, lease: lease_pb2.Lease, replaced_rv: str) -> None:
        self._last = lease
        self._replaced = {replaced_rv: lease.metadata.resource_version}


def record_from_lease(lease: lease_pb2.Lease) -> LeaseRecord:
    """The LeaseRecord a Lease holds."""
    spec = lease.spec
    return LeaseRecord(
        holder_identity=spec.holder_identity,
        lease_duration_seconds=float(spec.lease_duration_seconds),
        acquire_time=parse_rfc3339(spec.acquire_time) if spec.acquire_time else None,
        renew_time=parse_rfc3339(spec.renew_time) if spec.renew_time else None,
        lease_transitions=spec.lease_transitions,
        resource_version=lease.metadata.resource_version,
    )


def apply_record(lease: lease_pb2.Lease, record: LeaseRecord) -> None:
    """Write record into lease.spec (resource version excluded)."""
    spec = lease.spec
    spec.holder_identity = record.holder_identity
    spec.lease_duration_seconds = max(1, math.ceil(record.lease_duration_seconds))
    for field, value in (("acquire_time", record.acquire_time), ("renew_time", record.renew_time)):
        if value is None:
            spec.ClearField(field)
        else:
            setattr(spec, field, format_rfc3339(value, micro=True))
    spec.lease_transitions = record.lease_transitions


async def run_leader_elected(
    client: AsyncClient,
    *,
    namespace: str,
    name: str,
    identity: str,
    lease_duration: float,
    renew_deadline: float,
    retry_period: float,
    run: Callable[[], Coroutine[Any, Any, None]],
    on_new_leader: Callable[[str], None] | None = None,
) -> None:
    """Campaign for the Lease ``namespace/name`` and run ``run()`` while
    leading.

    Returns when leading stops: the lease could not be renewed within
    ``renew_deadline``, another candidate took it, or ``run()`` returned
    (its exception is re-raised). Cancelling this coroutine cancels
    ``run()`` and hands the lease back so another candidate takes over at
    its next retry. When this returns the component's work has stopped;
    its caches and queues may hold work a new leader is now doing, so it
    either exits (Kubernetes' components do, and a supervisor restarts
    them) or campaigns again with fresh state (Pinnace's controller-manager
    and scheduler, which so ride out an etcd outage without restarting).
    """
    elector = LeaderElector(
        LeaseLock(client, namespace, name),
        identity,
        lease_duration=lease_duration,
        renew_deadline=renew_deadline,
        retry_period=retry_period,
        on_started_leading=run,
        on_new_leader=on_new_leader,
    )
    await elector.run()
