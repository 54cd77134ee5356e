"""The protobuf decoder on hand-written bytes: what protoc's Python encoder
never produces (packed scalars, unknown fields, malformed input)."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.machinery import errors
from pinnace.machinery.k8sproto import decode_body
from pinnace.machinery.k8sproto.decode import MAGIC, decode_message, format_go_duration

EXIT_CODES = "k8s.io.api.batch.v1.PodFailurePolicyOnExitCodesRequirement"
LABELS = "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"
RESOURCES = "k8s.io.api.core.v1.ResourceRequirements"


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def field(number: int, wire_type: int, payload: bytes) -> bytes:
    if wire_type == 2:
        payload = varint(len(payload)) + payload
    return varint(number << 3 | wire_type) + payload


def unknown(api_version: str, kind: str, raw: bytes, encoding: str = "") -> bytes:
    type_meta = field(1, 2, api_version.encode()) + field(2, 2, kind.encode())
    body = field(1, 2, type_meta) + field(2, 2, raw)
    if encoding:
        body += field(3, 2, encoding.encode())
    return MAGIC + body


@pytest.mark.parametrize(
    ("message", "data", "expected"),
    [
        pytest.param(
            EXIT_CODES,
            field(3, 2, varint(1) + varint(-2) + varint(300)),
            {"values": [1, -2, 300]},
            id="packed-int32",
        ),
        pytest.param(
            EXIT_CODES,
            field(3, 0, varint(7)) + field(3, 2, varint(8) + varint(9)),
            {"values": [7, 8, 9]},
            id="unpacked-then-packed",
        ),
        pytest.param(
            EXIT_CODES,
            field(99, 2, b"later") + field(98, 5, b"\x00" * 4) + field(1, 2, b"c"),
            {"containerName": "c"},
            id="unknown-fields-skipped",
        ),
        pytest.param(
            LABELS,
            field(1, 2, field(1, 2, b"a") + field(2, 2, b"b")) + field(1, 2, field(1, 2, b"c")),
            {"matchLabels": {"a": "b", "c": ""}},
            id="map-entry-without-value",
        ),
        pytest.param(
            RESOURCES,
            field(1, 2, field(2, 2, field(1, 2, b"1"))) + field(1, 2, field(1, 2, b"cpu")),
            {"limits": {"": "1", "cpu": "0"}},
            id="map-entry-without-key-or-quantity",
        ),
    ],
)
def test_decode_message(message: str, data: bytes, expected: Any) -> None:
    assert decode_message(data, message) == expected


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        pytest.param(0, "0s", id="zero"),
        pytest.param(999, "999ns", id="ns"),
        pytest.param(1500, "1.5µs", id="micro"),
        pytest.param(2_000_000, "2ms", id="milli"),
        pytest.param(3_723_500_000_000, "1h2m3.5s", id="hours"),
        pytest.param(-60 * 10**9, "-1m0s", id="negative"),
    ],
)
def test_format_go_duration(nanos: int, text: str) -> None:
    assert format_go_duration(nanos) == text


@pytest.mark.parametrize(
    ("body", "words"),
    [
        pytest.param(b'{"kind":"Pod"}', "magic", id="json-not-protobuf"),
        pytest.param(unknown("v1", "Nope", b""), "no kind 'Nope'", id="unknown-kind"),
        pytest.param(unknown("v9", "Pod", b""), "no kind 'Pod'", id="unknown-version"),
        pytest.param(unknown("v1", "Pod", b"", "gzip"), "content encoding", id="encoded"),
        pytest.param(
            unknown("v1", "Pod", field(1, 2, b"")[:-1] + b"\x05"), "truncated", id="truncated"
        ),
        pytest.param(unknown("v1", "Pod", b"\x80"), "truncated varint", id="truncated-varint"),
        pytest.param(
            unknown("v1", "Pod", field(1, 0, varint(1))), "length-delimited", id="wrong-wire-type"
        ),
        pytest.param(unknown("v1", "Pod", b"\x0b"), "wire type 3", id="group"),
    ],
)
def test_bad_bodies_are_bad_requests(body: bytes, words: str) -> None:
    with pytest.raises(errors.BadRequest, match=words):
        decode_body(body)
