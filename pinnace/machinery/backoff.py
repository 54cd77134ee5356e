"""Per-key exponential backoff, as client-go's ``flowcontrol.Backoff``.

One home for "wait longer each time this thing fails": the kubelet's
CrashLoopBackOff (keyed by container), its pod sync retries (keyed by pod)
and the DaemonSet controller's failed-pod backoff (keyed by DaemonSet and
node) all use it.

Semantics (client-go ``flowcontrol.Backoff`` without jitter):

* Each key has a delay and the time of its last update. ``next(key)``
  records a failure: a key without an entry starts at ``initial``; a key
  with one doubles its delay, up to ``cap``.
* An entry whose last update is more than ``2 * cap`` before the event
  being judged is forgotten: the key starts over at ``initial``. ``gc()``
  drops such entries for good.
* ``remaining_since(key, t)``: the time left until ``t + delay`` (0 when
  not in backoff), for "this failed at ``t``; may it be retried yet?"
  (the kubelet's ``IsInBackOffSince``, with ``t`` the container's finish).
  ``remaining(key)`` counts from the last update instead
  (``IsInBackOffSinceUpdate``: the daemon pod backoff).
* ``reset(key)`` forgets the key (a success).

Times are monotonic seconds from an injectable ``clock`` (a
``FakeClock().monotonic`` in tests), so every delay is testable without
sleeping.

Worked example, initial 10 s, cap 300 s, a container that crashes 1 s
after each start: crash at 0 → not in backoff, restart now, ``next`` arms
10; crash at 1 → wait until 11, ``next`` arms 20; crash at 12 → wait until
32; then 40, 80, 160, 300, 300, ... A container that then runs for more
than 600 s after its last restart starts from 10 again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass
class _Entry:
    delay: float
    last_update: float  # clock time of the ``next`` that set ``delay``


class Backoff:
    """Per-key delays doubling from ``initial`` to ``cap`` (see the module docstring).

    Not thread-safe: use it from one event loop."""

    def __init__(
        self,
        initial: float,
        cap: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if initial <= 0 or cap < initial:
            raise ValueError(f"need 0 < initial <= cap, got initial={initial} cap={cap}")
        self.initial = initial
        self.cap = cap
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def _live(self, key: str, event_time: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and event_time - entry.last_update > 2 * self.cap:
            return None
        return entry

    def get(self, key: str) -> float:
        """The current delay of ``key`` (0 when it has none)."""
        entry = self._entries.get(key)
        return entry.delay if entry is not None else 0.0

    def next(self, key: str, event_time: float | None = None) -> None:
        """Record a failure of ``key`` at ``event_time`` (default: now): start
        at ``initial`` (also after an idle expiry), else double up to ``cap``."""
        now = self._clock()
        event = now if event_time is None else event_time
        entry = self._live(key, event)
        if entry is None:
            self._entries[key] = _Entry(self.initial, now)
            return
        entry.delay = min(entry.delay * 2, self.cap)
        entry.last_update = now

    def remaining_since(self, key: str, event_time: float) -> float:
        """Seconds until ``event_time + delay`` (0: not in backoff)."""
        entry = self._live(key, event_time)
        if entry is None:
            return 0.0
        return max(0.0, event_time + entry.delay - self._clock())

    def remaining(self, key: str) -> float:
        """Seconds until the last update + delay (0: not in backoff)."""
        now = self._clock()
        entry = self._live(key, now)
        if entry is None:
            return 0.0
        return max(0.0, entry.last_update + entry.delay - now)

    def reset(self, key: str) -> None:
        """Forget ``key``: its next failure starts at ``initial``."""
        self._entries.pop(key, None)

    def gc(self) -> None:
        """Drop the entries idle for more than ``2 * cap``."""
        now = self._clock()
        for key in [k for k, e in self._entries.items() if now - e.last_update > 2 * self.cap]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
