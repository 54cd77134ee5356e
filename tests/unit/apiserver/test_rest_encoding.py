"""The REST front door's pre-encoded JSON is exactly what dumping the dicts gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf.message import Message

from apiserver.rest.encoding import ObjectEncoder
from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import namespace_pb2, pod_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec, kinds
from pinnace.machinery.kinds import KindInfo


def dumped(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def as_served(info: KindInfo, obj: Message) -> dict[str, Any]:
    return {"apiVersion": info.api_version, "kind": info.kind, **codec.to_dict(obj)}


def pod(name: str, note: str = "x", rv: str = "5") -> bytes:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {
                "name": name,
                "namespace": "default",
                "resourceVersion": rv,
                "labels": {"app": "web"},
                "annotations": {"note": note},
            },
            "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sleep"]}]},
        },
    ).SerializeToString()


OBJECTS = {
    "pods": [pod("a"), pod("b", 'ünïcode ✓ "quoted" \\ </script>\n'), pod("c", "", "9")],
    "deployments.apps": [
        codec.from_dict(
            deployment_pb2.Deployment,
            {
                "metadata": {"name": "d", "namespace": "default", "resourceVersion": "3"},
                "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "d"}}},
            },
        ).SerializeToString()
    ],
    "namespaces": [namespace_pb2.Namespace(metadata={"name": "n"}).SerializeToString()],
}


@pytest.mark.parametrize(
    ("resource", "count", "continue_token"),
    [
        ("pods", 3, ""),
        ("pods", 0, ""),
        ("pods", 2, "eyJydiI6NX0"),
        ("deployments.apps", 1, ""),
        ("namespaces", 1, ""),
    ],
    ids=["pods", "empty", "continue", "deployments", "namespaces"],
)
def test_list_body_equals_dumped_list(resource: str, count: int, continue_token: str) -> None:
    info = kinds.by_resource(resource)
    raws = OBJECTS[resource][:count]
    lm = meta_pb2.ListMeta(resource_version="42", continue_token=continue_token)
    meta: dict[str, Any] = {"resourceVersion": "42"}
    if continue_token:
        meta["continue"] = continue_token
    expected = {
        "apiVersion": info.api_version,
        "kind": f"{info.kind}List",
        "metadata": meta,
        "items": [as_served(info, info.message_class.FromString(r)) for r in raws],
    }
    encoder = ObjectEncoder()
    assert encoder.list_body(info, raws, lm) == dumped(expected)
    # A second list is served from the cache, byte for byte the same.
    assert encoder.list_body(info, raws, lm) == dumped(expected)
    assert len(encoder) == count


@pytest.mark.parametrize("event_type", ["ADDED", "MODIFIED", "DELETED"])
def test_watch_line_equals_dumped_event(event_type: str) -> None:
    info = kinds.by_resource("pods")
    raw = OBJECTS["pods"][1]
    obj = as_served(info, pod_pb2.Pod.FromString(raw))
    line = ObjectEncoder().watch_line(info, event_type, raw)
    assert line == dumped({"type": event_type, "object": obj}) + b"\n"


def test_each_version_is_encoded_once_and_kinds_are_apart() -> None:
    encoder = ObjectEncoder()
    pods, namespaces = kinds.by_resource("pods"), kinds.by_resource("namespaces")
    first = encoder.encode(pods, OBJECTS["pods"][0])
    assert encoder.encode(pods, OBJECTS["pods"][0]) is first
    # A new version (other bytes) is encoded anew.
    newer = encoder.encode(pods, pod("a", rv="6"))
    assert newer != first and b'"resourceVersion":"6"' in newer
    encoder.encode(namespaces, OBJECTS["namespaces"][0])
    assert len(encoder) == 3


def test_least_recently_used_dropped_beyond_budget() -> None:
    info = kinds.by_resource("pods")
    raws = [pod(f"p{i}") for i in range(4)]
    size = len(ObjectEncoder().encode(info, raws[0]))
    encoder = ObjectEncoder(budget=3 * size + size // 2)
    for raw in raws[:3]:
        encoder.encode(info, raw)
    first = encoder.encode(info, raws[0])  # now the most recently used
    encoder.encode(info, raws[3])  # drops raws[1], the least recently used
    assert len(encoder) == 3 and encoder.size <= encoder.budget
    assert encoder.encode(info, raws[0]) is first
    assert ObjectEncoder(budget=size - 1).encode(info, raws[0]) == first  # too big: not kept
