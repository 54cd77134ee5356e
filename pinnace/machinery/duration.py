"""Durations as Go's ``time.ParseDuration`` reads them.

Kubernetes takes durations in Go's syntax everywhere a person types one:
kubectl's ``--timeout=5m``, ``--grace-period``-style flags, and a CronJob's
``@every 1h30m`` (robfig/cron hands the text to ``time.ParseDuration``).
One parser serves all of them, so Pinnace accepts exactly what Kubernetes
accepts and words its errors the same way.

The language: an optional sign, then one or more ``<decimal><unit>`` pairs
with units ns, us (µs, μs), ms, s, m, h; ``1h30m``, ``1.5h``, ``300ms``,
``-2m``. A lone ``0`` is the only number without a unit. Worked example:
``1h2m3.5s`` → 3600 + 120 + 3.5 = 3723.5 seconds.

The CLI's flags read durations with :func:`parse_duration`: Go's syntax,
and also a bare number of seconds (``--timeout 30``), which Pinnace's CLI
has always taken (kubectl takes only a bare ``0``).
"""

from __future__ import annotations

import re

__all__ = ["DurationError", "parse_duration", "parse_go_duration"]

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC Greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_BARE_SECONDS = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_PAIR = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")


# Go keeps a duration in int64 nanoseconds: about 292 years at most.
_MAX_SECONDS = (2**63 - 1) / 1e9


class DurationError(ValueError):
    """Text that is not a Go duration; the message is Go's."""


def parse_go_duration(text: str) -> float:
    """Seconds in ``text`` (Go syntax), or DurationError with Go's message."""
    quoted = f'"{text}"'
    rest = text
    sign = 1.0
    if rest[:1] in ("-", "+"):
        sign = -1.0 if rest[0] == "-" else 1.0
        rest = rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise DurationError(f"time: invalid duration {quoted}")
    total = 0.0
    while rest:
        match = _PAIR.match(rest)  # always matches; both groups may be empty
        assert match is not None
        number, unit = match.group(1), match.group(2)
        if not number or number == ".":
            raise DurationError(f"time: invalid duration {quoted}")
        if not unit:
            raise DurationError(f"time: missing unit in duration {quoted}")
        if unit not in _UNITS:
            raise DurationError(f'time: unknown unit "{unit}" in duration {quoted}')
        total += float(number) * _UNITS[unit]
        if total > _MAX_SECONDS:  # Go's overflow error
            raise DurationError(f"time: invalid duration {quoted}")
        rest = rest[match.end() :]
    return sign * total


def parse_duration(text: str) -> float:
    """Seconds in a duration typed on the command line: Go's syntax
    ("1m30s" → 90.0) or a bare number of seconds ("30" → 30.0)."""
    if _BARE_SECONDS.fullmatch(text):
        return float(text)
    return parse_go_duration(text)
