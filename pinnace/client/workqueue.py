"""Rate-limited work queue for asyncio controllers, with client-go's semantics.

The queue is built in three layers, each a subclass of the one below it, as in
client-go's ``util/workqueue``:

``WorkQueue``
    The basic queue of keys. It guarantees:

    * Fair: keys are handed out in the order they were added (FIFO).
    * Stingy: a key added many times before a worker gets it is processed once.
      Adding a key that is already queued does nothing.
    * Exclusive: a key is never processed by two workers at once. A key is
      "processing" from ``get()`` until ``done(key)``; adding it in between marks
      it dirty, and ``done(key)`` puts it back at the end of the queue, so the
      change is processed again, after the current run, by one worker.
    * Shutdown: ``shutdown()`` wakes every waiting ``get()``. After shutdown,
      ``add()`` is ignored, ``get()`` keeps handing out the keys still queued and
      raises ``QueueShutDown`` once the queue is empty.

``DelayingQueue``
    Adds ``add_after(key, delay)``. Waiting keys sit in one heap ordered by
    ready time, with one loop timer armed for the earliest; nothing polls. A key
    that is already waiting keeps the earlier of its two ready times.

``RateLimitingQueue``
    Adds ``add_rate_limited(key)``, ``forget(key)`` and ``num_requeues(key)`` on
    top of a ``RateLimiter`` (by default ``default_controller_rate_limiter()``:
    per-key exponential backoff from 5 ms to 1000 s, and an overall token bucket
    of 10 qps with a burst of 100).

``run_workers()`` runs the usual controller loop over a rate-limiting queue:
get, sync, forget or retry with backoff, done.

A queue belongs to one event loop: call its methods only from that loop.
Times come from an injectable monotonic ``clock`` (default: the running loop's
``time()``). Queues given a ``name`` and a ``WorkqueueMetrics`` report
Kubernetes' workqueue metrics; ``PrometheusWorkqueueMetrics`` exports them.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from pinnace.client.leaderelection import leadership_confirmed

__all__ = [
    "BucketRateLimiter",
    "DelayingQueue",
    "ItemExponentialFailureRateLimiter",
    "MaxOfRateLimiter",
    "PrometheusWorkqueueMetrics",
    "QueueShutDown",
    "RateLimiter",
    "RateLimitingQueue",
    "WorkQueue",
    "WorkqueueMetrics",
    "default_controller_rate_limiter",
    "run_workers",
]

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

Clock = Callable[[], float]


class QueueShutDown(Exception):
    """Raised by ``get()`` once the queue is shut down and has no keys left."""


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


# --------------------------------------------------------------------------- metrics


class WorkqueueMetrics(Protocol):
    """Receives the measurements of every named queue; ``name`` tells the queues apart.

    One object can serve many queues. Durations are in seconds.
    """

    def inc_adds(self, name: str) -> None:
        """A key was added (duplicates of a queued key are not counted)."""

    def set_depth(self, name: str, depth: int) -> None:
        """Number of keys waiting for a worker (queued, or dirty while processing)."""

    def observe_queue_duration(self, name: str, seconds: float) -> None:
        """How long a key waited between its first add and ``get()``."""

    def observe_work_duration(self, name: str, seconds: float) -> None:
        """How long a key was processed, from ``get()`` to ``done()``."""

    def inc_retries(self, name: str) -> None:
        """``add_after()`` (and so ``add_rate_limited()``) was called."""

    def set_unfinished_work(self, name: str, seconds: float) -> None:
        """Sum of the time every key in progress has been processed so far."""

    def set_longest_running_processor(self, name: str, seconds: float) -> None:
        """How long the longest-running key in progress has been processed."""


# Kubernetes' buckets for both histograms: 10 ns to 10 s, factor 10.
_DURATION_BUCKETS = tuple(1e-8 * 10**i for i in range(10))


class PrometheusWorkqueueMetrics:
    """``WorkqueueMetrics`` as Prometheus metrics under Kubernetes' names, labelled ``name``.

    Create one per registry and share it between queues: registering the same
    metric names twice in one registry fails. Tests pass a private
    ``CollectorRegistry``.
    """

    def __init__(self, registry: CollectorRegistry | None = REGISTRY) -> None:
        self.depth = Gauge(
            "workqueue_depth", "Current depth of workqueue", ["name"], registry=registry
        )
        self.adds = Counter(
            "workqueue_adds_total",
            "Total number of adds handled by workqueue",
            ["name"],
            registry=registry,
        )
        self.queue_duration = Histogram(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested",
            ["name"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.work_duration = Histogram(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes",
            ["name"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            "workqueue_retries_total",
            "Total number of retries handled by workqueue",
            ["name"],
            registry=registry,
        )
        self.unfinished_work = Gauge(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been "
            "observed by work_duration; large values indicate stuck workers",
            ["name"],
            registry=registry,
        )
        self.longest_running_processor = Gauge(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running",
            ["name"],
            registry=registry,
        )

        self._known: set[str] = set()

    def _touch(self, name: str) -> None:
        """Create every metric's series for a queue on first sight, so a
        queue's counters read 0 rather than being absent (as client-go)."""
        if name not in self._known:
            self._known.add(name)
            for metric in (
                self.depth,
                self.adds,
                self.queue_duration,
                self.work_duration,
                self.retries,
                self.unfinished_work,
                self.longest_running_processor,
            ):
                metric.labels(name)

    def inc_adds(self, name: str) -> None:
        self._touch(name)
        self.adds.labels(name).inc()

    def set_depth(self, name: str, depth: int) -> None:
        self._touch(name)
        self.depth.labels(name).set(depth)

    def observe_queue_duration(self, name: str, seconds: float) -> None:
        self.queue_duration.labels(name).observe(seconds)

    def observe_work_duration(self, name: str, seconds: float) -> None:
        self.work_duration.labels(name).observe(seconds)

    def inc_retries(self, name: str) -> None:
        self.retries.labels(name).inc()

    def set_unfinished_work(self, name: str, seconds: float) -> None:
        self.unfinished_work.labels(name).set(seconds)

    def set_longest_running_processor(self, name: str, seconds: float) -> None:
        self.longest_running_processor.labels(name).set(seconds)


