"""Tests for pinnace.client.leaderelection, over the in-memory MemoryLeaseLock.

Timings are short (lease 0.3 s, renew deadline 0.2 s, retry 0.05 s) and every
wait is for a condition, with a deadline.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from pinnace.client.leaderelection import (
    LeaderElector,
    LeaseRecord,
    leadership_confirmed,
    leadership_current,
)
from pinnace.client.leaderelection_testing import MemoryLeaseLock
from pinnace.machinery.timeutil import FakeClock
from tests.waiting import stays_async, wait_until

# A leader stops within RENEW_DEADLINE of failing to renew; the others take
# over only LEASE after its last renewal: the gap between the two is what
# keeps two leaders apart when the event loop runs late (a busy machine).
LEASE = 0.8
RENEW_DEADLINE = 0.2
RETRY = 0.05
EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


class Candidate:
    """An elector plus what its callbacks saw; ``leaders`` is shared by all candidates."""

    def __init__(self, store: dict[str, LeaseRecord], identity: str, leaders: list[int]) -> None:
        self.lock = MemoryLeaseLock(store)
        self.identity = identity
        self.leaders = leaders  # [current number of leaders, most ever at once]
        self.stopped = asyncio.Event()
        self.leading_cancelled = False
        self.new_leaders: list[str] = []
        self.elector = LeaderElector(
            self.lock,
            identity,
            lease_duration=LEASE,
            renew_deadline=RENEW_DEADLINE,
            retry_period=RETRY,
            on_started_leading=self.lead,
            on_stopped_leading=self.stopped.set,
            on_new_leader=self.new_leaders.append,
        )
        self.task: asyncio.Task[None] | None = None

    async def lead(self) -> None:
        self.leaders[0] += 1
        self.leaders[1] = max(self.leaders)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.leading_cancelled = True
            raise
        finally:
            self.leaders[0] -= 1

    def start(self) -> None:
        self.stopped.clear()
        self.task = asyncio.create_task(self.elector.run())

    async def cancel(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


async def stop_all(*candidates: Candidate) -> None:
    for candidate in candidates:
        if candidate.task is not None and not candidate.task.done():
            await candidate.cancel()


async def test_one_leader_at_a_time_and_fast_handover_on_cancel() -> None:
    store: dict[str, LeaseRecord] = {}
    leaders = [0, 0]
    a, b = Candidate(store, "a", leaders), Candidate(store, "b", leaders)
    a.start()
    b.start()
    loop = asyncio.get_running_loop()
    try:
        for _ in range(4):
            await wait_until(lambda: leaders[0] == 1)
            leader, other = (a, b) if a.elector.is_leader() else (b, a)
            assert not other.elector.is_leader()
            await wait_until(lambda o=other, lead=leader: o.elector.leader() == lead.identity)
            cancelled_at = loop.time()
            await leader.cancel()
            assert leader.stopped.is_set() and leader.leading_cancelled
            assert store[leader.lock.name].holder_identity in ("", other.identity)
            await wait_until(other.elector.is_leader)
            assert loop.time() - cancelled_at < LEASE, "released, not left to expire"
            leader.start()
    finally:
        await stop_all(a, b)
    assert leaders == [0, 1], "never two leaders at once"


async def test_leader_that_cannot_renew_stops_and_the_lease_expires_to_another() -> None:
    store: dict[str, LeaseRecord] = {}
    leaders = [0, 0]
    a = Candidate(store, "a", leaders)
    a.start()
    await wait_until(a.elector.is_leader)
    b = Candidate(store, "b", leaders)
    b.start()
    loop = asyncio.get_running_loop()
    try:
        await wait_until(lambda: b.elector.leader() == "a")
        a.lock.fail = ConnectionError("apiserver unreachable")
        failing_since = loop.time()
        await asyncio.wait_for(a.stopped.wait(), 2.0)
        assert loop.time() - failing_since >= RENEW_DEADLINE - 0.01
        assert a.leading_cancelled
        assert not a.elector.is_leader()
        await asyncio.wait_for(a.task, 1.0)  # run() returned, no error
        await wait_until(b.elector.is_leader)
        assert store[b.lock.name].holder_identity == "b"
    finally:
        await stop_all(a, b)
    assert leaders[1] == 1


async def test_expiry_is_judged_by_observed_time_not_the_record() -> None:
    """A lease renewed long ago by the record's clock still counts as held until
    this candidate has seen it unchanged for leaseDurationSeconds."""
    clocks = FakeClock(EPOCH, monotonic=100.0)
    lock = MemoryLeaseLock()
    ancient = EPOCH - timedelta(days=365)
    lock.store[lock.name] = LeaseRecord(
        holder_identity="other",
        lease_duration_seconds=LEASE,
        acquire_time=ancient,
        renew_time=ancient,
        lease_transitions=4,
        resource_version="1",
    )
    elector = LeaderElector(
        lock,
        "me",
        lease_duration=LEASE,
        renew_deadline=RENEW_DEADLINE,
        retry_period=RETRY,
        clock=clocks.monotonic,
        wall_clock=clocks.now,
    )
    assert not await elector.try_acquire_or_renew()
    assert elector.leader() == "other"
    clocks.advance(LEASE - 0.01)
    assert not await elector.try_acquire_or_renew()

    # The holder renews: the wait starts over from this observation.
    held = lock.store[lock.name]
    lock.store[lock.name] = LeaseRecord(
        holder_identity="other",
        lease_duration_seconds=LEASE,
        acquire_time=held.acquire_time,
        renew_time=ancient + timedelta(seconds=1),
        lease_transitions=4,
        resource_version="2",
    )
    clocks.advance(0.02)
    assert not await elector.try_acquire_or_renew()
    clocks.advance(LEASE - 0.01)
    assert not await elector.try_acquire_or_renew()
    clocks.advance(0.02)
    assert await elector.try_acquire_or_renew()

    record = lock.store[lock.name]
    assert record.holder_identity == "me"
    assert record.lease_transitions == 5
    assert record.acquire_time == record.renew_time == clocks.now()
    assert record.lease_duration_seconds == LEASE


async def test_lease_transitions_count_holder_changes_only() -> None:
    clocks = FakeClock(EPOCH, monotonic=100.0)
    store: dict[str, LeaseRecord] = {}
    lock_a, lock_b = MemoryLeaseLock(store), MemoryLeaseLock(store)

    def elector(lock: MemoryLeaseLock, identity: str) -> LeaderElector:
        return LeaderElector(
            lock,
            identity,
            lease_duration=LEASE,
            renew_deadline=RENEW_DEADLINE,
            retry_period=RETRY,
            on_started_leading=asyncio.Event().wait,
            clock=clocks.monotonic,
            wall_clock=clocks.now,
        )

    a, b = elector(lock_a, "a"), elector(lock_b, "b")
    assert await a.try_acquire_or_renew()  # creates the lease
    created = store[lock_a.name]
    assert (created.holder_identity, created.lease_transitions) == ("a", 0)

    clocks.advance(RETRY)
    assert await a.try_acquire_or_renew()  # renews
    renewed = store[lock_a.name]
    assert renewed.lease_transitions == 0
    assert renewed.acquire_time == created.acquire_time
    assert renewed.renew_time == created.renew_time + timedelta(seconds=RETRY)

    assert not await b.try_acquire_or_renew()
    assert store[lock_a.name].lease_transitions == 0

    # Expired (by b's observation): b takes over.
    clocks.advance(LEASE + 0.01)
    assert await b.try_acquire_or_renew()
    taken = store[lock_a.name]
    assert (taken.holder_identity, taken.lease_transitions) == ("b", 1)
    assert taken.acquire_time == clocks.now()
    clocks.advance(RETRY)
    assert await b.try_acquire_or_renew()
    assert store[lock_a.name].lease_transitions == 1

    # a's write with its stale resource version conflicts; it sees b's lease instead.
    assert not await a.try_acquire_or_renew()
    assert a.leader() == "b"
    assert store[lock_a.name].holder_identity == "b"


async def test_release_on_cancel_empties_the_holder() -> None:
    lock = MemoryLeaseLock()
    elector = LeaderElector(
        lock,
        "a",
        lease_duration=LEASE,
        renew_deadline=RENEW_DEADLINE,
        retry_period=RETRY,
        on_started_leading=asyncio.Event().wait,
    )
    task = asyncio.create_task(elector.run())
    await wait_until(elector.is_leader)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    released = lock.store[lock.name]
    assert released.holder_identity == ""
    assert released.lease_duration_seconds == 1
    assert released.lease_transitions == 0


async def test_release_after_an_unobserved_renewal_still_empties_the_holder() -> None:
    """A renewal cancelled in flight may be written without the elector
    seeing its new resourceVersion; the release must re-read and still
    hand the lease back, not wait out the lease duration."""
    lock = MemoryLeaseLock()
    elector = LeaderElector(
        lock,
        "a",
        lease_duration=LEASE,
        renew_deadline=RENEW_DEADLINE,
        retry_period=RETRY,
        on_started_leading=asyncio.Event().wait,
    )
    task = asyncio.create_task(elector.run())
    await wait_until(elector.is_leader)
    # Our own renewal, committed behind the elector's back.
    lock._write(lock.store[lock.name])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert lock.store[lock.name].holder_identity == ""


async def test_without_release_the_holder_stays() -> None:
    lock = MemoryLeaseLock()
    elector = LeaderElector(
        lock,
        "a",
        lease_duration=LEASE,
        renew_deadline=RENEW_DEADLINE,
        retry_period=RETRY,
        release_on_cancel=False,
    )
    task = asyncio.create_task(elector.run())
    await wait_until(elector.is_leader)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert lock.store[lock.name].holder_identity == "a"


async def test_run_stops_leading_when_the_leading_callback_fails() -> None:
    lock = MemoryLeaseLock()
    stopped: list[bool] = []

    async def lead() -> None:
        raise RuntimeError("controller crashed")

    elector = LeaderElector(
        lock,
        "a",
        lease_duration=LEASE,
        renew_deadline=RENEW_DEADLINE,
        retry_period=RETRY,
        on_started_leading=lead,
        on_stopped_leading=lambda: stopped.append(True),
    )
    with pytest.raises(RuntimeError, match="controller crashed"):
        await asyncio.wait_for(elector.run(), 1.0)
    assert stopped == [True]
    assert lock.store[lock.name].holder_identity == ""


async def test_on_new_leader_reports_each_holder_once() -> None:
    store: dict[str, LeaseRecord] = {}
    leaders = [0, 0]
    a, b = Candidate(store, "a", leaders), Candidate(store, "b", leaders)
    a.start()
    await wait_until(a.elector.is_leader)
    b.start()
    try:
        await wait_until(lambda: b.new_leaders == ["a"])
        await a.cancel()
        await wait_until(b.elector.is_leader)
        assert b.new_leaders == ["a", "b"]
        assert a.new_leaders == ["a"]
    finally:
        await stop_all(a, b)


@pytest.mark.parametrize(
    ("identity", "lease", "renew", "retry"),
    [
        pytest.param("", 15, 10, 2, id="no-identity"),
        pytest.param("a", 10, 10, 2, id="lease-not-above-renew"),
        pytest.param("a", 15, 2.4, 2, id="renew-not-above-jittered-retry"),
        pytest.param("a", 15, 10, 0, id="no-retry-period"),
    ],
)
def test_rejects_bad_settings(identity: str, lease: float, renew: float, retry: float) -> None:
    with pytest.raises(ValueError):
        LeaderElector(
            MemoryLeaseLock(),
            identity,
            lease_duration=lease,
            renew_deadline=renew,
            retry_period=retry,
        )


async def test_work_of_a_leader_whose_renewal_is_overdue_waits_for_the_next() -> None:
    """A leader's work (the leading task and the tasks it starts) sees
    ``leadership_current()`` False once the last renewal is older than the
    renew deadline, as after a SIGSTOP, and ``leadership_confirmed()`` waits
    for the next renewal; work outside any leader is never held."""
    clocks = FakeClock(EPOCH, monotonic=100.0)
    lock = MemoryLeaseLock()
    seen: list[bool] = []
    jumped, confirmed = asyncio.Event(), asyncio.Event()

    async def lead() -> None:
        seen.append(leadership_current())
        await jumped.wait()
        seen.append(leadership_current())
        await leadership_confirmed()
        confirmed.set()
        await asyncio.Event().wait()

    elector = LeaderElector(
        lock,
        "a",
        lease_duration=5.0,
        renew_deadline=2.0,  # real time too: the renewal loop gives up after it
        retry_period=RETRY,
        on_started_leading=lead,
        clock=clocks.monotonic,
        wall_clock=clocks.now,
    )
    task = asyncio.create_task(elector.run())
    try:
        await wait_until(lambda: seen == [True], 2, "leading, renewed")
        assert leadership_current()  # the test itself is no leader's work
        lock.fail = ConnectionError("the apiserver is away")  # renewals fail from now
        clocks.advance(2.5)  # and the last one is older than the renew deadline
        jumped.set()
        await wait_until(lambda: len(seen) == 2, 2, "looked again")
        assert seen[1] is False
        # While renewals keep failing the work waits (the loop retries every 0.05 s).
        await stays_async(lambda: not confirmed.is_set(), 0.3, "work held back")
        lock.fail = None
        await wait_until(confirmed.is_set, 1.5, "work goes on after the next renewal")
        assert elector.is_leader()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
