"""Recording core/v1 Events about objects, as client-go's record.EventRecorder.

    recorder = EventRecorder(client, "deployment-controller", host="cm-1")
    recorder.start()
    recorder.event(deploy, "Normal", "ScalingReplicaSet", "Scaled up replica set web-7d9 to 3")
    ...
    await recorder.stop()

Guarantees:

* ``event()`` never blocks and never raises for API trouble: it puts the
  event on a bounded queue (1000) and a background task writes it. When
  the queue is full the event is dropped with a warning, as client-go
  does: events are for people, and losing one must not stall a controller.
* Events are written in the order they were recorded, by one task.
* Spam filter (client-go's EventSourceObjectSpamFilter, same defaults):
  each involved object has a token bucket of ``SPAM_BURST`` (25) events,
  refilled at one per ``1 / SPAM_QPS`` (300) seconds; an event recorded
  when its object's bucket is empty is dropped (counted in ``filtered``).
  A ReplicaSet that creates 1,000 pods gets 25 SuccessfulCreate Events, not
  1,000, as in Kubernetes (each Event is a write to the API).
* Aggregation (client-go's EventCorrelator in its simple form): an event
  identical to one recorded in the last 10 minutes (same involved object
  uid, type, reason and message) increments ``count`` and moves
  ``lastTimestamp`` of the existing Event (a merge patch) instead of
  creating another. If that Event is gone meanwhile, a new one is made.
* Each Event is named ``<object name>.<16 hex digits>`` (the time in
  nanoseconds, made unique per recorder) and lives in the object's
  namespace; events about cluster-scoped objects (Nodes, PVs) go to
  "default", as in Kubernetes.
* A failed write is retried a few times with a short backoff, then dropped
  with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

from google.protobuf.message import Message

from pinnace.api.core.v1 import event_pb2, reference_pb2
from pinnace.client.aio import AsyncClient
from pinnace.machinery import errors, kinds
from pinnace.machinery.objects import object_meta
from pinnace.machinery.timeutil import Clock, RealClock, format_rfc3339

__all__ = [
    "AGGREGATION_WINDOW",
    "NORMAL",
    "QUEUE_SIZE",
    "SPAM_BURST",
    "SPAM_QPS",
    "WARNING",
    "EventRecorder",
    "SpamFilter",
    "events_for",
]

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
QUEUE_SIZE = 1000
AGGREGATION_WINDOW = 600.0  # seconds an identical event is folded into the last one
CACHE_SIZE = 4096  # identical-event records kept (least recently used are forgotten)
WRITE_ATTEMPTS = 3
WRITE_BACKOFF = 0.2
CLUSTER_SCOPED_EVENT_NAMESPACE = "default"
SPAM_BURST = 25  # events one object may get at once (client-go's defaultSpamBurst)
SPAM_QPS = 1 / 300  # and then one per 5 minutes (defaultSpamQPS)

R = TypeVar("R")


@dataclass
class _Seen:
    """The Event an identical event was last folded into."""

    namespace: str
    name: str
    count: int
    last_seen: float  # monotonic


@dataclass(frozen=True)
class _Pending:
    obj_ref: reference_pb2.ObjectReference
    type: str
    reason: str
    message: str
    when: datetime
    monotonic: float


@dataclass
class _Bucket:
    tokens: float
    last: float  # monotonic time tokens was computed at


class SpamFilter:
    """A token bucket per key (an involved object), least recently used
    forgotten beyond ``size`` keys (client-go's EventSourceObjectSpamFilter).

    With the defaults, 25 events about one object pass at once, then one
    every 300 s: at t=0 events 1-25 pass and the 26th is dropped; at t=300
    one more passes."""

    def __init__(
        self, *, burst: int = SPAM_BURST, qps: float = SPAM_QPS, size: int = CACHE_SIZE
    ) -> None:
        self.burst = burst
        self.qps = qps
        self.size = size
        self._buckets: OrderedDict[tuple[str, ...], _Bucket] = OrderedDict()

    def allow(self, key: tuple[str, ...], now: float) -> bool:
        """Take a token from key's bucket at monotonic time ``now``; False
        when it has none (the event is to be dropped)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            while len(self._buckets) > self.size:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.last)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.qps)
            bucket.last = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True


