"""The shared wait helpers (tests/waiting.py): they return or fail the test,
naming what was awaited."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tests.waiting import stays, stays_async, wait_for, wait_until


def counter(true_from: int) -> Callable[[], Any]:
    """A condition that is falsy for its first `true_from` calls, then the call count."""
    calls = itertools.count(1)

    def condition() -> Any:
        n = next(calls)
        return n if n > true_from else 0

    return condition


@pytest.mark.parametrize(
    ("true_from", "want"),
    [pytest.param(0, 1, id="at-once"), pytest.param(3, 4, id="after-polls")],
)
async def test_waits_return_the_truthy_value(true_from: int, want: int) -> None:
    assert wait_for(counter(true_from), 5, interval=0) == want
    assert await wait_until(counter(true_from), 5, interval=0) == want


async def test_waits_fail_naming_what_after_the_deadline() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"not within 0s: the pod \(last: 0\)"):
        wait_for(lambda: 0, 0, "the pod", interval=0)
    with pytest.raises(pytest.fail.Exception, match=r"not within 0s: the pod \(last: ''\)"):
        await wait_until(lambda: "", 0, "the pod", interval=0)


async def test_stays_fails_when_the_condition_stops_holding() -> None:
    stays(lambda: True, 0, "fine")
    await stays_async(lambda: True, 0, "fine")
    with pytest.raises(pytest.fail.Exception, match="stopped holding: 3 pods"):
        stays(lambda: False, 5, "3 pods")
    with pytest.raises(pytest.fail.Exception, match="stopped holding: 3 pods"):
        await stays_async(lambda: False, 5, "3 pods")


def test_not_yet_exceptions_count_as_falsy() -> None:
    answers = iter([KeyError("gone"), KeyError("gone"), "found"])

    def condition() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_for(condition, 5, "replaced object", interval=0, not_yet=(KeyError,)) == "found"


def test_other_exceptions_still_fail() -> None:
    def condition() -> str:
        raise ValueError("broken")

    with pytest.raises(ValueError):
        wait_for(condition, 5, interval=0, not_yet=(KeyError,))
