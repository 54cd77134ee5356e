"""Helpers for SDK tests against a real apiserver: waiting on conditions
with deadlines, and small object builders."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pinnace.machinery import kinds

Predicate = Callable[[], Any]


async def _eventually(predicate: Predicate, timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` (sync or async) until it returns something truthy
    and return that; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(
                f"condition not met within {timeout}s: {getattr(predicate, '__name__', predicate)}"
            )
        await asyncio.sleep(interval)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[Any]]:
    return _eventually


def make_pod(name: str, namespace: str, **labels: str) -> Any:
    pod: Any = kinds.by_resource("pods").new()
    pod.metadata.name = name
    pod.metadata.namespace = namespace
    pod.metadata.labels.update(labels)
    c = pod.spec.containers.add()
    c.name = "main"
    c.image = "busybox"
    c.command.extend(["sleep", "3600"])
    return pod


@pytest.fixture
def pod_factory() -> Callable[..., Any]:
    return make_pod