class EventRecorder:
    """Writes Events for one component; see the module docstring.

    Call ``event()`` from the event loop the recorder runs on.
    """

    def __init__(
        self,
        client: AsyncClient,
        component: str,
        host: str = "",
        *,
        queue_size: int = QUEUE_SIZE,
        clock: Clock | None = None,
        spam_filter: SpamFilter | None = None,
    ) -> None:
        if not component:
            raise ValueError("component must not be empty")
        self._client = client
        self.component = component
        self.host = host
        self._clock = clock or RealClock()
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=queue_size)
        self._seen: OrderedDict[tuple[str, str, str, str], _Seen] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._last_suffix = 0
        self._spam = spam_filter or SpamFilter()
        self.dropped = 0  # events lost to a full queue
        self.filtered = 0  # events the spam filter dropped

    # ---- recording -----------------------------------------------------------------

    def event(self, obj: Message, type: str, reason: str, message: str) -> None:
        """Record that ``reason``/``message`` happened to ``obj`` (``type`` is
        "Normal" or "Warning"). Returns at once."""
        if type not in (NORMAL, WARNING):
            raise ValueError(f'event type must be "Normal" or "Warning", got {type!r}')
        ref = _reference(obj)
        monotonic = self._clock.monotonic()
        spam_key = (ref.kind, ref.namespace, ref.name, ref.uid, ref.api_version)
        if not self._spam.allow(spam_key, monotonic):
            self.filtered += 1
            log.debug(
                "too many events about %s %s/%s; dropping %s %s: %s",
                ref.kind,
                ref.namespace,
                ref.name,
                type,
                reason,
                message,
            )
            return
        pending = _Pending(
            obj_ref=ref,
            type=type,
            reason=reason,
            message=message,
            when=self._clock.now(),
            monotonic=monotonic,
        )
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "event queue full (%d); dropping %s event %s for %s/%s: %s",
                self._queue.maxsize,
                type,
                reason,
                pending.obj_ref.namespace,
                pending.obj_ref.name,
                message,
            )

    # ---- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Start writing queued events in the background."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"events-{self.component}")

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every event recorded so far was written (or dropped)."""
        async with asyncio.timeout(timeout):
            await self._queue.join()

    async def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued (for up to ``timeout`` seconds), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await self.flush(timeout)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            pending = await self._queue.get()
            try:
                await self._write(pending)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("writing event %s failed", pending.reason)
            finally:
                self._queue.task_done()

    # ---- writing -------------------------------------------------------------------

    async def _write(self, p: _Pending) -> None:
        key = (p.obj_ref.uid, p.type, p.reason, p.message)
        seen = self._seen.get(key)
        if seen is not None and p.monotonic - seen.last_seen <= AGGREGATION_WINDOW:
            if await self._bump(seen, p):
                self._seen.move_to_end(key)
                return
        namespace = p.obj_ref.namespace or CLUSTER_SCOPED_EVENT_NAMESPACE
        created = await self._with_retries(p, lambda: self._create(namespace, p))
        if created is None:
            return
        self._seen[key] = _Seen(namespace, created.metadata.name, 1, p.monotonic)
        self._seen.move_to_end(key)
        while len(self._seen) > CACHE_SIZE:
            self._seen.popitem(last=False)

    async def _bump(self, seen: _Seen, p: _Pending) -> bool:
        """Fold p into the Event it repeats; False if that Event is gone."""
        patch = {"count": seen.count + 1, "lastTimestamp": format_rfc3339(p.when)}

        async def send() -> event_pb2.Event | Literal[False]:
            try:
                return await self._client.events(seen.namespace).patch(seen.name, patch)
            except errors.NotFound:
                return False

        result = await self._with_retries(p, send)
        if result is False:
            return False
        if result is not None:
            seen.count = result.count or seen.count + 1
            seen.last_seen = p.monotonic
        return True

    async def _create(self, namespace: str, p: _Pending) -> event_pb2.Event:
        ev = event_pb2.Event()
        ev.metadata.name = f"{p.obj_ref.name}.{self._suffix()}"
        ev.metadata.namespace = namespace
        ev.involved_object.CopyFrom(p.obj_ref)
        ev.type = p.type
        ev.reason = p.reason
        ev.message = p.message
        ev.source.component = self.component
        if self.host:
            ev.source.host = self.host
        ev.reporting_component = self.component
        ev.reporting_instance = self.host
        ev.first_timestamp = ev.last_timestamp = format_rfc3339(p.when)
        ev.count = 1
        return await self._client.events(namespace).create(ev)

    async def _with_retries(self, p: _Pending, call: Callable[[], Awaitable[R]]) -> R | None:
        """call(), retried on errors that may pass; None when it gave up."""
        delay = WRITE_BACKOFF
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return await call()
            except (
                errors.Invalid,
                errors.BadRequest,
                errors.Forbidden,
                errors.AlreadyExists,
            ) as err:
                log.warning("dropping %s event %s: %s", p.type, p.reason, err)
                return None
            except errors.ApiError as err:
                if attempt == WRITE_ATTEMPTS:
                    log.warning(
                        "dropping %s event %s after %d attempts: %s", p.type, p.reason, attempt, err
                    )
                    return None
                await asyncio.sleep(delay)
                delay *= 2
        return None  # pragma: no cover - the loop always returns

    def _suffix(self) -> str:
        """16 hex digits of the time in nanoseconds, strictly increasing."""
        now = max(time.time_ns(), self._last_suffix + 1)
        self._last_suffix = now
        return f"{now:016x}"


def _reference(obj: Message) -> reference_pb2.ObjectReference:
    """The core/v1 ObjectReference of obj (kind and apiVersion from the kinds
    table when the object does not carry them)."""
    ref = reference_pb2.ObjectReference()
    try:
        info = kinds.by_message(obj)
        kind, api_version = info.kind, info.api_version
    except kinds.UnknownKindError:
        kind, api_version = "", ""
    ref.kind = getattr(obj, "kind", "") or kind
    ref.api_version = getattr(obj, "api_version", "") or api_version
    meta = object_meta(obj)
    ref.name = meta.name
    ref.namespace = meta.namespace
    ref.uid = meta.uid
    ref.resource_version = meta.resource_version
    return ref


async def events_for(client: AsyncClient, obj: Message) -> list[event_pb2.Event]:
    """The Events about obj (matched by uid), oldest first, for ``describe``."""
    meta = object_meta(obj)
    namespace = meta.namespace or CLUSTER_SCOPED_EVENT_NAMESPACE
    found = await client.events(namespace).list(field_selector=f"involvedObject.uid={meta.uid}")
    return sorted(
        found.items,
        key=lambda e: (e.first_timestamp or e.event_time, e.last_timestamp, e.metadata.name),
    )
