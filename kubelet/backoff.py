"""CrashLoopBackOff: how long a crashed container waits before its restart.

The kubelet's schedule (client-go ``flowcontrol.Backoff`` as the kubelet
uses it, keyed by container): the first crash restarts at once and arms a
``base`` delay; each later crash waits the current delay, counted from the
moment the container finished, and doubles it up to ``cap``. An entry whose
last update is more than ``2 * cap`` old is forgotten, so a container that
ran cleanly for 10 minutes (defaults 10 s / 300 s) starts again from the
first step.

Worked example with base 10, cap 300, a container that exits at once:
exit 1 → restart now (delay armed: 10); exit 2 → wait 10; exit 3 → wait 20;
then 40, 80, 160, 300, 300, ...
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CrashBackoff"]


@dataclass
class _Entry:
    delay: float
    last_update: float  # monotonic time of the finish that armed ``delay``


class CrashBackoff:
    """Per-key restart delays; times are monotonic seconds."""

    def __init__(self, base: float = 10.0, cap: float = 300.0) -> None:
        if base <= 0 or cap < base:
            raise ValueError(f"need 0 < base <= cap, got base={base} cap={cap}")
        self.base = base
        self.cap = cap
        self._entries: dict[str, _Entry] = {}

    def _live(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and now - entry.last_update > 2 * self.cap:
            del self._entries[key]
            return None
        return entry

    def restart_at(self, key: str, finished_at: float) -> float:
        """When a container that finished at ``finished_at`` may restart
        (``finished_at`` itself when it is not in back-off)."""
        entry = self._live(key, finished_at)
        if entry is None or entry.last_update >= finished_at:
            return finished_at
        return finished_at + entry.delay

    def restarted(self, key: str, finished_at: float) -> None:
        """Record the restart of a container that finished at ``finished_at``:
        arm the base delay, or double the armed one."""
        entry = self._live(key, finished_at)
        if entry is None:
            self._entries[key] = _Entry(self.base, finished_at)
        elif entry.last_update < finished_at:
            # This restart waited entry.delay; the next crash waits twice that.
            entry.delay = min(entry.delay * 2, self.cap)
            entry.last_update = finished_at

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)
