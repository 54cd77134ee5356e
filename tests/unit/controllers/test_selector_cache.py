"""SelectorCache: parsed once per (uid, generation); malformed and (for some
kinds) empty selectors select nothing; the owners selecting an object."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from controllers.selectors import SelectorCache
from pinnace.api.apps.v1 import daemonset_pb2
from pinnace.machinery import codec
from pinnace.machinery.labels import Selector, selector_from_label_selector

LOG = logging.getLogger("test")


def owner(name: str, selector: dict, *, generation: int = 1) -> daemonset_pb2.DaemonSet:
    return codec.from_dict(
        daemonset_pb2.DaemonSet,
        {
            "metadata": {
                "name": name,
                "namespace": "ns",
                "uid": f"uid-{name}",
                "generation": generation,
            },
            "spec": {"selector": selector},
        },
    )


class CountingParse:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, obj: Any) -> Selector | None:
        self.calls += 1
        return selector_from_label_selector(obj.spec.selector)


BAD = {"matchExpressions": [{"key": "app", "operator": "Bogus"}]}


@pytest.mark.parametrize(
    ("selector", "empty_selects_nothing", "selects"),
    [
        pytest.param({"matchLabels": {"app": "a"}}, False, True, id="match"),
        pytest.param({"matchLabels": {"app": "b"}}, False, False, id="no-match"),
        pytest.param(BAD, False, False, id="malformed-selects-nothing"),
        pytest.param({}, True, False, id="empty-selects-nothing"),
        pytest.param({}, False, True, id="empty-selects-everything"),
    ],
)
def test_selecting(selector: dict, empty_selects_nothing: bool, selects: bool) -> None:
    cache = SelectorCache(
        CountingParse(), kind="DaemonSet", log=LOG, empty_selects_nothing=empty_selects_nothing
    )
    pod = codec.from_dict(daemonset_pb2.DaemonSet, {"metadata": {"labels": {"app": "a"}}})
    o = owner("o", selector)
    assert cache.selecting([o], pod) == ([o] if selects else [])


def test_parsed_once_per_generation() -> None:
    parse = CountingParse()
    cache = SelectorCache(parse, kind="DaemonSet", log=LOG)
    first = owner("o", {"matchLabels": {"app": "a"}})
    cache.get(first)
    cache.get(first)
    assert parse.calls == 1
    cache.get(owner("o", {"matchLabels": {"app": "b"}}, generation=2))
    assert parse.calls == 2
    cache.forget(first)
    cache.get(first)
    assert parse.calls == 3
