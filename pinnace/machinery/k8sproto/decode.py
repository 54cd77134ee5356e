"""Kubernetes' protobuf encoding of an object, read into its JSON shape.

client-go sends some bodies as ``application/vnd.kubernetes.protobuf``
(kubectl 1.36's ``create deployment``, for one) and does not fall back to
JSON on a 415. Pinnace's own protos number fields differently, so the
body is read with Kubernetes' numbering (schema.py, generated from
generated.proto and the Go types) into the dict that Kubernetes' JSON of
the same object would be; the JSON path then takes it as if JSON came.

The envelope: the magic ``k8s\\x00``, then a runtime.Unknown
``{1: TypeMeta{1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding,
4: contentType}`` whose ``raw`` is the object's message. The kind's
message is ``<package of apiVersion>.<kind>``; the option kinds
(DeleteOptions, ...) are registered in every group version, so a kind
not in the group is looked up in meta.k8s.io/v1 as Kubernetes does.

The JSON shape is encoding/json's of the Go struct decoded from the
bytes: a field absent from the bytes is absent; a present one is written,
except a zero non-pointer scalar tagged omitempty (and anything omitzero),
which Go leaves out (gogo-protobuf writes every non-pointer scalar, so
``metadata.namespace: ""`` arrives and must not come out). Embedded
structs are flattened. Types with their own JSON form:

* Time ``{1 seconds, 2 nanos}``: RFC 3339 in UTC, whole seconds
  (``{1: 1767323045}`` -> "2026-01-02T03:04:05Z"); an empty message is the
  zero time, null. MicroTime the same with six decimals.
* IntOrString ``{1 type, 2 intVal, 3 strVal}``: the int, or the string
  when type is 1.
* Quantity ``{1 string}``: the string ("0" if absent).
* RawExtension ``{1 raw}`` and FieldsV1: the raw bytes parsed as JSON
  (null if empty; an embedded protobuf object decoded in turn).
* Duration ``{1 nanoseconds}``: Go's Duration.String ("1h2m3.5s").
* Verbs ``{1 items}``: the list.

Scalars: int64 as a JSON number (Kubernetes' JSON does too), bytes as
standard base64, repeated scalars packed or not.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pinnace.machinery import errors
from pinnace.machinery.k8sproto.fields import Field
from pinnace.machinery.k8sproto.schema import API_VERSIONS, MESSAGES, SPECIAL
from pinnace.machinery.k8sproto.wire import FIXED32, FIXED64, LENGTH, VARINT, read_varint, records
from pinnace.machinery.timeutil import format_rfc3339

__all__ = ["MAGIC", "MEDIA_TYPE", "decode_body", "decode_message", "format_go_duration"]

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
_UNKNOWN = "k8s.io.apimachinery.pkg.runtime.Unknown"
_META = API_VERSIONS["meta.k8s.io/v1"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO_TIME_SECONDS = -62135596800  # Go's zero time.Time, 0001-01-01T00:00:00Z
_VARINT_KINDS = {"int32", "int64", "uint32", "uint64", "bool"}
_ZEROS: dict[str, Any] = {"string": "", "bytes": "", "bool": False, "double": 0.0, "float": 0.0}
_ZEROS.update(dict.fromkeys(("int32", "int64", "uint32", "uint64"), 0))


def decode_body(body: bytes) -> dict[str, Any]:
    """The object of a protobuf request body as Kubernetes' JSON would be,
    with apiVersion and kind from the envelope. BadRequest if it is not one."""
    if not body.startswith(MAGIC):
        raise errors.BadRequest("protobuf body without the Kubernetes magic prefix")
    envelope = decode_message(body[len(MAGIC) :], _UNKNOWN)
    type_meta = envelope.get("typeMeta") or {}
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    if envelope.get("contentEncoding"):
        raise errors.BadRequest(
            f"protobuf body with content encoding {envelope['contentEncoding']!r}"
        )
    raw = base64.b64decode(envelope.get("raw", ""))
    obj = decode_message(raw, message_of(api_version, kind))
    return {"apiVersion": api_version, "kind": kind, **obj}


def message_of(api_version: str, kind: str) -> str:
    """The full name of the message of a kind (BadRequest if not served)."""
    package = API_VERSIONS.get(api_version)
    for name in (f"{package}.{kind}", f"{_META}.{kind}"):
        if package and name in MESSAGES:
            return name
    raise errors.BadRequest(
        f"no kind {kind!r} is registered for version {api_version!r} in the protobuf decoder"
    )


def decode_message(data: bytes, message: str) -> dict[str, Any]:
    """The JSON fields of one message. The fields that hold special types
    are converted; the message itself is not, even if it is one (Time gives
    {"seconds": ...})."""
    schema = MESSAGES[message]
    out: dict[str, Any] = {}
    for number, wire_type, value in records(data):
        field = schema.get(number)
        if field is None:  # a field newer than the schema: Go skips it too
            continue
        if field.map_key:
            key, item = _map_entry(field, _length(value, field))
            out.setdefault(field.json, {})[key] = item
        elif field.repeated:
            out.setdefault(field.json, []).extend(_repeated(field, wire_type, value))
        elif field.kind == "message" and not field.json:
            out.update(decode_message(_length(value, field), field.message))
        else:
            out[field.json] = _single(field, wire_type, value)
    for field in schema.values():
        if field.omit_zero and field.json in out and _is_zero(out[field.json]):
            del out[field.json]
    return out


def _is_zero(value: Any) -> bool:
    return value is None or (not isinstance(value, list) and value in ("", 0, False, {}))


def _length(value: int | bytes, field: Field) -> bytes:
    if not isinstance(value, bytes):
        raise errors.BadRequest(f"protobuf: field {field.json!r} is not length-delimited")
    return value


def _repeated(field: Field, wire_type: int, value: int | bytes) -> list[Any]:
    """One record of a repeated field: one item, or a packed run of scalars."""
    if wire_type != LENGTH or field.kind not in _VARINT_KINDS:
        return [_single(field, wire_type, value)]
    assert isinstance(value, bytes)
    items, at = [], 0
    while at < len(value):
        number, at = read_varint(value, at)
        items.append(_scalar(field.kind, VARINT, number))
    return items


def _map_entry(field: Field, data: bytes) -> tuple[Any, Any]:
    """A map entry message ``{1: key, 2: value}``; a missing part is its zero."""
    key: Any = _ZEROS.get(field.map_key)
    item: Any = None
    for number, wire_type, value in records(data):
        if number == 1:
            key = _scalar(field.map_key, wire_type, value)
        elif number == 2:
            item = _single(field, wire_type, value)
    if item is None:
        item = _single(field, LENGTH, b"") if field.kind == "message" else _ZEROS.get(field.kind)
    return key, item


def _single(field: Field, wire_type: int, value: int | bytes) -> Any:
    """One value of the field's kind (a special type in its JSON form)."""
    if field.kind != "message":
        return _scalar(field.kind, wire_type, value)
    fields = decode_message(_length(value, field), field.message)
    special = SPECIAL.get(field.message)
    return _SPECIAL[special](fields) if special else fields


