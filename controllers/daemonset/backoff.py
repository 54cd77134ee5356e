"""Per (DaemonSet, node) backoff before deleting another failed daemon pod
(Kubernetes' failedPodsBackoff: 1 s doubling to 15 min).

A daemon pod that keeps failing on a node would otherwise be deleted and
re-created in a hot loop. ``in_backoff`` says whether the last deletion on
that node was less than the current delay ago; ``next`` records a deletion
and doubles the delay; entries idle for twice the maximum are forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

INITIAL = 1.0
MAXIMUM = 900.0


@dataclass
class _Entry:
    delay: float
    last: float


class FailedPodBackoff:
    def __init__(
        self,
        *,
        clock: Callable[[], float],
        initial: float = INITIAL,
        maximum: float = MAXIMUM,
    ) -> None:
        self._clock = clock
        self._initial = initial
        self._maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def remaining(self, key: str) -> float:
        """Seconds left before another failed pod may be deleted (0: now)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.last + entry.delay - self._clock())

    def next(self, key: str) -> None:
        """Record a deletion now; the next waits twice as long as this one."""
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or now - entry.last > 2 * self._maximum:
            self._entries[key] = _Entry(self._initial, now)
            return
        entry.delay = min(entry.delay * 2, self._maximum)
        entry.last = now

    def gc(self) -> None:
        now = self._clock()
        for key in [k for k, e in self._entries.items() if now - e.last > 2 * self._maximum]:
            del self._entries[key]
