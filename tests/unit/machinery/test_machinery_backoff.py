"""pinnace.machinery.backoff: per-key doubling backoff (client-go flowcontrol.Backoff)."""

from __future__ import annotations

import pytest

from pinnace.machinery.backoff import Backoff
from pinnace.machinery.timeutil import FakeClock


def _at(clock: FakeClock, t: float) -> None:
    clock.advance(t - clock.monotonic())


@pytest.mark.parametrize(
    ("initial", "cap", "run_for", "waits"),
    [
        pytest.param(10, 300, 1, [0, 10, 20, 40, 80, 160, 300, 300, 300], id="crashloop-defaults"),
        pytest.param(0.2, 1, 0.05, [0, 0.2, 0.4, 0.8, 1, 1], id="fast-test-flags"),
        pytest.param(1, 1, 0.5, [0, 1, 1, 1], id="initial-equals-cap"),
    ],
)
def test_crash_restart_schedule(
    initial: float, cap: float, run_for: float, waits: list[float]
) -> None:
    """Each crash waits the current delay counted from its finish; the first not at all."""
    clock = FakeClock(monotonic=1000.0)
    b = Backoff(initial, cap, clock=clock.monotonic)
    got = []
    for _ in waits:
        finished = clock.monotonic()
        wait = b.remaining_since("c", finished)
        got.append(wait)
        clock.advance(wait)
        b.next("c", finished)  # restarted now
        clock.advance(run_for)  # runs, crashes again
    assert got == pytest.approx(waits)


@pytest.mark.parametrize(
    ("crash_at", "expected"),
    [
        pytest.param(30, 50, id="armed-20-from-the-finish"),
        pytest.param(15 + 600, 635, id="idle-exactly-2x-cap-is-kept"),
        pytest.param(15 + 601, 616, id="idle-more-than-2x-cap-forgotten"),
    ],
)
def test_idle_entry_is_forgotten(crash_at: float, expected: float) -> None:
    clock = FakeClock()
    b = Backoff(10, 300, clock=clock.monotonic)
    b.next("c", 0)  # armed 10, updated at 0
    _at(clock, 15)
    b.next("c", 15)  # armed 20, updated at 15
    _at(clock, crash_at)
    assert crash_at + b.remaining_since("c", crash_at) == expected


def test_forgotten_entry_starts_at_initial() -> None:
    clock = FakeClock()
    b = Backoff(10, 300, clock=clock.monotonic)
    b.next("c")
    b.next("c")
    assert b.get("c") == 20
    _at(clock, 700)
    b.next("c")
    assert b.get("c") == 10


def test_keys_are_independent_and_reset() -> None:
    clock = FakeClock()
    b = Backoff(1, 4, clock=clock.monotonic)
    b.next("a", 0)
    assert b.remaining_since("b", 0) == 0
    assert b.remaining_since("a", 0) == 1
    b.reset("a")
    assert b.remaining_since("a", 0) == 0
    assert b.get("a") == 0


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param([], 0.0, id="never-failed"),
        pytest.param([("next", 0)], 1.0, id="first-deletion-holds-1s"),
        pytest.param([("next", 0), ("at", 0.4)], 0.6, id="counts-from-the-update"),
        pytest.param([("next", 0), ("at", 1), ("next", 0)], 2.0, id="doubles"),
        pytest.param([("next", 0), ("at", 5)], 0.0, id="elapsed"),
        pytest.param(
            [("next", 0), ("at", 1), ("next", 0), ("at", 1802), ("next", 0)],
            1.0,
            id="idle-2x-max-restarts-at-initial",
        ),
    ],
)
def test_remaining_since_update(steps: list[tuple[str, float]], expected: float) -> None:
    """The daemon pod backoff: remaining() counts from the last next()."""
    clock = FakeClock()
    b = Backoff(1, 900, clock=clock.monotonic)
    for op, value in steps:
        if op == "next":
            b.next("ds/node")
        else:
            _at(clock, value)
    assert b.remaining("ds/node") == pytest.approx(expected)


def test_gc_drops_idle_entries() -> None:
    clock = FakeClock()
    b = Backoff(1, 10, clock=clock.monotonic)
    b.next("old")
    _at(clock, 15)
    b.next("new")
    _at(clock, 21)
    b.gc()
    assert len(b) == 1 and b.get("new") == 1


@pytest.mark.parametrize(("initial", "cap"), [(0, 10), (-1, 10), (10, 5)])
def test_bad_settings(initial: float, cap: float) -> None:
    with pytest.raises(ValueError):
        Backoff(initial, cap)
