"""The cache hub's freshness against a real etcd: a consistent read never
runs ahead of the events the hub has applied."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from google.protobuf.message import Message

from apiserver.etcd import EtcdClient, op_put
from apiserver.storage.hub import PROGRESS_KEY, CacheHub
from apiserver.storage.watchcache import Filter, WatchCache
from pinnace.api.core.v1 import namespace_pb2
from pinnace.localcluster.etcd import EtcdServer

PREFIX = "/registry/namespaces/"
# A burst of REVISIONS transactions of PER_TXN writes each: many
# revisions for etcd to bring a lagging watch through, and many events for
# the hub to decode meanwhile.
REVISIONS = 2000
PER_TXN = 16


def _decode(value: bytes, rv: int) -> Message:
    obj = namespace_pb2.Namespace.FromString(value)
    obj.metadata.resource_version = str(rv)
    return obj


def _extract(obj: Message) -> tuple[str, str, dict[str, str], dict[str, str]]:
    meta = obj.metadata  # type: ignore[attr-defined]
    return meta.namespace, meta.name, {}, {}


def _namespace(i: int) -> bytes:
    ns = namespace_pb2.Namespace()
    ns.metadata.name = f"ns-{i:05d}"
    ns.metadata.labels["n"] = str(i)
    return ns.SerializeToString()


class _BehindHub(CacheHub):
    """A hub that, between its first list and its watch, misses a burst of
    writes: as after an etcd outage, its watch starts far behind etcd."""

    def __init__(self, etcd: EtcdClient, cache: WatchCache, writer: EtcdClient) -> None:
        super().__init__(etcd, [cache])
        self._writer = writer
        self.last_write = 0
        self.burst = asyncio.Event()

    async def _relist(self) -> None:
        await super()._relist()
        if self.last_write:
            return
        writes = asyncio.Semaphore(64)

        async def txn(t: int) -> int:
            ops = [
                op_put(f"{PREFIX}ns-{t}-{i}".encode(), _namespace(t * PER_TXN + i))
                for i in range(PER_TXN)
            ]
            async with writes:
                return (await self._writer.txn([], ops, [])).revision

        self.last_write = max(await asyncio.gather(*(txn(t) for t in range(REVISIONS))))
        self.burst.set()


@pytest.fixture
async def etcd(own_etcd: EtcdServer) -> AsyncIterator[EtcdClient]:
    async with EtcdClient([own_etcd.endpoint], timeout=10) as client:
        yield client


async def test_a_hub_far_behind_etcd_is_fresh_only_when_it_has_every_event(
    etcd: EtcdClient, own_etcd: EtcdServer
) -> None:
    """etcd 3.4.23 answers a progress request of a watch still catching up
    with the current revision before the events below it (etcd #15220); a
    hub that trusted it served lists missing objects and its watchers lost
    events. Waiting for the hub's own sentinel write cannot be fooled."""
    cache = WatchCache(prefix=PREFIX, decode=_decode, extract=_extract, resource="namespaces")
    async with EtcdClient([own_etcd.endpoint], timeout=10) as writer:
        hub = _BehindHub(etcd, cache, writer)
        await hub.start()
        try:
            await hub.burst.wait()
            assert hub.rv < hub.last_write, "the burst came after the hub's list"
            await hub.wait_fresh(hub.last_write, timeout=30)
            assert hub.rv >= hub.last_write
            assert len(cache.list(Filter())[0]) == REVISIONS * PER_TXN
        finally:
            await hub.stop()


async def test_a_write_outside_the_registry_is_waited_for_by_a_nudge(
    etcd: EtcdClient,
) -> None:
    """No event under /registry/ carries that revision; the hub's own write
    of the progress key brings it past, and no cache shows that key."""
    cache = WatchCache(prefix=PREFIX, decode=_decode, extract=_extract, resource="namespaces")
    hub = CacheHub(etcd, [cache])
    await hub.start()
    try:
        outside = await etcd.put(b"/elsewhere/x", b"1")
        assert hub.rv < outside.revision
        await hub.wait_fresh(outside.revision, timeout=10)
        assert hub.rv >= outside.revision and hub.nudges == 1
        assert (await etcd.range(PROGRESS_KEY)).kvs, "the nudge is a real write"
        assert cache.list(Filter())[0] == []
    finally:
        await hub.stop()
