"""Cron schedules as Kubernetes reads them: one parser for the apiserver's
validation and the CronJob controller, so the two can never disagree.

Kubernetes parses ``spec.schedule`` with robfig/cron v3's ``ParseStandard``:

* five fields, minute hour day-of-month month day-of-week, each a
  comma-separated list of ``*``/``?``, ``N``, ``N-M``, with an optional
  ``/step`` (``N/step`` means ``N-max/step``); months and weekdays also by
  name (``jan``, ``sun``; case-insensitive); weekdays 0-6, Sunday is 0;
* descriptors ``@yearly``/``@annually``, ``@monthly``, ``@weekly``,
  ``@daily``/``@midnight``, ``@hourly``, and ``@every <duration>`` (a Go
  duration, rounded down to whole seconds, at least one second);
* an optional ``TZ=<zone> `` or ``CRON_TZ=<zone> `` prefix (the CronJob
  strategy refuses it on new objects, as Kubernetes does; the parser accepts
  it for old ones).

Day-of-month and day-of-week combine as in cron: when either field starts
with ``*`` or ``?`` (and has no step above 1) a day must match both,
otherwise either. ``0 0 13 * 5`` is every 13th *and* every Friday.

Error texts are robfig's, so ``pinnace`` shows what Kubernetes shows after
``Invalid value: ...:``.

Times are computed in the schedule's zone on the wall clock: a time that a
DST jump skips does not run that day, and a time that the clock passes twice
runs twice (robfig adds real time, so it does the same). ``@every`` schedules are zone-free: the next run is
the last one plus the delay.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol

from pinnace.machinery.duration import DurationError, parse_go_duration

__all__ = [
    "EverySchedule",
    "Schedule",
    "ScheduleError",
    "SpecSchedule",
    "load_zone",
    "parse",
    "schedule_error",
    "time_zone_error",
]

_MONTHS = {
    m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())
}
_DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}


@dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int]


_MINUTE = _Bounds(0, 59, {})
_HOUR = _Bounds(0, 23, {})
_DOM = _Bounds(1, 31, {})
_MONTH = _Bounds(1, 12, _MONTHS)
_DOW = _Bounds(0, 6, _DAYS)
_FIELDS = (_MINUTE, _HOUR, _DOM, _MONTH, _DOW)

# Searching further than this finds nothing new (robfig gives up after 5 years).
_YEARS_AHEAD = 5


class ScheduleError(ValueError):
    """A schedule robfig/cron would not parse, or an unknown time zone; the
    message is robfig's (or Go's) text."""


class Schedule(Protocol):
    """When a parsed schedule fires."""

    @property
    def zone(self) -> tzinfo:
        """The zone its times are shown in."""
        ...

    def next_after(self, when: datetime) -> datetime | None:
        """The first time strictly after ``when`` (in ``when``'s zone), or
        None if the schedule never fires again."""
        ...

    def latest_at_or_before(self, when: datetime, *, first: datetime) -> datetime:
        """The latest time in ``[first, when]``, given that ``first`` is a
        time the schedule fires at and ``first <= when``."""
        ...


@dataclass(frozen=True)
class _Field:
    values: frozenset[int]
    star: bool  # began with * or ? (and no step above 1): matters for the day rule


@dataclass(frozen=True)
class SpecSchedule:
    """A five-field schedule (or a descriptor other than @every)."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    day_star: bool  # day-of-month or day-of-week is a star: both must match
    zone: tzinfo

    def next_after(self, when: datetime) -> datetime | None:
        start = when.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0)
        for day in self._days(start.date(), step=1):
            same_day = day == start.date()
            for hour in self.hours:
                if same_day and hour < start.hour:
                    continue
                for candidate in self._instants(day, hour, self.minutes):
                    if candidate > when:
                        return candidate.astimezone(when.tzinfo)
        return None

    def latest_at_or_before(self, when: datetime, *, first: datetime) -> datetime:
        end = when.astimezone(self.zone).replace(tzinfo=None)
        for day in self._days(end.date(), step=-1):
            if day < first.astimezone(self.zone).date():
                break
            same_day = day == end.date()
            for hour in reversed(self.hours):
                if same_day and hour > end.hour:
                    continue
                for candidate in reversed(self._instants(day, hour, self.minutes)):
                    if candidate <= when:
                        return candidate.astimezone(when.tzinfo)
        return first

    def day_matches(self, day: date) -> bool:
        dom = day.day in self.days_of_month
        dow = (day.weekday() + 1) % 7 in self.days_of_week
        return (dom and dow) if self.day_star else (dom or dow)

    def _days(self, start: date, *, step: int) -> Iterator[date]:
        """Days that match the month and day fields, from ``start``
        (inclusive) one ``step`` at a time, for at most five years."""
        day = start
        for _ in range(366 * _YEARS_AHEAD):
            if day.month in self.months and self.day_matches(day):
                yield day
            day += timedelta(days=step)

    def _instants(self, day: date, hour: int, minutes: tuple[int, ...]) -> list[datetime]:
        """The instants (UTC, ascending) at which the wall clock shows
        ``hour:minute`` on ``day``: none when a DST jump skips the hour, each
        minute twice when the clock passes the hour twice (first pass, then
        second)."""
        instants: list[datetime] = []
        for fold in (0, 1):
            for minute in minutes:
                naive = datetime(day.year, day.month, day.day, hour, minute)
                real = naive.replace(tzinfo=self.zone, fold=fold).astimezone(UTC)
                if real.astimezone(self.zone).replace(tzinfo=None) != naive:
                    continue  # skipped by a DST jump
                if fold == 1 and naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC) == real:
                    continue  # not ambiguous: fold 0 already gave it
                instants.append(real)
        return instants


