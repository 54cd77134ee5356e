"""The protobuf wire format, read: enough for Kubernetes' messages.

A message is a sequence of (tag, value) records; the tag is a varint
``field_number << 3 | wire_type``. Wire types: 0 varint, 1 eight bytes
(fixed64/double), 2 length-delimited (bytes, strings, messages, packed
repeated scalars), 5 four bytes (fixed32/float). Groups (3, 4) are
refused: proto2's groups appear nowhere in Kubernetes' protos.
"""

from __future__ import annotations

from collections.abc import Iterator

from pinnace.machinery import errors

__all__ = ["FIXED32", "FIXED64", "LENGTH", "VARINT", "WireError", "read_varint", "records"]

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class WireError(errors.BadRequest):
    """The bytes are not a well-formed protobuf message (400 BadRequest)."""


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    """The unsigned varint at `at` and the offset after it."""
    value = shift = 0
    while True:
        if at >= len(data):
            raise WireError("protobuf: truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift >= 70:
            raise WireError("protobuf: varint longer than ten bytes")


def records(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each record: an int for varint
    and fixed-width records (fixed ones little-endian, unsigned), the bytes
    of a length-delimited one."""
    at = 0
    end = len(data)
    while at < end:
        tag, at = read_varint(data, at)
        number, wire_type = tag >> 3, tag & 7
        if number == 0:
            raise WireError("protobuf: field number 0")
        value: int | bytes
        if wire_type == VARINT:
            value, at = read_varint(data, at)
        elif wire_type in (FIXED64, FIXED32):
            width = 8 if wire_type == FIXED64 else 4
            if at + width > end:
                raise WireError("protobuf: truncated fixed-width field")
            value = int.from_bytes(data[at : at + width], "little")
            at += width
        elif wire_type == LENGTH:
            length, at = read_varint(data, at)
            if at + length > end:
                raise WireError("protobuf: truncated length-delimited field")
            value = data[at : at + length]
            at += length
        else:
            raise WireError(f"protobuf: unsupported wire type {wire_type}")
        yield number, wire_type, value
