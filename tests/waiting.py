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
    condition: Callable[[], V],
    timeout: float = 10.0,
    what: str = "",
    *,
    interval: float = 0.05,
    not_yet: tuple[type[Exception], ...] = (),
) -> V:
    """Poll `condition` until it returns something truthy (returned). An
    exception of a `not_yet` type (say NotFound, for an object that is being
    replaced) counts as a falsy answer, not a failure."""
    deadline = time.monotonic() + timeout
    polled = _tolerating(condition, not_yet) if not_yet else condition
    while (value := _waited(polled, deadline, timeout, what)) is _AGAIN:
        time.sleep(interval)
    return value  # type: ignore[return-value]  # _AGAIN was ruled out


def stays(
    condition: Callable[[], Any], seconds: float, what: str = "", *, interval: float = 0.05
) -> None:
    """Fail unless `condition` holds on every poll for `seconds`."""
    deadline = time.monotonic() + seconds
    while not _observed(condition, deadline, what):
        time.sleep(interval)


async def wait_until(
    condition: Callable[[], V], timeout: float = 2.0, what: str = "", *, interval: float = 0.001
) -> V:
    """`wait_for` for asyncio tests."""
    deadline = time.monotonic() + timeout
    # Polling: a test's condition spans objects that have no event to wait on.
    while (value := _waited(condition, deadline, timeout, what)) is _AGAIN:  # noqa: ASYNC110
        await asyncio.sleep(interval)
    return value  # type: ignore[return-value]  # _AGAIN was ruled out


async def stays_async(
    condition: Callable[[], Any], seconds: float, what: str = "", *, interval: float = 0.01
) -> None:
    """`stays` for asyncio tests."""
    deadline = time.monotonic() + seconds
    while not _observed(condition, deadline, what):  # noqa: ASYNC110 (as in wait_until)
        await asyncio.sleep(interval)


_AGAIN = object()


def _tolerating(
    condition: Callable[[], V], errors: tuple[type[Exception], ...]
) -> Callable[[], V | None]:
    def polled() -> V | None:
        try:
            return condition()
        except errors:
            return None

    polled.__name__ = _describe(condition, "")
    return polled


def _waited(condition: Callable[[], V], deadline: float, timeout: float, what: str) -> V | object:
    """One poll of a wait: the truthy value, or _AGAIN; fails past the deadline."""
    value = condition()
    if value:
        return value
    if time.monotonic() > deadline:
        pytest.fail(f"not within {timeout}s: {_describe(condition, what)} (last: {value!r})")
    return _AGAIN


def _observed(condition: Callable[[], Any], deadline: float, what: str) -> bool:
    """One poll of an observation: fails if the condition broke; True once it is over."""
    if not condition():
        pytest.fail(f"stopped holding: {_describe(condition, what)}")
    return time.monotonic() >= deadline


def _describe(condition: Callable[..., Any], what: str) -> str:
    return what or getattr(condition, "__name__", repr(condition))
