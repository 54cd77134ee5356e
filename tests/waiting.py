"""Waiting in tests: on a condition, with a deadline; never on a guessed delay.

* `wait_for(condition, timeout, what)` polls until ``condition()`` is truthy
  and returns that value; past ``timeout`` seconds it fails the test naming
  ``what`` and the last value seen. The timeout is a deadline for liveness,
  never a claim about speed: a loaded machine may use all of it.
* `stays(condition, seconds, what)` is the bounded observation "nothing
  happens for N seconds": it fails as soon as ``condition()`` is falsy. The
  caller says, next to the call, why N seconds is long enough for the thing
  that must not happen to have happened if it were going to.
* `wait_until` and `stays_async` are the same for asyncio tests: they poll
  while yielding to the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

__all__ = ["stays", "stays_async", "wait_for", "wait_until"]

V = TypeVar("V")


def wait_for(
    condition: Callable[[], V], timeout: float = 10.0, what: str = "", *, interval: float = 0.05
) -> V:
    """Poll `condition` until it returns something truthy (returned)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s: {_describe(condition, what)} (last: {value!r})")
        time.sleep(interval)


def stays(
    condition: Callable[[], Any], seconds: float, what: str = "", *, interval: float = 0.05
) -> None:
    """Fail unless `condition` holds on every poll for `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        if not condition():
            pytest.fail(f"stopped holding: {_describe(condition, what)}")
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


async def wait_until(
    condition: Callable[[], V], timeout: float = 2.0, what: str = "", *, interval: float = 0.001
) -> V:
    """`wait_for` for asyncio tests."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s: {_describe(condition, what)} (last: {value!r})")
        await asyncio.sleep(interval)


async def stays_async(
    condition: Callable[[], Any], seconds: float, what: str = "", *, interval: float = 0.01
) -> None:
    """`stays` for asyncio tests."""
    deadline = time.monotonic() + seconds
    while True:
        if not condition():
            pytest.fail(f"stopped holding: {_describe(condition, what)}")
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(interval)


def _describe(condition: Callable[..., Any], what: str) -> str:
    return what or getattr(condition, "__name__", repr(condition))
