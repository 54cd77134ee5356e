"""The scheduling queue: active, backoff and unschedulable sub-queues, as
Kubernetes' ``PriorityQueue`` (pkg/scheduler/backend/queue).

* **active**: pods ready to be tried, popped highest ``spec.priority`` first,
  then oldest (the time the pod entered the queue or last moved).
* **backoff**: pods waiting out their backoff after a failed attempt. A
  pod's backoff is ``initial * 2**(attempts - 1)`` capped at ``max``
  (1 s, 2 s, 4 s, 8 s, 10 s, 10 s ... with the defaults), counted from its
  last failure; when it expires the pod moves to active.
* **unschedulable**: pods no node could take. They stay until something in
  the cluster changes that could make them fit (``move_all``: a node added
  or changed, an assigned pod deleted): then each goes to backoff if its
  backoff has not expired yet, else to active. Pods left unschedulable for
  longer than ``max_unschedulable`` seconds are moved anyway (a safety net
  for events the scheduler does not watch).

Race guard (Kubernetes' ``moveRequestCycle``): ``pop`` numbers scheduling
cycles. If a ``move_all`` happened during or after the cycle in which a pod
failed, ``add_unschedulable`` puts it in backoff instead of unschedulable,
so a node added while the pod was being tried is not missed.

A key is in at most one sub-queue; a popped pod is in none until it is
added back. The queue belongs to one event loop; ``run()`` moves pods out
of backoff and flushes old unschedulable pods, and must be running.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scheduler.nodeinfo import pod_key

ACTIVE = "active"
BACKOFF = "backoff"
UNSCHEDULABLE = "unschedulable"
DEFAULT_INITIAL_BACKOFF = 1.0
DEFAULT_MAX_BACKOFF = 10.0
DEFAULT_MAX_UNSCHEDULABLE = 60.0
# How often run() looks for pods unschedulable for too long, at most.
UNSCHEDULABLE_CHECK_PERIOD = 5.0


def pod_priority(pod: Any) -> int:
    return pod.spec.priority if pod.spec.HasField("priority") else 0


def scheduling_spec_changed(old: Any, new: Any) -> bool:
    """Whether an update could change where the pod fits: anything but
    status and metadata bookkeeping (the scheduler's own condition writes
    must not requeue the pod)."""
    if old.spec != new.spec:
        return True
    o, n = old.metadata, new.metadata
    return o.labels != n.labels or o.annotations != n.annotations


@dataclass(eq=False)
class QueuedPod:
    """A pod in (or popped from) the queue, with its scheduling history."""

    pod: Any
    key: str
    timestamp: float  # entered the queue or last moved; orders the active queue
    initial_timestamp: float  # first entered the queue
    attempts: int = 0
    failed_at: float = 0.0  # last failed attempt; backoff counts from here
    version: int = 0  # bumped on every move, to skip stale heap entries


class SchedulingQueue:
    def __init__(
        self,
        *,
        initial_backoff: float = DEFAULT_INITIAL_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        max_unschedulable: float = DEFAULT_MAX_UNSCHEDULABLE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable = max_unschedulable
        self._clock = clock
        self._pods: dict[str, QueuedPod] = {}
        self._where: dict[str, str] = {}
        self._active: list[tuple[int, float, int, str, int]] = []
        self._backoff: list[tuple[float, int, str, int]] = []
        self._unschedulable: dict[str, QueuedPod] = {}
        self._counts = {ACTIVE: 0, BACKOFF: 0, UNSCHEDULABLE: 0}
        self._seq = itertools.count()
        self._has_active = asyncio.Event()
        self._changed = asyncio.Event()
        self.scheduling_cycle = 0
        self._move_request_cycle = -1
        self._closed = False

    # ---- reads -------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        """Pods per sub-queue."""
        return dict(self._counts)

    def where(self, key: str) -> str | None:
        return self._where.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._where

    def backoff_duration(self, qp: QueuedPod) -> float:
        duration = self.initial_backoff
        for _ in range(1, qp.attempts):
            duration *= 2
            if duration >= self.max_backoff:
                return self.max_backoff
        return min(duration, self.max_backoff)

    def backoff_expiry(self, qp: QueuedPod) -> float:
        return qp.failed_at + self.backoff_duration(qp)

    # ---- informer-driven changes -------------------------------------------------

    def add(self, pod: Any) -> None:
        """A new pending pod (or one seen again): into active unless queued."""
        key = pod_key(pod)
        if key in self._pods:
            self.update(self._pods[key].pod, pod)
            return
        now = self._clock()
        self._push_active(QueuedPod(pod, key, now, now))

    def update(self, old: Any, new: Any) -> None:
        key = pod_key(new)
        qp = self._pods.get(key)
        if qp is None:
            self.add(new)
            return
        qp.pod = new
        where = self._where[key]
        if where == UNSCHEDULABLE and scheduling_spec_changed(old, new):
            self._remove(key)
            self._requeue(qp)
        elif where == ACTIVE and pod_priority(old) != pod_priority(new):
            self._remove(key)
            self._push_active(qp)

    def delete(self, pod: Any) -> None:
        self._remove(pod_key(pod))

    def move_all(self, event: str = "") -> int:
        """A cluster change that may let unschedulable pods fit: move them
        all to backoff or active. Returns how many moved."""
        self._move_request_cycle = self.scheduling_cycle
        moved = list(self._unschedulable.values())
        for qp in moved:
            self._remove(qp.key)
            self._requeue(qp)
        return len(moved)

    # ---- the scheduler's side ----------------------------------------------------

    async def pop(self) -> QueuedPod:
        """The next pod to try (waits while active is empty)."""
        while True:
            while self._active:
                _, _, _, key, version = heapq.heappop(self._active)
                qp = self._pods.get(key)
                if qp is None or qp.version != version or self._where.get(key) != ACTIVE:
                    continue
                self._remove(key)
                self.scheduling_cycle += 1
                qp.attempts += 1
                return qp
            self._has_active.clear()
            await self._has_active.wait()

    def add_unschedulable(self, qp: QueuedPod, cycle: int) -> None:
        """A pod that fit no node in scheduling cycle ``cycle``."""
        if qp.key in self._pods:
            return  # re-added meanwhile by an informer event: that copy wins
        now = self._clock()
        qp.failed_at = qp.timestamp = now
        if self._move_request_cycle >= cycle:
            self._push_backoff(qp)
        else:
            self._put(qp, UNSCHEDULABLE)
            self._unschedulable[qp.key] = qp

    def add_backoff(self, qp: QueuedPod) -> None:
        """A pod whose attempt failed for a transient reason (e.g. its bind)."""
        if qp.key in self._pods:
            return
        qp.failed_at = qp.timestamp = self._clock()
        self._push_backoff(qp)

    # ---- background work ---------------------------------------------------------

    def flush_backoff(self) -> int:
        """Move pods whose backoff expired to active; returns how many."""
        now = self._clock()
        moved = 0
        while self._backoff and self._backoff[0][0] <= now:
            _, _, key, version = heapq.heappop(self._backoff)
            qp = self._pods.get(key)
            if qp is None or qp.version != version or self._where.get(key) != BACKOFF:
                continue
            self._remove(key)
            self._push_active(qp)
            moved += 1
        return moved

    def flush_unschedulable(self) -> int:
        """Move pods unschedulable for longer than max_unschedulable."""
        now = self._clock()
        old = [
            qp for qp in self._unschedulable.values() if now - qp.timestamp > self.max_unschedulable
        ]
        for qp in old:
            self._remove(qp.key)
            self._requeue(qp)
        return len(old)

    async def run(self) -> None:
        """Flush backoff as entries expire and old unschedulable pods
        periodically, until cancelled."""
        check_every = min(UNSCHEDULABLE_CHECK_PERIOD, max(self.max_unschedulable / 4, 0.05))
        next_check = self._clock() + check_every
        while True:
            self.flush_backoff()
            now = self._clock()
            if now >= next_check:
                self.flush_unschedulable()
                next_check = now + check_every
            wake = next_check
            if self._backoff:
                wake = min(wake, self._backoff[0][0])
            self._changed.clear()
            try:
                async with asyncio.timeout(max(wake - self._clock(), 0.001)):
                    await self._changed.wait()
            except TimeoutError:
                pass

    # ---- internals ---------------------------------------------------------------

    def _requeue(self, qp: QueuedPod) -> None:
        """Unschedulable -> backoff while backing off, else active."""
        if self.backoff_expiry(qp) > self._clock():
            self._push_backoff(qp)
        else:
            qp.timestamp = self._clock()
            self._push_active(qp)

    def _put(self, qp: QueuedPod, where: str) -> None:
        qp.version += 1
        self._pods[qp.key] = qp
        self._where[qp.key] = where
        self._counts[where] += 1

    def _push_active(self, qp: QueuedPod) -> None:
        self._put(qp, ACTIVE)
        heapq.heappush(
            self._active,
            (-pod_priority(qp.pod), qp.timestamp, next(self._seq), qp.key, qp.version),
        )
        self._has_active.set()

    def _push_backoff(self, qp: QueuedPod) -> None:
        self._put(qp, BACKOFF)
        heapq.heappush(
            self._backoff, (self.backoff_expiry(qp), next(self._seq), qp.key, qp.version)
        )
        self._changed.set()

    def _remove(self, key: str) -> None:
        where = self._where.pop(key, None)
        if where is None:
            return
        self._pods.pop(key, None)
        self._counts[where] -= 1
        if where == UNSCHEDULABLE:
            self._unschedulable.pop(key, None)