def _scalar(kind: str, wire_type: int, value: int | bytes) -> Any:
    if isinstance(value, bytes):
        if kind == "string":
            try:
                return value.decode()
            except UnicodeDecodeError:
                raise errors.BadRequest("protobuf: a string field is not UTF-8") from None
        if kind == "bytes":
            return base64.b64encode(value).decode()
        raise errors.BadRequest(f"protobuf: a {kind} field is length-delimited")
    if kind in ("int32", "int64"):
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind in ("uint32", "uint64"):
        return value
    if kind == "bool":
        return value != 0
    if kind == "double" and wire_type == FIXED64:
        return struct.unpack("<d", value.to_bytes(8, "little"))[0]
    if kind == "float" and wire_type == FIXED32:
        return struct.unpack("<f", value.to_bytes(4, "little"))[0]
    raise errors.BadRequest(f"protobuf: a {kind} field has wire type {wire_type}")


def _time(fields: dict[str, Any], *, micro: bool) -> str | None:
    """Go's metav1.Time/MicroTime JSON: null for the zero time."""
    if not fields:
        return None
    seconds, nanos = fields.get("seconds", 0), fields.get("nanos", 0)
    if seconds == _ZERO_TIME_SECONDS and not nanos:
        return None
    micros = nanos // 1000 if micro else 0
    return format_rfc3339(_EPOCH + timedelta(seconds=seconds, microseconds=micros), micro=micro)


def _int_or_string(fields: dict[str, Any]) -> int | str:
    if fields.get("type", 0) == 1:
        return str(fields.get("strVal", ""))
    return int(fields.get("intVal", 0))


def _raw_json(fields: dict[str, Any]) -> Any:
    """The JSON (or embedded protobuf object) a RawExtension or FieldsV1 holds."""
    raw = base64.b64decode(fields.get("raw") or fields.get("Raw") or "")
    if not raw:
        return None
    if raw.startswith(MAGIC):
        return decode_body(raw)
    try:
        return json.loads(raw)
    except ValueError:
        raise errors.BadRequest("protobuf: an embedded object is not JSON") from None


def format_go_duration(nanos: int) -> str:
    """Go's time.Duration.String of a count of nanoseconds: "1h2m3.5s", "1.5ms", "0s"."""
    if nanos == 0:
        return "0s"
    sign, nanos = ("-" if nanos < 0 else ""), abs(nanos)
    if nanos < 1000:
        return f"{sign}{nanos}ns"
    if nanos < 1_000_000:
        return f"{sign}{_decimal(nanos, 1000)}µs"
    if nanos < 1_000_000_000:
        return f"{sign}{_decimal(nanos, 1_000_000)}ms"
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    text = f"{hours}h" if hours else ""
    text += f"{minutes}m" if hours or minutes else ""
    return f"{sign}{text}{_decimal(rest, 10**9)}s"


def _decimal(value: int, unit: int) -> str:
    whole, fraction = divmod(value, unit)
    digits = str(fraction).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


_SPECIAL: dict[str, Callable[[dict[str, Any]], Any]] = {
    "time": lambda f: _time(f, micro=False),
    "microtime": lambda f: _time(f, micro=True),
    "duration": lambda f: format_go_duration(int(f.get("duration", 0))),
    "rawjson": _raw_json,
    "rawextension": _raw_json,
    "items": lambda f: f.get("items", []),
    "intorstring": _int_or_string,
    "quantity": lambda f: f.get("string", "0"),
}
