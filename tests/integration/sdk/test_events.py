"""EventRecorder against a real apiserver: what an Event holds, aggregation
of identical events, events_for, and dropping when the queue is full."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pinnace.client import AsyncClient
from pinnace.client.events import EventRecorder, events_for
from pinnace.machinery import kinds
from pinnace.machinery.timeutil import parse_rfc3339


@pytest.fixture
async def recorder(aclient: AsyncClient) -> AsyncIterator[EventRecorder]:
    rec = EventRecorder(aclient, "test-controller", host="host-1")
    rec.start()
    yield rec
    await rec.stop()


async def test_event_names_the_involved_object(
    aclient: AsyncClient, namespace: str, pod_factory: Callable, recorder: EventRecorder
) -> None:
    pod = await aclient.pods(namespace).create(pod_factory("web-0", namespace))
    recorder.event(pod, "Warning", "FailedMount", "volume data is not ready")
    await recorder.flush(5)

    [ev] = await events_for(aclient, pod)
    assert re.fullmatch(r"web-0\.[0-9a-f]{16}", ev.metadata.name)
    assert ev.metadata.namespace == namespace
    io = ev.involved_object
    assert (io.kind, io.api_version, io.name, io.namespace) == ("Pod", "v1", "web-0", namespace)
    assert (io.uid, io.resource_version) == (pod.metadata.uid, pod.metadata.resource_version)
    assert (ev.type, ev.reason, ev.message) == (
        "Warning",
        "FailedMount",
        "volume data is not ready",
    )
    assert (ev.source.component, ev.source.host) == ("test-controller", "host-1")
    assert (ev.reporting_component, ev.reporting_instance) == ("test-controller", "host-1")
    assert ev.count == 1
    assert ev.first_timestamp == ev.last_timestamp
    parse_rfc3339(ev.first_timestamp)


async def test_identical_events_aggregate(
    aclient: AsyncClient, namespace: str, pod_factory: Callable, recorder: EventRecorder
) -> None:
    pod = await aclient.pods(namespace).create(pod_factory("p", namespace))
    recorder.event(pod, "Normal", "Pulled", "image pulled")
    recorder.event(pod, "Normal", "Pulled", "image pulled")
    recorder.event(pod, "Normal", "Started", "container started")
    await recorder.flush(5)

    evs = await events_for(aclient, pod)
    by_reason = {e.reason: e for e in evs}
    assert len(evs) == 2 and set(by_reason) == {"Pulled", "Started"}
    pulled = by_reason["Pulled"]
    assert pulled.count == 2
    assert parse_rfc3339(pulled.last_timestamp) >= parse_rfc3339(pulled.first_timestamp)
    assert by_reason["Started"].count == 1

    # The aggregated Event was deleted meanwhile: the next one is new again.
    await aclient.events(namespace).delete(pulled.metadata.name)
    recorder.event(pod, "Normal", "Pulled", "image pulled")
    await recorder.flush(5)
    again = [e for e in await events_for(aclient, pod) if e.reason == "Pulled"]
    assert [e.count for e in again] == [1]
    assert again[0].metadata.name != pulled.metadata.name


async def test_cluster_scoped_objects_get_events_in_default(
    aclient: AsyncClient, recorder: EventRecorder
) -> None:
    node: Any = kinds.by_resource("nodes").new()
    node.metadata.name = f"node-{uuid.uuid4().hex[:8]}"
    node = await aclient.nodes().create(node)
    try:
        recorder.event(node, "Normal", "NodeReady", "node is ready")
        await recorder.flush(5)
        [ev] = await events_for(aclient, node)
        assert ev.metadata.namespace == "default"
        assert (ev.involved_object.kind, ev.involved_object.namespace) == ("Node", "")
        await aclient.events("default").delete(ev.metadata.name)
    finally:
        await aclient.nodes().delete(node.metadata.name)


async def test_full_queue_drops_with_a_warning(
    aclient: AsyncClient, pod_factory: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    """event() never blocks: past the queue's size, events are dropped."""
    rec = EventRecorder(aclient, "test", queue_size=2)  # not started: nothing drains
    pod = pod_factory("p", "default")
    with caplog.at_level(logging.WARNING, logger="pinnace.client.events"):
        for i in range(3):
            rec.event(pod, "Normal", "Tick", f"tick {i}")
    assert rec.dropped == 1
    assert "event queue full (2); dropping Normal event Tick" in caplog.text
    with pytest.raises(ValueError, match="Normal"):
        rec.event(pod, "Info", "Tick", "bad type")
