"""The durations the CLI's flags take (pinnace.machinery.duration
parse_duration): Go's syntax, as kubectl reads --timeout, plus bare seconds.
Go's syntax itself is tested in tests/unit/test_duration.py."""

from __future__ import annotations

import argparse

import pytest

from pinnace.machinery.duration import DurationError, parse_duration
from pinnace.machinery.flags import duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("30", 30.0),
        ("2.5", 2.5),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        ("-2s", -2.0),
    ],
    ids=[
        "zero",
        "bare-seconds",
        "bare-fraction",
        "seconds",
        "minutes",
        "hours",
        "minutes-seconds",
        "milliseconds",
        "fractional-hours",
        "negative",
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)
    assert duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("5 minutes", 'time: unknown unit " minutes" in duration "5 minutes"'),
        ("soon", 'time: invalid duration "soon"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("1.2.3s", 'time: missing unit in duration "1.2.3s"'),
    ],
    ids=["empty", "words", "word", "days", "two-dots"],
)
def test_parse_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(DurationError) as err:
        parse_duration(text)
    assert str(err.value) == message
    with pytest.raises(argparse.ArgumentTypeError, match="time: "):
        duration(text)
