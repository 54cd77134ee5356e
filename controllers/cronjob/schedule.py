"""When a CronJob runs: the missed times and the Job names (Kubernetes'
cronjob utils.go).

Parsing and the time arithmetic live in pinnace/machinery/cron.py, the one
parser the apiserver validates with, so a schedule the apiserver accepts is
one the controller runs (``@every 5m`` included).

``most_recent`` finds the latest unmet time in ``(earliest, now]`` and how
many were missed. Only that one is started: past 100 missed times the
controller warns (TooManyMissedTimes) and still starts it, as the current
Kubernetes code and e2e do (the documentation says otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pinnace.machinery.cron import Schedule, ScheduleError, parse

__all__ = ["Missed", "Schedule", "ScheduleError", "job_name", "most_recent", "parse"]

TOO_MANY_MISSED = 100


@dataclass(frozen=True)
class Missed:
    """The most recent unmet time and how many were missed (capped at 101)."""

    time: datetime
    count: int

    @property
    def too_many(self) -> bool:
        return self.count > TOO_MANY_MISSED


def most_recent(
    schedule: Schedule,
    *,
    earliest: datetime,
    now: datetime,
    starting_deadline: float | None,
) -> Missed | None:
    """The latest scheduled time in ``(earliest, now]``, where ``earliest`` is
    the last schedule time (else the creation time), moved up to ``now -
    startingDeadlineSeconds`` if that is later. None if there is none."""
    if starting_deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=starting_deadline))
    first = schedule.next_after(earliest)
    if first is None or first > now:
        return None
    count, t = 1, first
    while count <= TOO_MANY_MISSED:
        nxt = schedule.next_after(t)
        if nxt is None or nxt > now:
            break
        count, t = count + 1, nxt
    if count <= TOO_MANY_MISSED:
        return Missed(t, count)
    return Missed(schedule.latest_at_or_before(now, first=first), count)


def job_name(cronjob_name: str, scheduled: datetime) -> str:
    """``<cronjob>-<scheduled time in unix minutes>``: deterministic, so
    AlreadyExists is the lock against a second Job for one time."""
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"