@dataclass(frozen=True)
class EverySchedule:
    """``@every <duration>``: a constant delay (robfig ConstantDelaySchedule)."""

    seconds: int
    zone: tzinfo  # only for showing times; the delay is zone-free

    def next_after(self, when: datetime) -> datetime | None:
        return when.replace(microsecond=0) + timedelta(seconds=self.seconds)

    def latest_at_or_before(self, when: datetime, *, first: datetime) -> datetime:
        periods = int((when - first).total_seconds()) // self.seconds
        return first + timedelta(seconds=periods * self.seconds)


def parse(schedule: str, time_zone: str | None = None) -> SpecSchedule | EverySchedule:
    """The schedule, evaluated in ``time_zone`` (an IANA name; else a TZ=
    prefix of the schedule; else the local zone), or ScheduleError."""
    spec = schedule.strip()
    zone_name = time_zone
    if spec.startswith(("TZ=", "CRON_TZ=")):
        head, _, rest = spec.partition(" ")
        prefixed = head.partition("=")[2]
        try:
            prefix_zone = load_zone(prefixed)
        except ScheduleError as e:
            raise ScheduleError(f"provided bad location {prefixed}: {e}") from None
        spec = rest.strip()
        zone = prefix_zone
    else:
        zone = load_zone(zone_name or "Local")
    if not spec:
        raise ScheduleError("empty spec string")
    if spec.startswith("@"):
        return _descriptor(spec, zone)
    fields = spec.split()
    if len(fields) != 5:
        shown = "[" + " ".join(fields) + "]"
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {shown}")
    return _spec_schedule(fields, zone)


def schedule_error(schedule: str) -> str | None:
    """robfig's error text for ``schedule``, or None if it parses. The zone
    does not matter: a schedule's validity never depends on it."""
    try:
        parse(schedule, "UTC")
    except ScheduleError as e:
        return str(e)
    return None


def load_zone(name: str) -> tzinfo:
    """Go's time.LoadLocation: "" and "UTC" are UTC, "Local" is this
    machine's zone, anything else an IANA name."""
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        return datetime.now().astimezone().tzinfo or UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"unknown time zone {name}") from None


def time_zone_error(name: str) -> str | None:
    """Go's time.LoadLocation error for an IANA zone name, or None."""
    try:
        load_zone(name)
    except ScheduleError as e:
        return str(e)
    return None


_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_EVERY = "@every "


def _descriptor(spec: str, zone: tzinfo) -> SpecSchedule | EverySchedule:
    if spec in _DESCRIPTORS:
        return _spec_schedule(_DESCRIPTORS[spec].split(), zone)
    if spec.startswith(_EVERY):
        text = spec[len(_EVERY) :]
        try:
            seconds = parse_go_duration(text)
        except DurationError as e:
            raise ScheduleError(f"failed to parse duration {spec}: {e}") from None
        return EverySchedule(max(1, int(seconds)), zone)
    raise ScheduleError(f"unrecognized descriptor: {spec}")


def _spec_schedule(fields: list[str], zone: tzinfo) -> SpecSchedule:
    """The schedule of five fields (minute hour dom month dow)."""
    minute, hour, dom, month, dow = (
        _parse_field(text, bounds) for text, bounds in zip(fields, _FIELDS, strict=True)
    )
    return SpecSchedule(
        minutes=tuple(sorted(minute.values)),
        hours=tuple(sorted(hour.values)),
        days_of_month=dom.values,
        months=month.values,
        days_of_week=dow.values,
        day_star=dom.star or dow.star,
        zone=zone,
    )


def _parse_field(field: str, bounds: _Bounds) -> _Field:
    values: set[int] = set()
    star = False
    for expr in (part for part in field.split(",") if part):
        part_values, part_star = _parse_range(expr, bounds)
        values |= part_values
        star = star or part_star
    return _Field(frozenset(values), star)


def _parse_range(expr: str, bounds: _Bounds) -> tuple[set[int], bool]:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    star = low_and_high[0] in ("*", "?")
    if star:
        start, end = bounds.low, bounds.high
    else:
        start = _int_or_name(low_and_high[0], bounds.names)
        end = start
        if len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], bounds.names)
        elif len(low_and_high) > 2:
            raise ScheduleError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if single and not star:
            end = bounds.high  # "N/step" means N-max/step
        if step > 1:
            star = False
    elif len(range_and_step) > 2:
        raise ScheduleError(f"too many slashes: {expr}")
    if start < bounds.low:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({bounds.low}): {expr}")
    if end > bounds.high:
        raise ScheduleError(f"end of range ({end}) above maximum ({bounds.high}): {expr}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def _int_or_name(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    return _int(text)


def _int(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise ScheduleError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        ) from None
    if value < 0:
        raise ScheduleError(f"negative number ({value}) not allowed: {text}")
    return value
