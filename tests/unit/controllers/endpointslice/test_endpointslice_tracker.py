"""The EndpointSlice controller's tracker of its own writes (stale cache guard)."""

from __future__ import annotations

from controllers.endpointslice.tracker import TTL, SliceTracker
from pinnace.api.discovery.v1 import endpointslice_pb2 as es_pb2


def es(name: str, rv: int) -> es_pb2.EndpointSlice:
    out = es_pb2.EndpointSlice()
    out.metadata.name = name
    out.metadata.resource_version = str(rv)
    return out


def test_written_slice_stale_until_cache_has_it() -> None:
    now = [0.0]
    t = SliceTracker(clock=lambda: now[0])
    t.wrote("ns/web", es("web-1", 10))
    assert t.stale("ns/web", [])  # created, not seen yet
    assert t.stale("ns/web", [es("web-1", 9)])  # an older version
    assert not t.stale("ns/web", [es("web-1", 10)])
    assert not t.stale("ns/web", [])  # caught up once: the entry is gone
    assert not t.stale("ns/other", [])


def test_deleted_slice_stale_while_cached() -> None:
    t = SliceTracker(clock=lambda: 0.0)
    t.deleted("ns/web", "web-1")
    assert t.stale("ns/web", [es("web-1", 10)])
    assert not t.stale("ns/web", [])


def test_observed_delete_forget_and_ttl_release() -> None:
    now = [0.0]
    t = SliceTracker(clock=lambda: now[0])
    t.wrote("ns/web", es("web-1", 10))
    t.delete_observed("ns/web", "web-1")  # e.g. garbage collected before we saw it
    assert not t.stale("ns/web", [])
    t.wrote("ns/web", es("web-2", 11))
    t.forget("ns/web")
    assert not t.stale("ns/web", [])
    t.wrote("ns/web", es("web-3", 12))
    now[0] = TTL + 1  # a lost event stalls a Service no longer than the TTL
    assert not t.stale("ns/web", [])
