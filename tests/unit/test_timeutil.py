"""Tests for pinnace.machinery.timeutil: RFC 3339 formatting/parsing and clocks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pinnace.machinery.timeutil import (
    FakeClock,
    RealClock,
    format_rfc3339,
    now_rfc3339,
    now_rfc3339_micro,
    parse_rfc3339,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2024-05-01T12:00:00Z", T0, id="utc"),
        pytest.param("2024-05-01t12:00:00z", T0, id="lowercase"),
        pytest.param("2024-05-01T14:00:00+02:00", T0, id="positive-offset"),
        pytest.param("2024-05-01T07:30:00-04:30", T0, id="negative-offset"),
        pytest.param("2024-05-01T12:00:00.5Z", T0 + timedelta(microseconds=500000), id="fraction"),
        pytest.param(
            "2024-05-01T12:00:00.123456789Z",
            T0 + timedelta(microseconds=123456),
            id="nanos-truncated",
        ),
    ],
)
def test_parse_rfc3339(text, expected):
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2024-05-01", id="date-only"),
        pytest.param("2024-05-01T12:00:00", id="no-offset"),
        pytest.param("2024-05-01 12:00:00Z", id="space-separator"),
        pytest.param("2024-13-01T12:00:00Z", id="bad-month"),
        pytest.param("2024-05-01T25:00:00Z", id="bad-hour"),
        pytest.param("2024-05-01T12:00:00+25:00", id="bad-offset"),
        pytest.param("yesterday", id="words"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_rfc3339_rejects(text):
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_rfc3339(text)


@pytest.mark.parametrize(
    ("dt", "micro", "text"),
    [
        pytest.param(T0, False, "2024-05-01T12:00:00Z", id="seconds"),
        pytest.param(
            T0 + timedelta(microseconds=42), True, "2024-05-01T12:00:00.000042Z", id="micro"
        ),
        pytest.param(
            T0 + timedelta(microseconds=42), False, "2024-05-01T12:00:00Z", id="micro-dropped"
        ),
        pytest.param(
            datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))),
            False,
            "2024-05-01T12:00:00Z",
            id="converted-to-utc",
        ),
        pytest.param(datetime(2024, 5, 1, 12), False, "2024-05-01T12:00:00Z", id="naive-is-utc"),
    ],
)
def test_format_rfc3339(dt, micro, text):
    assert format_rfc3339(dt, micro=micro) == text


def test_now_functions_use_the_clock():
    clock = FakeClock(T0 + timedelta(microseconds=7))
    assert now_rfc3339(clock) == "2024-05-01T12:00:00Z"
    assert now_rfc3339_micro(clock) == "2024-05-01T12:00:00.000007Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_rfc3339())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", now_rfc3339_micro())


def test_fake_clock_advance_and_set():
    clock = FakeClock(T0, monotonic=100.0)
    clock.advance(1.5)
    assert clock.now() == T0 + timedelta(seconds=1.5)
    assert clock.monotonic() == 101.5
    clock.set(T0 + timedelta(seconds=10))
    assert clock.monotonic() == 110.0
    clock.set(T0)  # wall time may jump back; monotonic never does
    assert clock.now() == T0 and clock.monotonic() == 110.0
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_real_clock():
    clock = RealClock()
    assert clock.now().tzinfo is UTC
    first = clock.monotonic()
    assert clock.monotonic() >= first
