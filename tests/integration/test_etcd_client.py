"""EtcdClient against a real etcd member (the session `etcd_server`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from apiserver.etcd import (
    CompactedError,
    EtcdClient,
    EtcdUnavailable,
    Event,
    EventType,
    FutureRevisionError,
    LeaseNotFoundError,
    PutResult,
    RangeResult,
    Watch,
    WatchBatch,
    cmp_create_revision,
    cmp_mod_revision,
    cmp_value,
    op_put,
    op_range,
    prefix_range_end,
)
from pinnace.localcluster.etcd import EtcdServer, free_port


@pytest.fixture
async def etcd(etcd_server: EtcdServer) -> AsyncIterator[EtcdClient]:
    async with EtcdClient([etcd_server.endpoint], timeout=10) as client:
        yield client


@pytest.fixture
def prefix() -> bytes:
    """A key prefix no other test uses."""
    return f"/test/{uuid.uuid4().hex}/".encode()


async def next_batch(watch: Watch) -> WatchBatch:
    """The next batch, failing the test instead of hanging if none comes."""
    return await asyncio.wait_for(anext(watch), 5.0)


async def reading(task: asyncio.Task[WatchBatch]) -> None:
    """Return once `task`, an anext on a started Watch with nothing to read,
    waits in its stream read: a new task runs to its first suspension (the
    read, the stream being open) in one pass of the event loop, so one yield
    is enough; it is ordering, not a delay."""
    await asyncio.sleep(0)
    assert not task.done(), "the read returned at once: the stream was not idle"


async def collect_events(watch: Watch, count: int) -> list[Event]:
    events = []
    while len(events) < count:
        events += (await next_batch(watch)).events
    return events


async def put_when_available(etcd: EtcdClient, key: bytes, value: bytes) -> PutResult:
    """Put, retrying while the member is still coming back. (Safe here: a put
    that failed with "connection refused" was never sent.)"""
    for _ in range(100):
        try:
            return await etcd.put(key, value)
        except EtcdUnavailable:
            await asyncio.sleep(0.05)
    raise AssertionError("etcd did not come back")


async def test_put_get_and_range_with_prefix_limit_and_revision(etcd: EtcdClient, prefix: bytes):
    first = await etcd.put(prefix + b"a", b"1")
    await etcd.put(prefix + b"b", b"2")
    await etcd.put(prefix + b"c", b"3")
    last = await etcd.put(prefix + b"a", b"4")
    await etcd.put(prefix[:-1] + b"0", b"not under the prefix")

    got = await etcd.get(prefix + b"a")
    [kv] = got.kvs
    assert (kv.key, kv.value, kv.version) == (prefix + b"a", b"4", 2)
    assert (kv.create_revision, kv.mod_revision) == (first.revision, last.revision)
    # The header has the store's current revision: at least the one put after
    # ``last``; more if the session's apiserver wrote to this etcd meanwhile.
    assert got.revision >= last.revision + 1

    page = await etcd.range(prefix, prefix=True, limit=2)
    assert [kv.key for kv in page.kvs] == [prefix + b"a", prefix + b"b"]
    assert (page.count, page.more) == (3, True)
    rest = await etcd.range(prefix + b"b\0", prefix_range_end(prefix), revision=page.revision)
    assert [kv.value for kv in rest.kvs] == [b"3"]
    # The header carries the store's current revision, not the one read at:
    # a lease of an earlier test expiring meanwhile may have moved it on.
    assert rest.revision >= page.revision

    old = await etcd.range(prefix, prefix=True, revision=first.revision)
    assert [(kv.key, kv.value) for kv in old.kvs] == [(prefix + b"a", b"1")]

    counted = await etcd.range(prefix, prefix=True, count_only=True)
    assert (counted.kvs, counted.count) == ([], 3)
    keys = await etcd.range(prefix, prefix=True, keys_only=True, serializable=True)
    assert [kv.value for kv in keys.kvs] == [b"", b"", b""]

    assert (await etcd.get(prefix + b"missing")).kvs == []
    with pytest.raises(FutureRevisionError):
        await etcd.range(prefix, prefix=True, revision=got.revision + 1000)


async def test_put_returns_prev_kv(etcd: EtcdClient, prefix: bytes):
    assert (await etcd.put(prefix + b"k", b"v1", prev_kv=True)).prev_kv is None
    again = await etcd.put(prefix + b"k", b"v2", prev_kv=True)
    assert again.prev_kv is not None and again.prev_kv.value == b"v1"


async def test_txn_compare_and_put(etcd: EtcdClient, prefix: bytes):
    key = prefix + b"obj"
    created = await etcd.txn(
        [cmp_create_revision(key, "=", 0)], [op_put(key, b"v1")], [op_range(key)]
    )
    assert created.succeeded
    [put] = created.responses
    assert isinstance(put, PutResult) and put.revision == created.revision

    # Creating again fails; the failure branch returns the current object.
    again = await etcd.txn(
        [cmp_create_revision(key, "=", 0)], [op_put(key, b"v2")], [op_range(key)]
    )
    assert not again.succeeded
    [current] = again.responses
    assert isinstance(current, RangeResult)
    assert [(kv.value, kv.mod_revision) for kv in current.kvs] == [(b"v1", created.revision)]

    # Update on the right mod_revision succeeds; on a stale one it fails.
    updated = await etcd.txn(
        [cmp_mod_revision(key, "=", created.revision)], [op_put(key, b"v2")], [op_range(key)]
    )
    assert updated.succeeded and updated.revision > created.revision
    stale = await etcd.txn(
        [cmp_mod_revision(key, "=", created.revision)], [op_put(key, b"v3")], [op_range(key)]
    )
    assert not stale.succeeded
    assert stale.responses[0].kvs[0].value == b"v2"
    assert (await etcd.txn([cmp_value(key, "=", b"v2")], [], [])).succeeded


async def test_concurrent_compare_and_swap_increments_are_exact(etcd: EtcdClient, prefix: bytes):
    key = prefix + b"counter"
    await etcd.put(key, b"0")

    async def increment() -> int:
        current = (await etcd.get(key)).kvs[0]
        for attempts in range(1, 1000):
            new = str(int(current.value) + 1).encode()
            result = await etcd.txn(
                [cmp_mod_revision(key, "=", current.mod_revision)],
                [op_put(key, new)],
                [op_range(key)],
            )
            if result.succeeded:
                return attempts
            current = result.responses[0].kvs[0]
        raise AssertionError("increment never succeeded")

    attempts = await asyncio.gather(*(increment() for _ in range(200)))
    assert (await etcd.get(key)).kvs[0].value == b"200"
    assert sum(attempts) >= 200


async def test_watch_from_old_revision_delivers_every_event_in_order(
    etcd: EtcdClient, prefix: bytes
):
    start = (await etcd.put(prefix + b"x", b"0")).revision
    for i in range(1, 30):
        await etcd.put(prefix + f"{i % 3}".encode(), str(i).encode())
    deleted = await etcd.delete_range(prefix + b"x")
    last = await etcd.txn([], [op_put(prefix + b"y", b"a"), op_put(prefix + b"z", b"b")], [])

    async with etcd.watch(prefix, prefix=True, start_revision=start, prev_kv=True) as watch:
        events = await collect_events(watch, 33)
        # And live events after the catch-up, on the same stream.
        live = await etcd.put(prefix + b"x", b"again")
        [after] = await collect_events(watch, 1)

    revisions = [ev.kv.mod_revision for ev in events]
    assert revisions == [*range(start, start + 31), last.revision, last.revision]
    assert events[0].type is EventType.PUT and events[0].prev_kv is None
    assert events[4].kv.value == b"4" and events[4].prev_kv.value == b"1"
    assert events[30].type is EventType.DELETE and events[30].kv.mod_revision == deleted.revision
    assert events[30].prev_kv.value == b"0"
    assert (after.kv.value, after.kv.mod_revision, after.kv.version) == (b"again", live.revision, 1)
    assert watch.next_revision == live.revision + 1


async def test_watch_from_now_reports_only_new_events(etcd: EtcdClient, prefix: bytes):
    await etcd.put(prefix + b"old", b"1")
    watch = etcd.watch(prefix, prefix=True)
    await watch.start()
    put = await etcd.put(prefix + b"new", b"2")
    batch = await next_batch(watch)
    await watch.cancel()
    assert [(ev.kv.key, ev.kv.mod_revision) for ev in batch.events] == [
        (prefix + b"new", put.revision)
    ]
    assert batch.revision >= put.revision and not batch.is_progress_notify
    with pytest.raises(StopAsyncIteration):
        await anext(watch)


async def test_cancel_ends_a_blocked_iteration(etcd: EtcdClient, prefix: bytes):
    watch = etcd.watch(prefix, prefix=True)
    await watch.start()
    waiting = asyncio.create_task(anext(watch))
    await reading(waiting)
    await watch.cancel()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 5)


async def test_cancelling_the_consumer_loses_no_events(etcd: EtcdClient, prefix: bytes):
    async with etcd.watch(prefix, prefix=True) as watch:
        first = await etcd.put(prefix + b"k", b"1")
        assert (await next_batch(watch)).events[0].kv.mod_revision == first.revision
        # A consumer cancelled mid-read cancels the stream; the next read
        # reopens it from the next revision.
        waiting = asyncio.create_task(anext(watch))
        await reading(waiting)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        second = await etcd.put(prefix + b"k", b"2")
        events = await collect_events(watch, 1)
    assert [ev.kv.mod_revision for ev in events] == [second.revision]


async def test_fragmented_revisions_are_reassembled(etcd: EtcdClient, prefix: bytes):
    # Four 1 MiB values: the catch-up response is larger than etcd's 1.5 MiB
    # request limit, so with fragment=True etcd splits it.
    big = b"x" * (1024 * 1024)
    first = (await etcd.put(prefix + b"0", big)).revision
    for i in range(1, 4):
        await etcd.put(prefix + str(i).encode(), big)
    for fragment in (True, False):
        async with etcd.watch(prefix, prefix=True, start_revision=first, fragment=fragment) as w:
            events = await collect_events(w, 4)
        assert [ev.kv.mod_revision for ev in events] == list(range(first, first + 4))
        assert all(ev.kv.value == big for ev in events)


async def test_compaction_surfaces_as_compacted_error(etcd: EtcdClient, prefix: bytes):
    old = (await etcd.put(prefix + b"a", b"1")).revision
    await etcd.put(prefix + b"a", b"2")
    current = (await etcd.put(prefix + b"a", b"3")).revision
    await etcd.compact(current, physical=True)

    watch = etcd.watch(prefix, prefix=True, start_revision=old)
    with pytest.raises(CompactedError) as raised:
        await next_batch(watch)
    assert raised.value.compact_revision == current
    assert watch.closed

    with pytest.raises(CompactedError):
        await etcd.range(prefix, prefix=True, revision=old)
    # The compacted revision itself is still readable.
    at = await etcd.range(prefix, prefix=True, revision=current)
    assert at.kvs[0].value == b"3"


async def test_request_progress_reports_current_revision(etcd: EtcdClient, prefix: bytes):
    async with etcd.watch(prefix, prefix=True) as watch:
        # Writes outside the watched range move the store revision on.
        other = await etcd.put(prefix[:-1] + b"-other", b"1")
        await watch.request_progress()
        batch = await next_batch(watch)
    assert batch.is_progress_notify and batch.events == []
    assert batch.revision >= other.revision


async def test_delete_range_prefix(etcd: EtcdClient, prefix: bytes):
    for name in (b"a", b"b", b"c/d"):
        await etcd.put(prefix + name, b"v")
    await etcd.put(prefix[:-1], b"the prefix itself minus its slash survives")
    deleted = await etcd.delete_range(prefix, prefix=True, prev_kv=True)
    assert deleted.deleted == 3
    assert sorted(kv.key for kv in deleted.prev_kvs) == [
        prefix + b"a",
        prefix + b"b",
        prefix + b"c/d",
    ]
    assert (await etcd.range(prefix, prefix=True)).count == 0
    assert (await etcd.get(prefix[:-1])).kvs != []
    assert (await etcd.delete_range(prefix + b"a")).deleted == 0


async def test_lease_revoke_deletes_attached_keys(etcd: EtcdClient, prefix: bytes):
    lease = await etcd.lease_grant(30)
    await etcd.put(prefix + b"leased", b"v", lease=lease)
    assert (await etcd.get(prefix + b"leased")).kvs[0].lease == lease
    assert 0 < await etcd.lease_keepalive_once(lease) <= 30
    info = await etcd.lease_time_to_live(lease, keys=True)
    assert info.granted_ttl == 30 and info.keys == [prefix + b"leased"]

    await etcd.lease_revoke(lease)
    assert (await etcd.get(prefix + b"leased")).kvs == []
    with pytest.raises(LeaseNotFoundError):
        await etcd.lease_keepalive_once(lease)
    with pytest.raises(LeaseNotFoundError):
        await etcd.put(prefix + b"leased", b"v", lease=lease)


async def test_status(etcd: EtcdClient, prefix: bytes):
    put = await etcd.put(prefix + b"k", b"v")
    status = await etcd.status()
    assert status.revision >= put.revision
    assert status.leader != 0 and status.leader == status.member_id
    assert status.db_size > 0
    assert status.version.startswith("3.")


async def test_unreachable_first_endpoint_falls_through(etcd_server: EtcdServer, prefix: bytes):
    dead = f"127.0.0.1:{free_port()}"
    async with EtcdClient([dead, f"http://{etcd_server.endpoint}"], timeout=5) as etcd:
        # A mutation is retried too: the dead endpoint refused the connection.
        put = await etcd.put(prefix + b"k", b"v")
        assert (await etcd.get(prefix + b"k")).kvs[0].mod_revision == put.revision
    async with EtcdClient([dead, etcd_server.endpoint], timeout=5) as etcd:
        async with etcd.watch(prefix, prefix=True, start_revision=put.revision) as watch:
            [event] = await collect_events(watch, 1)
        assert event.kv.key == prefix + b"k"
    async with EtcdClient([dead], timeout=5) as etcd:
        with pytest.raises(EtcdUnavailable):
            await etcd.get(prefix + b"k")


async def test_watch_resumes_without_gaps_after_etcd_restarts(tmp_path, prefix: bytes):
    server = EtcdServer(tmp_path / "data", heartbeat_interval_ms=10, election_timeout_ms=100)
    try:
        await server.start().wait_ready_async()
        async with EtcdClient([server.endpoint], timeout=5) as etcd:
            async with etcd.watch(prefix, prefix=True) as watch:
                before = await etcd.put(prefix + b"k", b"1")
                assert [ev.kv.value for ev in await collect_events(watch, 1)] == [b"1"]

                server.kill()
                server.start()
                await server.wait_ready_async()
                # Written while nobody read the watch: must arrive exactly once.
                for value in (b"2", b"3"):
                    await put_when_available(etcd, prefix + b"k", value)
                events = await collect_events(watch, 2)
        assert [(ev.kv.value, ev.kv.mod_revision) for ev in events] == [
            (b"2", before.revision + 1),
            (b"3", before.revision + 2),
        ]
    finally:
        server.stop()