class _QueueMetrics(Generic[K]):
    """Per-queue bookkeeping behind ``WorkqueueMetrics`` (client-go's queueMetrics)."""

    def __init__(
        self, name: str, provider: WorkqueueMetrics, clock: Clock, update_period: float
    ) -> None:
        self._name = name
        self._provider = provider
        self._clock = clock
        self._update_period = update_period
        self._depth = 0
        self._added_at: dict[K, float] = {}  # first add of a key not yet handed out
        self._started_at: dict[K, float] = {}  # keys being processed
        self._timer: asyncio.TimerHandle | None = None
        self._stopped = False

    def add(self, key: K) -> None:
        self._provider.inc_adds(self._name)
        self._depth += 1
        self._provider.set_depth(self._name, self._depth)
        self._added_at.setdefault(key, self._clock())

    def get(self, key: K) -> None:
        now = self._clock()
        self._depth -= 1
        self._provider.set_depth(self._name, self._depth)
        added_at = self._added_at.pop(key, None)
        if added_at is not None:
            self._provider.observe_queue_duration(self._name, now - added_at)
        self._started_at[key] = now
        self._start_updates()

    def done(self, key: K) -> None:
        started_at = self._started_at.pop(key, None)
        if started_at is not None:
            self._provider.observe_work_duration(self._name, self._clock() - started_at)

    def retry(self) -> None:
        self._provider.inc_retries(self._name)

    def update_unfinished_work(self) -> None:
        now = self._clock()
        running = [now - started for started in self._started_at.values()]
        self._provider.set_unfinished_work(self._name, sum(running))
        self._provider.set_longest_running_processor(self._name, max(running, default=0.0))

    def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _start_updates(self) -> None:
        # A stuck worker never calls done(), so the two "unfinished" gauges are
        # refreshed by a timer, armed on the first get() (the loop is running then).
        if self._timer is None and not self._stopped:
            self._timer = asyncio.get_running_loop().call_later(self._update_period, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self.update_unfinished_work()
        self._start_updates()


class _NoMetrics(_QueueMetrics[K]):
    def __init__(self) -> None:
        pass

    def add(self, key: K) -> None:
        pass

    def get(self, key: K) -> None:
        pass

    def done(self, key: K) -> None:
        pass

    def retry(self) -> None:
        pass

    def update_unfinished_work(self) -> None:
        pass

    def stop(self) -> None:
        pass


# --------------------------------------------------------------------------- queue


class WorkQueue(Generic[K]):
    """FIFO queue of keys with the dirty/processing discipline (see the module docstring)."""

    def __init__(
        self,
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics: WorkqueueMetrics | None = None,
        metrics_update_period: float = 0.5,
    ) -> None:
        self.name = name
        self._clock: Clock = clock or _loop_time
        # Invariants: a key is in _queue iff it is in _dirty and not in _processing;
        # _queue holds no duplicates.
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._shutting_down = False
        if metrics is not None and not name:
            raise ValueError("a queue with metrics needs a name")
        self._metrics: _QueueMetrics[K] = (
            _QueueMetrics(name, metrics, self._clock, metrics_update_period)
            if metrics is not None
            else _NoMetrics()
        )

    def add(self, key: K) -> None:
        """Queue ``key`` unless it is already waiting; ignored after shutdown."""
        if self._shutting_down or key in self._dirty:
            return
        self._metrics.add(key)
        self._dirty.add(key)
        if key in self._processing:
            return  # done(key) re-queues it
        self._queue.append(key)
        self._wake_one_getter()

    async def get(self) -> K:
        """Wait for the next key and mark it processing; the caller must call ``done(key)``.

        Raises ``QueueShutDown`` once the queue is shut down and empty.
        """
        while not self._queue:
            if self._shutting_down:
                raise QueueShutDown(self.name)
            await self._wait_for_key()
        key = self._queue.popleft()
        self._metrics.get(key)
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
        """Finish processing ``key``; if it was added meanwhile, queue it again."""
        if key not in self._processing:
            return
        self._metrics.done(key)
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one_getter()
        elif not self._processing:
            for waiter in self._drain_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._drain_waiters.clear()

    def len(self) -> int:
        """Number of keys ready for a worker (not counting delayed or in-progress keys)."""
        return len(self._queue)

    def __len__(self) -> int:
        return len(self._queue)

    def shutdown(self) -> None:
        """Stop accepting keys and wake every waiting ``get()``."""
        self._shutting_down = True
        self._metrics.stop()
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)

    async def shutdown_with_drain(self) -> None:
        """``shutdown()``, then wait until every key handed out has been ``done()``."""
        self.shutdown()
        while self._processing:
            waiter = asyncio.get_running_loop().create_future()
            self._drain_waiters.append(waiter)
            await waiter

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def update_unfinished_work(self) -> None:
        """Refresh the unfinished-work gauges now (also done every ``metrics_update_period``)."""
        self._metrics.update_unfinished_work()

    async def _wait_for_key(self) -> None:
        getter = asyncio.get_running_loop().create_future()
        self._getters.append(getter)
        try:
            await getter
        except asyncio.CancelledError:
            if getter.cancelled():
                with contextlib.suppress(ValueError):  # already dropped by a wakeup
                    self._getters.remove(getter)
            else:
                # Woken for a key but cancelled before running: pass the wakeup on,
                # or the key would sit in the queue while another getter sleeps.
                self._wake_one_getter()
            raise

    def _wake_one_getter(self) -> None:
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)
                return


