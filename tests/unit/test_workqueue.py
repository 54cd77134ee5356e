"""Tests for pinnace.client.workqueue: queue discipline, delays, rate limiters, workers, metrics."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Hashable

import pytest
from prometheus_client import CollectorRegistry

from pinnace.client import workqueue
from pinnace.client.workqueue import (
    BucketRateLimiter,
    DelayingQueue,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    PrometheusWorkqueueMetrics,
    QueueShutDown,
    RateLimitingQueue,
    WorkQueue,
    default_controller_rate_limiter,
    run_workers,
)
from pinnace.machinery.timeutil import FakeClock
from tests.waiting import stays_async, wait_until


async def get_now(queue: WorkQueue) -> Hashable:
    """get() a key that must already be queued (or become ready promptly)."""
    return await asyncio.wait_for(queue.get(), timeout=1.0)


# --------------------------------------------------------------------------- WorkQueue


async def test_fifo() -> None:
    q: WorkQueue[int] = WorkQueue()
    for i in range(5):
        q.add(i)
    assert [await get_now(q) for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_add_dedupes_while_queued() -> None:
    """Stingy: a key added many times before a worker gets it is processed once."""
    q: WorkQueue[str] = WorkQueue()
    for key in ["a", "b", "a", "a", "b", "c"]:
        q.add(key)
    assert q.len() == len(q) == 3
    assert [await get_now(q) for _ in range(3)] == ["a", "b", "c"]
    assert q.len() == 0


async def test_readd_while_processing_is_processed_again_after_done() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    assert await get_now(q) == "a"
    q.add("a")
    q.add("a")
    assert q.len() == 0, "a key being processed is not handed to another worker"
    q.done("a")
    assert q.len() == 1
    assert await get_now(q) == "a"
    q.done("a")
    assert q.len() == 0


async def test_done_on_a_key_not_processing_is_ignored() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    q.done("a")
    q.done("b")
    assert q.len() == 1


async def test_get_waits_for_add() -> None:
    q: WorkQueue[str] = WorkQueue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()
    q.add("a")
    assert await asyncio.wait_for(getter, 1.0) == "a"


async def test_cancelled_getter_passes_its_wakeup_on() -> None:
    """A getter woken for a key but cancelled before it runs must not strand the key."""
    q: WorkQueue[str] = WorkQueue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("a")  # wakes `first`
    first.cancel()
    assert await asyncio.wait_for(second, 1.0) == "a"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_never_two_workers_on_one_key_and_no_add_is_lost() -> None:
    rng = random.Random(42)
    q: WorkQueue[int] = WorkQueue()
    keys = range(6)
    active: set[int] = set()
    overlaps: list[int] = []
    step = 0
    last_add: dict[int, int] = {}
    last_start: dict[int, int] = {}

    async def worker() -> None:
        nonlocal step
        while True:
            try:
                key = await q.get()
            except QueueShutDown:
                return
            step += 1
            last_start[key] = step
            if key in active:
                overlaps.append(key)
            active.add(key)
            for _ in range(rng.randrange(4)):
                await asyncio.sleep(0)
            active.discard(key)
            q.done(key)

    async def producer() -> None:
        nonlocal step
        for _ in range(2000):
            key = rng.choice(keys)
            step += 1
            last_add[key] = step
            q.add(key)
            if rng.random() < 0.5:
                await asyncio.sleep(0)

    workers = [asyncio.create_task(worker()) for _ in range(16)]
    await producer()
    await asyncio.wait_for(q.shutdown_with_drain(), 2.0)
    await asyncio.wait_for(asyncio.gather(*workers), 2.0)
    assert overlaps == []
    # Every add was followed by a processing run of that key.
    assert all(last_start[key] > last_add[key] for key in last_add)


async def test_shutdown_wakes_every_getter() -> None:
    q: WorkQueue[str] = WorkQueue()
    getters = [asyncio.create_task(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    q.shutdown()
    assert q.shutting_down
    results = await asyncio.wait_for(asyncio.gather(*getters, return_exceptions=True), 1.0)
    assert all(isinstance(r, QueueShutDown) for r in results)


async def test_get_drains_queued_keys_after_shutdown_and_ignores_adds() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    q.shutdown()
    q.add("b")
    assert await get_now(q) == "a"
    with pytest.raises(QueueShutDown):
        await get_now(q)


async def test_shutdown_with_drain_waits_for_keys_in_progress() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    assert await get_now(q) == "a"
    drained = asyncio.create_task(q.shutdown_with_drain())
    await asyncio.sleep(0)
    assert not drained.done()
    q.done("a")
    await asyncio.wait_for(drained, 1.0)


# --------------------------------------------------------------------------- DelayingQueue


async def test_add_after_hands_keys_out_in_ready_order() -> None:
    q: DelayingQueue[str] = DelayingQueue()
    q.add_after("c", 0.03)
    q.add_after("a", 0.01)
    q.add_after("b", 0.02)
    assert q.len() == 0
    assert [await get_now(q) for _ in range(3)] == ["a", "b", "c"]


async def test_add_after_keeps_the_earlier_time() -> None:
    q: DelayingQueue[str] = DelayingQueue()
    # k asked for at 0.25 then at 0.05: 0.05 wins, and the 0.25 request is gone,
    # else k would come again before the sentinel s at 0.30. (Steps of 50 ms:
    # the order holds on a loaded machine, where timers fire late together.)
    q.add_after("k", 0.25)
    q.add_after("j", 0.15)
    q.add_after("k", 0.05)
    # m asked for at 0.10 then at 0.20: the later request is ignored.
    q.add_after("m", 0.10)
    q.add_after("m", 0.20)
    q.add_after("s", 0.30)
    order = []
    for _ in range(4):
        key = await get_now(q)
        order.append(key)
        q.done(key)
    assert order == ["k", "m", "j", "s"]
    q.shutdown()
    with pytest.raises(QueueShutDown):
        await get_now(q)


async def test_add_after_non_positive_delay_adds_now() -> None:
    q: DelayingQueue[str] = DelayingQueue()
    q.add_after("a", 0)
    q.add_after("b", -1)
    assert q.len() == 2


async def test_add_after_uses_the_injected_clock() -> None:
    clock = FakeClock(monotonic=100.0)
    q: DelayingQueue[str] = DelayingQueue(clock=clock.monotonic)
    q.add_after("a", 0.01)
    clock.advance(0.01)
    assert await get_now(q) == "a"


async def test_shutdown_drops_waiting_keys() -> None:
    q: DelayingQueue[str] = DelayingQueue()
    q.add_after("a", 0.01)
    q.shutdown()
    with pytest.raises(QueueShutDown):
        await get_now(q)


# --------------------------------------------------------------------------- rate limiters


@pytest.mark.parametrize(
    ("base", "cap", "expected"),
    [
        pytest.param(0.005, 1000.0, [0.005, 0.01, 0.02, 0.04, 0.08, 0.16], id="default-5ms"),
        pytest.param(1.0, 5.0, [1.0, 2.0, 4.0, 5.0, 5.0], id="capped"),
    ],
)
def test_exponential_failure_delays(base: float, cap: float, expected: list[float]) -> None:
    limiter = ItemExponentialFailureRateLimiter(base=base, max=cap)
    assert [limiter.when("k") for _ in expected] == pytest.approx(expected)
    assert limiter.num_requeues("k") == len(expected)
    assert limiter.when("other") == base, "items back off independently"
    limiter.forget("k")
    assert limiter.num_requeues("k") == 0
    assert limiter.when("k") == base


def test_exponential_failure_does_not_overflow() -> None:
    limiter = ItemExponentialFailureRateLimiter(base=0.005, max=1000.0)
    delays = [limiter.when("k") for _ in range(3000)]
    assert delays[-1] == 1000.0
    assert delays[18] == 1000.0 and delays[17] < 1000.0  # 0.005 * 2**18 = 1310.72


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param([0, 0, 0, 0, 0], [0, 0, 0, 0.1, 0.2], id="burst-then-qps"),
        pytest.param([0, 0, 0, 0.1, 0.1], [0, 0, 0, 0, 0], id="refill-keeps-pace"),
        pytest.param([0] * 5 + [1.0, 0], [0, 0, 0, 0.1, 0.2, 0, 0], id="refill-capped-at-burst"),
        pytest.param([0] * 5 + [0.25, 0], [0, 0, 0, 0.1, 0.2, 0.05, 0.15], id="partial-refill"),
    ],
)
def test_bucket_delays(steps: list[float], expected: list[float]) -> None:
    """qps=10, burst=3: each step advances the clock, then asks for a token."""
    clock = FakeClock(monotonic=100.0)
    limiter = BucketRateLimiter(qps=10, burst=3, clock=clock.monotonic)
    delays = []
    for step in steps:
        clock.advance(step)
        delays.append(limiter.when("any"))
    assert delays == pytest.approx(expected)
    assert limiter.num_requeues("any") == 0


def test_bucket_default_burst_of_100_then_10_qps() -> None:
    limiter = BucketRateLimiter(clock=FakeClock(monotonic=100.0).monotonic)
    delays = [limiter.when(i) for i in range(102)]
    assert delays[:100] == [0.0] * 100
    assert delays[100:] == pytest.approx([0.1, 0.2])


def test_max_of_takes_the_longest_delay() -> None:
    clock = FakeClock(monotonic=100.0)
    limiter = MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(base=0.5, max=100.0),
        BucketRateLimiter(qps=1, burst=2, clock=clock.monotonic),
    )
    assert [limiter.when("k") for _ in range(4)] == pytest.approx([0.5, 1.0, 2.0, 4.0])
    # Bucket: 2 tokens then 1 qps: 0, 0, 1, 2, 3 -> beats a fresh item's 0.5.
    assert limiter.when("fresh") == pytest.approx(3.0)
    assert limiter.num_requeues("k") == 4
    limiter.forget("k")
    assert limiter.num_requeues("k") == 0


def test_default_controller_rate_limiter() -> None:
    limiter = default_controller_rate_limiter()
    assert [limiter.when("k") for _ in range(3)] == pytest.approx([0.005, 0.01, 0.02])
    assert limiter.num_requeues("k") == 3


class RecordingLimiter:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls: list[tuple[str, Hashable]] = []
        self.failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        self.calls.append(("when", item))
        self.failures[item] = self.failures.get(item, 0) + 1
        return self.delay

    def forget(self, item: Hashable) -> None:
        self.calls.append(("forget", item))
        self.failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self.failures.get(item, 0)


async def test_rate_limiting_queue_delegates_to_its_limiter() -> None:
    limiter = RecordingLimiter(delay=0.01)
    q: RateLimitingQueue[str] = RateLimitingQueue(rate_limiter=limiter)
    q.add_rate_limited("a")
    assert q.len() == 0, "waits for the limiter's delay"
    assert q.num_requeues("a") == 1
    assert await get_now(q) == "a"
    q.forget("a")
    assert q.num_requeues("a") == 0
    assert limiter.calls == [("when", "a"), ("forget", "a")]
    q.shutdown()
    q.add_rate_limited("a")
    assert len(limiter.calls) == 2, "ignored after shutdown"


# --------------------------------------------------------------------------- run_workers


def fast_queue() -> RateLimitingQueue[str]:
    return RateLimitingQueue(rate_limiter=ItemExponentialFailureRateLimiter(base=0.001, max=0.001))


async def test_run_workers_retries_then_drops(caplog: pytest.LogCaptureFixture) -> None:
    q = fast_queue()
    calls: list[str] = []

    async def sync(key: str) -> None:
        calls.append(key)
        raise RuntimeError("boom")

    caplog.set_level(logging.WARNING)
    workers = asyncio.create_task(run_workers(q, sync, workers=2, max_retries=3))
    q.add("a")
    await wait_until(lambda: any("out of the queue" in r.message for r in caplog.records))
    assert calls == ["a"] * 4, "the first try and 3 retries"
    assert q.num_requeues("a") == 0, "forgotten when dropped"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(warnings) == 3 and all("'a'" in r.message and "boom" in r.message for r in warnings)
    assert len(errors) == 1 and "'a'" in errors[0].message
    q.shutdown()
    await asyncio.wait_for(workers, 1.0)


async def test_run_workers_forgets_on_success() -> None:
    q = fast_queue()
    calls: list[str] = []

    async def sync(key: str) -> None:
        calls.append(key)
        if len(calls) < 3:
            raise RuntimeError("not yet")

    workers = asyncio.create_task(run_workers(q, sync, workers=1))
    q.add("a")
    await wait_until(lambda: len(calls) == 3 and q.num_requeues("a") == 0)
    q.shutdown()
    await asyncio.wait_for(workers, 1.0)
    assert calls == ["a"] * 3


async def test_run_workers_requeues_after_returned_delay() -> None:
    q = fast_queue()
    loop = asyncio.get_running_loop()
    calls: list[float] = []

    async def sync(key: str) -> float | None:
        calls.append(loop.time())
        return 0.05 if len(calls) == 1 else None

    workers = asyncio.create_task(run_workers(q, sync, workers=1))
    q.add("a")
    await wait_until(lambda: len(calls) == 2)
    assert calls[1] - calls[0] >= 0.05
    assert q.num_requeues("a") == 0, "a requested requeue is not a failure"
    q.shutdown()
    await asyncio.wait_for(workers, 1.0)


async def test_run_workers_propagates_cancellation_and_marks_done() -> None:
    q = fast_queue()
    started = asyncio.Event()
    cancelled: list[str] = []

    async def sync(key: str) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(key)
            raise

    workers = asyncio.create_task(run_workers(q, sync, workers=3))
    q.add("a")
    await asyncio.wait_for(started.wait(), 1.0)
    workers.cancel()
    with pytest.raises(asyncio.CancelledError):
        await workers
    assert cancelled == ["a"]
    assert q.num_requeues("a") == 0, "cancellation is not a failure"
    q.add("a")
    assert q.len() == 1, "done() was called, so the key is not stuck as processing"


async def test_run_workers_does_not_swallow_cancelled_error_from_sync() -> None:
    q = fast_queue()

    async def sync(key: str) -> None:
        raise asyncio.CancelledError

    workers = asyncio.create_task(run_workers(q, sync, workers=2))
    q.add("a")
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(workers, 1.0)
    assert q.num_requeues("a") == 0


async def test_run_workers_returns_on_shutdown() -> None:
    q = fast_queue()

    async def sync(key: str) -> None:
        return None

    workers = asyncio.create_task(run_workers(q, sync, workers=4))
    await asyncio.sleep(0)
    q.shutdown()
    await asyncio.wait_for(workers, 1.0)


async def test_run_workers_needs_a_worker() -> None:
    async def sync(key: str) -> None:
        return None

    with pytest.raises(ValueError):
        await run_workers(fast_queue(), sync, workers=0)


# --------------------------------------------------------------------------- metrics


async def test_prometheus_metrics() -> None:
    registry = CollectorRegistry()
    clock = FakeClock(monotonic=100.0)
    q: RateLimitingQueue[str] = RateLimitingQueue(
        name="test", clock=clock.monotonic, metrics=PrometheusWorkqueueMetrics(registry)
    )

    def value(metric: str) -> float | None:
        return registry.get_sample_value(metric, {"name": "test"})

    q.add("a")
    q.add("b")
    q.add("a")
    assert value("workqueue_adds_total") == 2
    assert value("workqueue_depth") == 2

    clock.advance(1.5)
    assert await get_now(q) == "a"
    assert value("workqueue_depth") == 1
    assert value("workqueue_queue_duration_seconds_count") == 1
    assert value("workqueue_queue_duration_seconds_sum") == pytest.approx(1.5)

    clock.advance(2.0)
    q.update_unfinished_work()
    assert value("workqueue_unfinished_work_seconds") == pytest.approx(2.0)
    assert value("workqueue_longest_running_processor_seconds") == pytest.approx(2.0)

    q.done("a")
    assert value("workqueue_work_duration_seconds_count") == 1
    assert value("workqueue_work_duration_seconds_sum") == pytest.approx(2.0)
    q.update_unfinished_work()
    assert value("workqueue_unfinished_work_seconds") == 0
    assert value("workqueue_longest_running_processor_seconds") == 0

    q.add_rate_limited("a")
    q.add_after("c", 0)
    assert value("workqueue_retries_total") == 2
    q.shutdown()


def test_metrics_need_a_queue_name() -> None:
    with pytest.raises(ValueError):
        WorkQueue(metrics=PrometheusWorkqueueMetrics(CollectorRegistry()))


async def test_run_workers_wait_for_confirmed_leadership(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker syncs only once leadership is confirmed (leaderelection's
    ``leadership_confirmed``: a leader whose renewal is overdue waits)."""
    confirmed = asyncio.Event()

    async def leadership_confirmed() -> None:
        await confirmed.wait()

    monkeypatch.setattr(workqueue, "leadership_confirmed", leadership_confirmed)
    q = fast_queue()
    calls: list[str] = []

    async def sync(key: str) -> None:
        calls.append(key)

    workers = asyncio.create_task(run_workers(q, sync, workers=2))
    q.add("a")
    await stays_async(lambda: not calls, 0.1, "no sync before leadership is confirmed")
    confirmed.set()
    await wait_until(lambda: calls == ["a"])
    q.shutdown()
    await asyncio.wait_for(workers, 1.0)
