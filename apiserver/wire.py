"""Hand-encoded protobuf for the one hot response: a list.

A LIST of 10,000 pods would otherwise build 10,000 ``Any`` messages and
serialize them again, although the watch cache already holds every object's
wire bytes. ``list_response`` writes the ``ListResponse`` encoding directly
(field 1: ListMeta; field 2, repeated: Any{type_url, value}) by joining those
bytes, which is byte-for-byte what ``ListResponse.SerializeToString`` gives.
"""

from __future__ import annotations

from collections.abc import Iterable

from pinnace.api.meta.v1 import meta_pb2

_LEN_FIELD_1 = b"\x0a"  # field 1, wire type 2 (length-delimited)
_LEN_FIELD_2 = b"\x12"  # field 2, wire type 2


def varint(n: int) -> bytes:
    """Protobuf base-128 varint of a non-negative int."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def list_response(metadata: meta_pb2.ListMeta, type_url: str, items: Iterable[bytes]) -> bytes:
    """The serialized ListResponse of these already-serialized objects."""
    head = metadata.SerializeToString()
    url = type_url.encode()
    url_part = _LEN_FIELD_1 + varint(len(url)) + url
    parts = [_LEN_FIELD_1, varint(len(head)), head]
    for raw in items:
        value_len = varint(len(raw))
        any_len = len(url_part) + 1 + len(value_len) + len(raw)
        parts += (_LEN_FIELD_2, varint(any_len), url_part, _LEN_FIELD_2, value_len, raw)
    return b"".join(parts)