class DelayingQueue(WorkQueue[K]):
    """``WorkQueue`` plus ``add_after()``."""

    def __init__(
        self,
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics: WorkqueueMetrics | None = None,
        metrics_update_period: float = 0.5,
    ) -> None:
        super().__init__(
            name=name, clock=clock, metrics=metrics, metrics_update_period=metrics_update_period
        )
        # Heap of (ready_at, seq, key). _waiting maps each waiting key to the
        # (ready_at, seq) of its live heap entry; other heap entries for the key
        # are stale and skipped when they surface.
        self._heap: list[tuple[float, int, K]] = []
        self._waiting: dict[K, tuple[float, int]] = {}
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def add_after(self, key: K, delay: float) -> None:
        """Add ``key`` once ``delay`` seconds have passed; ``delay <= 0`` adds it now.

        If ``key`` is already waiting, the earlier ready time wins: add_after(k, 10)
        then add_after(k, 1) adds k after 1 s, and add_after(k, 1) then add_after(k, 10)
        also adds it after 1 s (once).
        """
        if self._shutting_down:
            return
        self._metrics.retry()
        if delay <= 0:
            self.add(key)
            return
        ready_at = self._clock() + delay
        waiting = self._waiting.get(key)
        if waiting is not None and waiting[0] <= ready_at:
            return
        seq = next(self._seq)
        self._waiting[key] = (ready_at, seq)
        heapq.heappush(self._heap, (ready_at, seq, key))
        self._arm_timer()

    def shutdown(self) -> None:
        super().shutdown()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._heap.clear()
        self._waiting.clear()

    def _is_live(self, entry: tuple[float, int, K]) -> bool:
        ready_at, seq, key = entry
        return self._waiting.get(key) == (ready_at, seq)

    def _arm_timer(self) -> None:
        while self._heap and not self._is_live(self._heap[0]):
            heapq.heappop(self._heap)
        if not self._heap:
            return
        ready_at = self._heap[0][0]
        if self._timer is not None:
            if self._timer_at <= ready_at:
                return  # fires first anyway and re-arms for the rest
            self._timer.cancel()
        self._timer_at = ready_at
        delay = max(0.0, ready_at - self._clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            if self._is_live(entry):
                del self._waiting[entry[2]]
                self.add(entry[2])
        self._arm_timer()


# --------------------------------------------------------------------------- rate limiters


class RateLimiter(Protocol):
    """Decides how long a key waits before it is retried (client-go's RateLimiter)."""

    def when(self, item: Hashable) -> float:
        """Seconds ``item`` should wait now; counts as one more failure for ``item``."""
        ...

    def forget(self, item: Hashable) -> None:
        """Stop tracking ``item`` (it succeeded); its backoff starts over."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """How many times ``item`` failed since it was last forgotten."""
        ...


class ItemExponentialFailureRateLimiter:
    """Per-item backoff ``base * 2**failures``, capped at ``max`` seconds.

    With the defaults: 5 ms, 10 ms, 20 ms, 40 ms, ... 1000 s from the 19th failure on.
    """

    def __init__(self, base: float = 0.005, max: float = 1000.0) -> None:
        self.base = base
        self.max = max
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        failures = self._failures.get(item, 0)
        self._failures[item] = failures + 1
        # The exponent is clamped so the float cannot overflow on a key that keeps failing.
        return min(self.base * 2.0 ** min(failures, 1000), self.max)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter:
    """Overall token bucket: ``burst`` keys at once, then ``qps`` keys per second.

    ``when()`` reserves a token and returns how long until it is available, so
    with qps=10 and burst=100 the first 100 calls at one instant return 0, the
    next ones 0.1, 0.2, 0.3 s, ...; each second that passes refills 10 tokens.
    Items are not told apart: ``forget()`` does nothing and ``num_requeues()`` is 0.
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock = time.monotonic):
        if qps <= 0 or burst < 1:
            raise ValueError("qps must be > 0 and burst >= 1")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)  # negative: tokens already promised to waiting items
        self._last = clock()

    def when(self, item: Hashable) -> float:
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.qps) - 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, item: Hashable) -> None:
        pass

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """The longest delay of its limiters; ``num_requeues`` is the largest count."""

    def __init__(self, *limiters: RateLimiter) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        # Every limiter is asked (no short-circuit): each one records the failure.
        return max([limiter.when(item) for limiter in self.limiters])

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter() -> MaxOfRateLimiter:
    """Per-key exponential backoff (5 ms to 1000 s) and an overall 10 qps / 100 burst bucket."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(base=0.005, max=1000.0),
        BucketRateLimiter(qps=10.0, burst=100),
    )


class RateLimitingQueue(DelayingQueue[K]):
    """``DelayingQueue`` plus retries with backoff from a ``RateLimiter``."""

    def __init__(
        self,
        *,
        rate_limiter: RateLimiter | None = None,
        name: str = "",
        clock: Clock | None = None,
        metrics: WorkqueueMetrics | None = None,
        metrics_update_period: float = 0.5,
    ) -> None:
        super().__init__(
            name=name, clock=clock, metrics=metrics, metrics_update_period=metrics_update_period
        )
        self.rate_limiter: RateLimiter = rate_limiter or default_controller_rate_limiter()

    def add_rate_limited(self, key: K) -> None:
        """Add ``key`` after the delay the rate limiter gives it (one more failure)."""
        if self._shutting_down:
            return
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: K) -> None:
        """Reset ``key``'s backoff; call it when ``key`` was processed successfully."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        return self.rate_limiter.num_requeues(key)


