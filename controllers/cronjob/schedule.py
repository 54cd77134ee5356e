"""CronJob schedules: parsing and the times to run (Kubernetes' utils.go).

Schedules are robfig/cron's ParseStandard language: five fields, ``?`` as
``*``, steps and ranges, and the macros ``@yearly``/``@annually``,
``@monthly``, ``@weekly``, ``@daily``/``@midnight``, ``@hourly``. They are
evaluated in ``spec.timeZone`` (an IANA name through zoneinfo), else the
controller's local zone. croniter does the arithmetic.

``most_recent`` finds the latest unmet time in ``(earliest, now]`` and how
many were missed. Only that one is started: past 100 missed times the
controller warns (TooManyMissedTimes) and still starts it, as the current
Kubernetes code and e2e do (the documentation says otherwise).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from croniter import croniter

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
TOO_MANY_MISSED = 100


class ScheduleError(ValueError):
    """An unparseable schedule or an unknown time zone."""


@dataclass(frozen=True)
class Schedule:
    expression: str  # five croniter fields
    zone: tzinfo

    def next_after(self, when: datetime) -> datetime:
        """The first scheduled time strictly after ``when`` (in UTC)."""
        it = croniter(self.expression, when.astimezone(self.zone))
        return it.get_next(datetime).astimezone(when.tzinfo)

    def latest_at_or_before(self, when: datetime) -> datetime:
        it = croniter(self.expression, (when + timedelta(seconds=1)).astimezone(self.zone))
        return it.get_prev(datetime).astimezone(when.tzinfo)


def parse(schedule: str, time_zone: str | None = None) -> Schedule:
    """A Schedule, or ScheduleError."""
    if time_zone:
        try:
            zone: tzinfo = zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
            raise ScheduleError(f"unknown time zone {time_zone}") from e
    else:
        zone = datetime.now().astimezone().tzinfo or zoneinfo.ZoneInfo("UTC")
    text = schedule.strip()
    if text.startswith("@"):
        if text not in MACROS:
            raise ScheduleError(f"unrecognized descriptor: {text}")
        text = MACROS[text]
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {text}")
    expression = " ".join("*" if f == "?" else f.replace("?", "*") for f in fields)
    try:
        croniter(expression)
    except (ValueError, KeyError) as e:
        raise ScheduleError(str(e)) from e
    return Schedule(expression, zone)


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
    created: datetime,
    last_scheduled: datetime | None,
    now: datetime,
    starting_deadline: float | None,
) -> Missed | None:
    """The latest scheduled time in ``(earliest, now]``, where earliest is the
    last schedule time (else the creation time), moved up to ``now -
    startingDeadlineSeconds`` if that is later. None if there is none."""
    earliest = last_scheduled or created
    if starting_deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=starting_deadline))
    first = schedule.next_after(earliest)
    if first > now:
        return None
    count, t = 1, first
    while count <= TOO_MANY_MISSED:
        t = schedule.next_after(t)
        if t > now:
            break
        count += 1
    return Missed(schedule.latest_at_or_before(now), count)


def job_name(cronjob_name: str, scheduled: datetime) -> str:
    """``<cronjob>-<scheduled time in unix minutes>``: deterministic, so
    AlreadyExists is the lock against a second Job for one time."""
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"
