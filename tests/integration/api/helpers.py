"""Small helpers shared by the API integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from pinnace.machinery import errors
from tests.waiting import wait_for as wait_for  # re-exported for the tests here

T = TypeVar("T")


async def await_for(
    condition: Callable[[], Awaitable[T]],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str = "",
) -> T:
    """Async wait_for."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")
        await asyncio.sleep(interval)


def gone(get: Callable[[], Any]) -> Callable[[], bool]:
    """A condition: get() raises NotFound."""

    def check() -> bool:
        try:
            get()
        except errors.NotFound:
            return True
        return False

    return check


def assert_subset(expected: Any, actual: Any, path: str = "") -> None:
    """Every key/value of expected is in actual (dicts and lists compared recursively)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for k, v in expected.items():
            assert k in actual, f"{path}.{k} missing from {actual!r}"
            assert_subset(v, actual[k], f"{path}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{path}: expected {len(expected)} items, got {actual!r}"
        )
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_subset(e, a, f"{path}[{i}]")
    else:
        assert expected == actual, f"{path}: expected {expected!r}, got {actual!r}"


def etcd_keys(endpoint: str, prefix: str) -> dict[str, int]:
    """Keys under prefix in etcd with their mod revisions (read directly, not
    through the apiserver), to prove a rejected request wrote nothing."""
    from apiserver.etcd.client import EtcdClient, prefix_range_end

    async def read() -> dict[str, int]:
        etcd = EtcdClient([endpoint])
        try:
            result = await etcd.range(prefix.encode(), prefix_range_end(prefix.encode()))
            return {kv.key.decode(): kv.mod_revision for kv in result.kvs}
        finally:
            await etcd.close()

    return asyncio.run(read())


def expect_error(
    cls: type[errors.ApiError], fn: Callable[[], Any], *, contains: tuple[str, ...] = ()
) -> errors.ApiError:
    """Call fn, expect exactly error class cls with every `contains` text in its message."""
    with pytest.raises(errors.ApiError) as info:
        fn()
    err = info.value
    assert type(err) is cls, f"expected {cls.__name__}, got {type(err).__name__}: {err.message}"
    for text in contains:
        assert text in err.message, f"{text!r} not in {err.message!r}"
    return err