# --------------------------------------------------------------------------- workers


async def run_workers(
    queue: RateLimitingQueue[K],
    sync: Callable[[K], Awaitable[float | None]],
    *,
    workers: int,
    # With the default rate limiter, 15 retries wait 5ms, 10ms, 20ms, 40ms, 80ms,
    # 160ms, 320ms, 640ms, 1.3s, 2.6s, 5.1s, 10.2s, 20.5s, 41s and 82s: a key is
    # dropped about 2m45s after its first failure, unless an add() brings it back.
    max_retries: int = 15,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger] = logger,
) -> None:
    """Run ``workers`` concurrent loops of get -> ``sync(key)`` -> done until the queue shuts down.

    ``sync`` returning a number of seconds asks for the key again after that
    delay (e.g. a CronJob's next schedule); returning None means done. A failed
    sync is retried with the queue's backoff up to ``max_retries`` times, then
    dropped with an error log. Cancelling ``run_workers`` cancels every worker;
    keys in progress are still marked done. If a worker raises (a BaseException
    from ``sync``, or ``sync`` raising CancelledError by itself) the other
    workers are cancelled and the error propagates. Under leader election a
    worker waits before each sync until ``leadership_confirmed()`` (a leader
    whose renewal is overdue waits for it: leaderelection.py).
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    tasks = [
        asyncio.create_task(
            _worker(queue, sync, max_retries=max_retries, log=log),
            name=f"workqueue-worker-{queue.name or 'unnamed'}-{i}",
        )
        for i in range(workers)
    ]
    try:
        # gather() propagates the first error, a worker's own cancellation
        # included, and cancels every worker when run_workers is cancelled.
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled():
                task.exception()  # retrieved: gather() reported the first one


async def _worker(
    queue: RateLimitingQueue[K],
    sync: Callable[[K], Awaitable[float | None]],
    *,
    max_retries: int,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> None:
    while True:
        try:
            key = await queue.get()
        except QueueShutDown:
            return
        try:
            await leadership_confirmed()  # a leader whose renewal is overdue waits
            await _process(queue, sync, key, max_retries=max_retries, log=log)
        finally:
            queue.done(key)


async def _process(
    queue: RateLimitingQueue[K],
    sync: Callable[[K], Awaitable[float | None]],
    key: K,
    *,
    max_retries: int,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> None:
    try:
        requeue_after = await sync(key)
    except Exception as err:  # CancelledError is a BaseException: it propagates
        _handle_error(queue, key, err, max_retries=max_retries, log=log)
        return
    queue.forget(key)
    if requeue_after is not None:
        queue.add_after(key, requeue_after)


def _handle_error(
    queue: RateLimitingQueue[K],
    key: K,
    err: Exception,
    *,
    max_retries: int,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> None:
    retries = queue.num_requeues(key)
    if retries < max_retries:
        log.warning("error syncing %r (retry %d of %d): %s", key, retries + 1, max_retries, err)
        queue.add_rate_limited(key)
        return
    log.error("dropping %r out of the queue after %d retries: %s", key, retries, err, exc_info=err)
    queue.forget(key)
