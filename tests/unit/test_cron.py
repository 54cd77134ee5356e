"""The one cron parser (pinnace/machinery/cron.py): robfig/cron's
ParseStandard language and error texts, and the times a schedule fires,
checked against times worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinnace.machinery import cron

T0 = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    "schedule,message",
    [
        pytest.param("", "empty spec string", id="empty"),
        pytest.param("every day", "expected exactly 5 fields, found 2: [every day]", id="fields"),
        pytest.param("61 * * * *", "end of range (61) above maximum (59): 61", id="minute-max"),
        pytest.param("0 0 0 * *", "beginning of range (0) below minimum (1): 0", id="dom-min"),
        pytest.param("0 0 * * 7", "end of range (7) above maximum (6): 7", id="dow-7"),
        pytest.param("*/0 * * * *", "step of range should be a positive number: */0", id="step-0"),
        pytest.param(
            "5-3 * * * *", "beginning of range (5) beyond end of range (3): 5-3", id="rev"
        ),
        pytest.param("1-2-3 * * * *", "too many hyphens: 1-2-3", id="hyphens"),
        pytest.param("1/2/3 * * * *", "too many slashes: 1/2/3", id="slashes"),
        pytest.param(
            "x * * * *",
            'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax',
            id="not-int",
        ),
        pytest.param("@sometimes", "unrecognized descriptor: @sometimes", id="descriptor"),
        pytest.param(
            "@every 5d",
            'failed to parse duration @every 5d: time: unknown unit "d" in duration "5d"',
            id="every-unit",
        ),
        pytest.param(
            "@every 99999999999999h",
            'failed to parse duration @every 99999999999999h: time: invalid duration "99999999999999h"',
            id="every-overflow",
        ),
        pytest.param(
            "@every often",
            'failed to parse duration @every often: time: invalid duration "often"',
            id="every-text",
        ),
        pytest.param(
            "TZ=Mars/Olympus 0 0 * * *",
            "provided bad location Mars/Olympus: unknown time zone Mars/Olympus",
            id="bad-tz-prefix",
        ),
    ],
)
def test_bad_schedules_give_robfig_errors(schedule: str, message: str) -> None:
    assert cron.schedule_error(schedule) == message
    with pytest.raises(cron.ScheduleError) as err:
        cron.parse(schedule, "UTC")
    assert str(err.value) == message


@pytest.mark.parametrize(
    "schedule",
    [
        "* * * * *",
        "0 0 ? * *",
        "*/15 9-17 * * mon-fri",
        "0 0 1,15 JAN,jul *",
        "5/10 * * * *",
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
        "@every 5m",
        "@every 1h30m",
        "@every 500ms",
        "CRON_TZ=Europe/Paris 0 9 * * *",
        "TZ=UTC @daily",
    ],
)
def test_valid_schedules_parse(schedule: str) -> None:
    assert cron.schedule_error(schedule) is None
    assert cron.parse(schedule, "UTC").next_after(T0) is not None


@pytest.mark.parametrize(
    "schedule,tz,after,want",
    [
        pytest.param("*/5 * * * *", "UTC", T0, T0 + timedelta(minutes=5), id="step"),
        pytest.param("5/10 * * * *", "UTC", T0, T0 + timedelta(minutes=5), id="n-slash-step"),
        pytest.param(
            "0 9 * * *", "Europe/Paris", T0, datetime(2024, 1, 2, 8, tzinfo=UTC), id="zone"
        ),
        pytest.param("@hourly", "UTC", T0, T0 + timedelta(hours=1), id="hourly"),
        pytest.param("@weekly", "UTC", T0, datetime(2024, 1, 7, tzinfo=UTC), id="weekly-sunday"),
        pytest.param("@yearly", "UTC", T0, datetime(2025, 1, 1, tzinfo=UTC), id="yearly"),
        # Day-of-month and day-of-week both restricted: either matches.
        pytest.param("0 0 13 * 5", "UTC", T0, datetime(2024, 1, 5, tzinfo=UTC), id="dom-or-dow"),
        # One of them a star: both must match (the 13th that is a Friday).
        pytest.param("0 0 13 * *", "UTC", T0, datetime(2024, 1, 13, tzinfo=UTC), id="dom-only"),
        pytest.param("0 0 * * fri", "UTC", T0, datetime(2024, 1, 5, tzinfo=UTC), id="dow-name"),
        # A step above 1 on a star is no longer a star: the OR rule applies.
        pytest.param("0 0 */10 * 1", "UTC", T0, datetime(2024, 1, 8, tzinfo=UTC), id="step-star"),
        pytest.param("0 0 1 feb *", "UTC", T0, datetime(2024, 2, 1, tzinfo=UTC), id="month-name"),
        pytest.param("0 0 29 2 *", "UTC", T0, datetime(2024, 2, 29, tzinfo=UTC), id="leap-day"),
        # 02:30 does not exist in New York on 2024-03-10 (spring forward): skipped.
        pytest.param(
            "30 2 * * *",
            "America/New_York",
            datetime(2024, 3, 9, 12, tzinfo=UTC),
            datetime(2024, 3, 11, 6, 30, tzinfo=UTC),
            id="dst-gap-skipped",
        ),
        # 01:30 happens twice on 2024-11-03 (fall back): the second pass runs too.
        pytest.param(
            "30 1 * * *",
            "America/New_York",
            datetime(2024, 11, 3, 5, 30, tzinfo=UTC),
            datetime(2024, 11, 3, 6, 30, tzinfo=UTC),
            id="dst-repeat-runs-again",
        ),
        # @every: the delay after the given time, rounded down to the second.
        pytest.param(
            "@every 5m",
            "UTC",
            T0 + timedelta(seconds=7.5),
            T0 + timedelta(minutes=5, seconds=7),
            id="every",
        ),
        pytest.param("@every 1500ms", "UTC", T0, T0 + timedelta(seconds=1), id="every-rounds-down"),
        pytest.param("@every 100ms", "UTC", T0, T0 + timedelta(seconds=1), id="every-at-least-1s"),
    ],
)
def test_next_after(schedule: str, tz: str, after: datetime, want: datetime) -> None:
    assert cron.parse(schedule, tz).next_after(after) == want


def test_schedule_that_never_fires() -> None:
    assert cron.parse("0 0 30 2 *", "UTC").next_after(T0) is None


@pytest.mark.parametrize(
    "schedule,now,first,want",
    [
        pytest.param(
            "*/5 * * * *",
            T0 + timedelta(minutes=17),
            T0 + timedelta(minutes=5),
            T0 + timedelta(minutes=15),
            id="cron",
        ),
        pytest.param(
            "@every 7m",
            T0 + timedelta(hours=1),
            T0 + timedelta(minutes=7),
            T0 + timedelta(minutes=56),
            id="every",
        ),
        pytest.param(
            "0 0 * * *",
            T0,
            T0 - timedelta(hours=10),
            T0 - timedelta(hours=10),
            id="first-is-latest",
        ),
    ],
)
def test_latest_at_or_before(schedule: str, now: datetime, first: datetime, want: datetime) -> None:
    assert cron.parse(schedule, "UTC").latest_at_or_before(now, first=first) == want


@pytest.mark.parametrize(
    "name,error",
    [
        pytest.param("UTC", None, id="utc"),
        pytest.param("", None, id="empty-is-utc"),
        pytest.param("Local", None, id="local"),
        pytest.param("Europe/Paris", None, id="iana"),
        pytest.param("local", "unknown time zone local", id="case-matters"),
        pytest.param("Mars/Olympus", "unknown time zone Mars/Olympus", id="unknown"),
    ],
)
def test_time_zone_error_is_go_load_location(name: str, error: str | None) -> None:
    assert cron.time_zone_error(name) == error
