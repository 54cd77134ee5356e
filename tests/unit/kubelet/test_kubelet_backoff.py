"""kubelet.backoff: CrashLoopBackOff delays."""

from __future__ import annotations

import pytest

from kubelet.backoff import CrashBackoff


def test_first_restart_immediate_then_doubling_to_cap() -> None:
    b = CrashBackoff(10, 300)
    t = 1000.0
    waits = []
    for _ in range(9):
        at = b.restart_at("c", t)
        waits.append(at - t)
        b.restarted("c", t)
        t = at + 1  # runs 1 s, crashes again
    assert waits == [0, 10, 20, 40, 80, 160, 300, 300, 300]


def test_reset_after_ten_minutes_of_running() -> None:
    b = CrashBackoff(10, 300)
    b.restarted("c", 0)
    b.restarted("c", 15)  # now 20 armed
    assert b.restart_at("c", 30) == 50
    assert b.restart_at("c", 15 + 601) == 616  # ran > 2 x cap: forgotten, restart at once
    b.restarted("c", 616)
    assert b.restart_at("c", 620) == 630  # back to the base step


def test_keys_are_independent_and_forget() -> None:
    b = CrashBackoff(1, 4)
    b.restarted("a", 0)
    assert b.restart_at("b", 0.5) == 0.5
    assert b.restart_at("a", 0.5) == 1.5
    b.forget("a")
    assert b.restart_at("a", 0.5) == 0.5


def test_bad_settings() -> None:
    with pytest.raises(ValueError):
        CrashBackoff(0, 10)
    with pytest.raises(ValueError):
        CrashBackoff(10, 5)
