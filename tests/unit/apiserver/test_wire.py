"""The hand-encoded ListResponse is exactly what protobuf would produce."""

from __future__ import annotations

import pytest
from google.protobuf import any_pb2

from apiserver.wire import list_response, varint
from pinnace.api.core.v1 import pod_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.api.service.v1 import api_pb2

URL = "type.googleapis.com/pinnace.api.core.v1.Pod"


@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 16_383, 16_384, 2**31])
def test_varint_matches_protobuf(n: int) -> None:
    msg = meta_pb2.ListMeta(remaining_item_count=n)
    # field 3 varint: tag byte 0x18 then the varint
    assert msg.SerializeToString() == b"\x18" + varint(n)


@pytest.mark.parametrize(
    "sizes",
    [[], [0], [5], [200], [5, 70_000, 1]],
    ids=["empty", "empty-object", "small", "two-byte-length", "mixed"],
)
def test_list_response_bytes_equal_protobuf(sizes: list[int]) -> None:
    raws = []
    for i, size in enumerate(sizes):
        pod = pod_pb2.Pod()
        pod.metadata.name = f"p{i}"
        pod.metadata.annotations["x"] = "y" * size
        raws.append(pod.SerializeToString())
    meta = meta_pb2.ListMeta(resource_version="42", continue_token="abc")
    expected = api_pb2.ListResponse(
        metadata=meta, items=[any_pb2.Any(type_url=URL, value=r) for r in raws]
    ).SerializeToString()
    assert list_response(meta, URL, raws) == expected
