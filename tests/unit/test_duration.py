"""Go's time.ParseDuration, as kubectl flags and cron's @every read durations."""

from __future__ import annotations

import pytest

from pinnace.machinery.duration import DurationError, parse_go_duration


@pytest.mark.parametrize(
    "text,seconds",
    [
        pytest.param("0", 0.0, id="bare-zero"),
        pytest.param("30s", 30.0, id="seconds"),
        pytest.param("5m", 300.0, id="minutes"),
        pytest.param("1h30m", 5400.0, id="pairs"),
        pytest.param("1h2m3.5s", 3723.5, id="fraction"),
        pytest.param("1.5h", 5400.0, id="fractional-hours"),
        pytest.param("300ms", 0.3, id="milliseconds"),
        pytest.param("2us", 2e-6, id="microseconds"),
        pytest.param("2µs", 2e-6, id="micro-sign"),
        pytest.param("7ns", 7e-9, id="nanoseconds"),
        pytest.param("-2m", -120.0, id="negative"),
        pytest.param("+3s", 3.0, id="plus"),
        pytest.param("1.s", 1.0, id="trailing-dot"),
        pytest.param(".5s", 0.5, id="leading-dot"),
    ],
)
def test_parses(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text,message",
    [
        pytest.param("", 'time: invalid duration ""', id="empty"),
        pytest.param("5", 'time: missing unit in duration "5"', id="no-unit"),
        pytest.param("x", 'time: invalid duration "x"', id="no-number"),
        pytest.param(".s", 'time: invalid duration ".s"', id="dot-only"),
        pytest.param("1d", 'time: unknown unit "d" in duration "1d"', id="days"),
        pytest.param("1hx", 'time: unknown unit "hx" in duration "1hx"', id="junk-unit"),
        pytest.param("-", 'time: invalid duration "-"', id="sign-only"),
        pytest.param(
            "99999999999999h", 'time: invalid duration "99999999999999h"', id="over-int64-ns"
        ),
    ],
)
def test_rejects_with_go_message(text: str, message: str) -> None:
    with pytest.raises(DurationError) as err:
        parse_go_duration(text)
    assert str(err.value) == message
