"""The event spam filter (client-go's EventSourceObjectSpamFilter): a token
bucket of 25 events per involved object, refilled at one per 300 s."""

from __future__ import annotations

from typing import Any, cast

import pytest

from pinnace.api.core.v1 import pod_pb2
from pinnace.client.aio import AsyncClient
from pinnace.client.events import SPAM_BURST, EventRecorder, SpamFilter
from pinnace.client.fake import FakeClient
from pinnace.machinery.timeutil import FakeClock


@pytest.mark.parametrize(
    ("times", "allowed"),
    [
        pytest.param([0.0] * 3, [True] * 3, id="within-burst"),
        pytest.param([0.0] * 4, [True, True, True, False], id="burst-spent"),
        pytest.param([0.0, 0.0, 0.0, 0.0, 10.0], [True] * 3 + [False, True], id="refilled"),
        pytest.param([0.0] * 3 + [5.0, 5.0], [True] * 3 + [False, False], id="half-token"),
        pytest.param([0.0] * 3 + [100.0] * 4, [True] * 6 + [False], id="refill-capped"),
    ],
)
def test_spam_filter_bucket(times: list[float], allowed: list[bool]) -> None:
    spam = SpamFilter(burst=3, qps=0.1)
    assert [spam.allow(("pod", "a"), t) for t in times] == allowed


def test_spam_filter_keys_are_separate_and_least_recent_forgotten() -> None:
    spam = SpamFilter(burst=1, qps=0.0, size=2)
    assert spam.allow(("a",), 0) and spam.allow(("b",), 0)
    assert not spam.allow(("a",), 0)  # "a" spent, and now most recently used
    assert spam.allow(("c",), 0)  # forgets "b", the least recently used
    assert spam.allow(("b",), 0)  # a new bucket for "b" (forgets "a")
    assert spam.allow(("a",), 0)


def _pod(name: str, uid: str) -> pod_pb2.Pod:
    pod = pod_pb2.Pod()
    pod.metadata.name, pod.metadata.namespace, pod.metadata.uid = name, "default", uid
    return pod


def test_recorder_drops_events_beyond_the_burst_per_object() -> None:
    clock = FakeClock()
    client = cast(AsyncClient, cast(Any, FakeClient()))
    rec = EventRecorder(client, "test", clock=clock, queue_size=100)
    a, b = _pod("a", "uid-a"), _pod("b", "uid-b")
    for i in range(SPAM_BURST + 5):
        rec.event(a, "Normal", "SuccessfulCreate", f"Created pod: a-{i}")
    rec.event(b, "Normal", "SuccessfulCreate", "Created pod: b-0")  # another object
    assert rec.filtered == 5
    clock.advance(300)
    rec.event(a, "Normal", "SuccessfulCreate", "Created pod: a-late")  # one token back
    rec.event(a, "Normal", "SuccessfulCreate", "Created pod: a-later")
    assert rec.filtered == 6
    assert rec.dropped == 0
