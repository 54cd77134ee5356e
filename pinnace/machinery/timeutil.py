"""RFC 3339 times, as Kubernetes writes them, and an injectable clock.

Guarantees:

* `format_rfc3339` always writes UTC with a "Z" suffix, seconds precision
  ("2024-05-01T12:00:00Z", metav1.Time) or microseconds
  ("2024-05-01T12:00:00.000000Z", metav1.MicroTime).
* `parse_rfc3339` accepts exactly RFC 3339 date-times (fractional seconds of
  any length, "Z" or a numeric offset; "T"/"t" separator) and returns an
  aware datetime in UTC. Digits beyond microseconds are truncated.
* Code that needs "now" takes a `Clock`; tests pass a `FakeClock`.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

__all__ = [
    "Clock",
    "FakeClock",
    "RealClock",
    "format_rfc3339",
    "now_rfc3339",
    "now_rfc3339_micro",
    "parse_rfc3339",
]

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d+))?(?P<tz>[Zz]|[+-]\d{2}:\d{2})"
)


class Clock(Protocol):
    """Where time comes from: wall time for timestamps, monotonic for delays."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...


class RealClock:
    """The system clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to (`advance`, `set`)."""

    def __init__(self, start: datetime | None = None, *, monotonic: float = 0.0) -> None:
        self._now = _as_utc(start) if start is not None else datetime(2024, 1, 1, tzinfo=UTC)
        self._monotonic = monotonic

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move both the wall clock and the monotonic clock forward."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds

    def set(self, when: datetime) -> None:
        """Jump the wall clock (the monotonic clock follows if `when` is later)."""
        when = _as_utc(when)
        delta = (when - self._now).total_seconds()
        if delta > 0:
            self._monotonic += delta
        self._now = when


def format_rfc3339(dt: datetime, *, micro: bool = False) -> str:
    """Format `dt` in UTC ("Z"); a naive datetime is taken to be UTC."""
    dt = _as_utc(dt)
    if micro:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def now_rfc3339(clock: Clock | None = None) -> str:
    """The current time with seconds precision, e.g. "2024-05-01T12:00:00Z"."""
    return format_rfc3339((clock or _REAL).now())


def now_rfc3339_micro(clock: Clock | None = None) -> str:
    """The current time with microseconds, e.g. "2024-05-01T12:00:00.123456Z"."""
    return format_rfc3339((clock or _REAL).now(), micro=True)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 date-time into an aware UTC datetime.

    Raises ValueError naming the accepted form on anything else.
    """
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not an RFC 3339 time (expected e.g. '2024-05-01T12:00:00Z' "
            "or '2024-05-01T12:00:00.5+02:00')"
        )
    frac = (match["frac"] or "")[:6].ljust(6, "0")
    tz = match["tz"]
    try:
        dt = datetime.fromisoformat(
            f"{match['date']}T{match['h']}:{match['m']}:{match['s']}.{frac}"
        )
        if tz in ("Z", "z"):
            offset = UTC
        else:
            sign = -1 if tz[0] == "-" else 1
            hours, minutes = int(tz[1:3]), int(tz[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            offset = timezone(sign * timedelta(hours=hours, minutes=minutes))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid RFC 3339 time: {exc}") from None
    return dt.replace(tzinfo=offset).astimezone(UTC)


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


_REAL = RealClock()
