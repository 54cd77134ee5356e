"""Kubernetes-shaped dicts, JSON and YAML <-> Pinnace protobuf messages.

Descriptor-driven, not `google.protobuf.json_format`: that prints int64 as
strings and knows nothing of IntOrString. One plan per message descriptor
(json name -> field, encoder, decoder) is built on first use and cached.

Guarantees of `to_dict` (what `-o yaml`/`-o json` print):

* Keys are the fields' JSON names, in descriptor order; map keys are sorted.
* A zero field is written or left out as kube-apiserver does, field by
  field: the rule of its Go field in k8s.io/api (`omitempty.RULES`,
  generated from Kubernetes' types). A scalar without ``omitempty`` is
  written at its zero (``exitCode: 0``, ``ready: false``); a Go struct
  that is not a pointer is written even when empty (``lastState: {}``);
  an unset metav1.Time, and a list or map without ``omitempty``, is
  ``null`` (``lastProbeTime: null``); an unset Quantity without a pointer
  is ``"0"``. Every other unset or empty field is left out (proto3 scalars
  at their default, empty lists and maps, unset sub-messages), as are all
  zero fields of messages the table does not know. Fields with presence
  (`optional`, oneof members) are written whenever set, even as 0, false
  or "". A sub-message that is set but empty is written as ``{}``.
  So an object as kube-apiserver prints it reads back and prints the same.
* int64/uint64 are JSON numbers (Python ints); bytes are base64; enums are
  their names; IntOrString is a bare int or str; google.protobuf
  Struct/Value/ListValue are plain JSON values, and so is a FieldsV1 (its
  raw JSON text parsed).

Guarantees of `from_dict` (loading manifests):

* Strict: only JSON names are accepted; an unknown field, a wrong type, an
  out-of-range or fractional integer, a non-bool for a bool is an error.
  All errors are collected and raised together as one `CodecError`, each
  with its full path (``spec.template.spec.containers[0].image``).
* ``null`` means "unset" (except for a google.protobuf.Value field, where
  it is the null value). So does the printed zero of a field Kubernetes
  always writes (``lastState: {}``, ``port: 0``, ``divisor: "0"``): in Go
  such a field is no pointer and cannot be "set but zero", and so
  ``from_dict(to_dict(m)) == m``. A string of digits given for an IntOrString stays a
  string ("1" is not 1), as in Kubernetes.
* YAML conveniences: a datetime/date (PyYAML's reading of an unquoted
  timestamp) given for a string field becomes RFC 3339 UTC text; a number
  given for a quantity (the map fields in `QUANTITY_MAP_FIELDS` and string
  fields in `QUANTITY_STRING_FIELDS`, e.g. ``cpu: 1``, ``cpu: 0.5``) becomes
  its decimal text ("1", "0.5"). Nowhere else is a number a string.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import yaml
from google.protobuf import message_factory, struct_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from pinnace.api.meta.v1 import meta_pb2

from . import omitempty
from .timeutil import format_rfc3339

__all__ = [
    "JSON_MESSAGES",
    "QUANTITY_MAP_FIELDS",
    "QUANTITY_STRING_FIELDS",
    "CodecError",
    "FieldError",
    "canonicalize",
    "from_dict",
    "from_json",
    "from_yaml",
    "to_dict",
    "to_json",
    "to_yaml",
]

M = TypeVar("M", bound=Message)

# JSON names of map<string, string> fields whose values are quantities.
QUANTITY_MAP_FIELDS = frozenset({"requests", "limits", "capacity", "allocatable"})
# JSON names of string fields that hold a quantity.
QUANTITY_STRING_FIELDS = frozenset({"sizeLimit", "divisor"})

_INT_OR_STRING = "pinnace.api.meta.v1.IntOrString"
_STRUCT = "google.protobuf.Struct"
_VALUE = "google.protobuf.Value"
_LIST_VALUE = "google.protobuf.ListValue"
_FIELDS_V1 = "pinnace.api.meta.v1.FieldsV1"
# Messages whose JSON form is a free-form JSON value, not an object of their
# proto fields: no field schema, merge key or patch strategy applies inside.
JSON_MESSAGES = frozenset({_STRUCT, _VALUE, _LIST_VALUE, _FIELDS_V1})


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem at one path of the input."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class CodecError(ValueError):
    """Every problem found in one input; `str()` lists them all, one a line."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


# ------------------------------------------------------------------ public API


def to_dict(msg: Message) -> dict[str, Any]:
    """The Kubernetes-shaped dict of `msg` (see the module docstring)."""
    return _plan(_descriptor(msg)).encode(msg)


def from_dict(cls_or_msg: type[M] | M, data: Mapping[str, Any], *, path: str = "") -> M:
    """A message of the given class built from `data`; raises CodecError.

    Given a message instance instead of a class, the decoded fields are merged
    into it (like `Message.MergeFrom`) and the instance is returned.
    `path` prefixes every error path (e.g. "spec" when decoding a spec alone).
    """
    if isinstance(cls_or_msg, type):
        cls, into = cls_or_msg, None
    else:
        cls, into = type(cls_or_msg), cls_or_msg
    plan = _plan(_descriptor(cls))
    errors: list[FieldError] = []
    value = plan.decode(data, path, errors)
    if errors:
        raise CodecError(errors)
    # Decoded messages are constructor kwargs; the special types (Struct,
    # Value, ListValue) decode to a message of their own class.
    built = value if isinstance(value, cls) else cls(**value)
    if into is None:
        return built
    into.MergeFrom(built)
    return into


def to_json(msg: Message) -> str:
    """Compact JSON of `to_dict(msg)`."""
    return json.dumps(to_dict(msg), separators=(",", ":"), ensure_ascii=False)


def from_json(cls: type[M], text: str | bytes) -> M:
    """Parse JSON text into a `cls`; malformed JSON is a CodecError too."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CodecError([FieldError("", f"invalid JSON: {exc}")]) from None
    return from_dict(cls, data)


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def to_yaml(msg: Message) -> str:
    """Block-style YAML of `to_dict(msg)`, keys in field order; number-like
    strings stay quoted ("1", "true"), so the output reads back identically."""
    return yaml.dump(
        to_dict(msg), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )


def from_yaml(cls: type[M], text: str | bytes) -> M:
    """Parse one YAML document into a `cls`; malformed YAML is a CodecError too."""
    try:
        data = yaml.load(text, Loader=_Loader)  # a safe loader: plain data only
    except yaml.YAMLError as exc:
        raise CodecError([FieldError("", f"invalid YAML: {exc}")]) from None
    return from_dict(cls, data)


# ----------------------------------------------------------------------- plans

_Encoder = Callable[[Any], Any]
# A decoder gets (value, path, errors) and returns the decoded value, or
# _BAD after appending to errors. Decoded messages are constructor kwargs.
_Decoder = Callable[[Any, str, list[FieldError]], Any]
_BAD: Any = object()


@dataclass(slots=True)
class _Field:
    name: str  # proto name, the constructor keyword
    json_name: str
    position: int  # index in descriptor order
    oneof: str | None
    encode: _Encoder | None  # None: the value is already JSON-ready
    decode: _Decoder
    null_is_value: bool  # a google.protobuf.Value field: JSON null is a value, not "unset"
    has_presence: bool  # a sub-message, `optional` or oneof member: set even at its zero
    # A field Kubernetes always writes (no presence in Go): True for a decoded
    # value that is its zero form, which reads back as unset. None: no such test.
    is_zero: Callable[[Any], bool] | None


class _Plan:
    """How to encode and decode one message type."""

    def __init__(self, descriptor: Descriptor) -> None:
        self.descriptor = descriptor
        self.full_name = descriptor.full_name
        self.by_number: dict[int, _Field] = {}
        self.by_json: dict[str, _Field] = {}
        self.by_name: dict[str, _Field] = {}
        self.by_folded: dict[str, str] = {}  # folded name -> json name, for hints
        self.in_number_order = True
        # Fields written even when unset (json name, maker of the zero form),
        # in descriptor order, and every json name in that order.
        self.always: tuple[tuple[str, Callable[[], Any]], ...] = ()
        self.order: tuple[str, ...] = ()
        self.encode: Callable[[Message], Any] = self._encode_fields
        self.decode: _Decoder = self._decode_fields

    def build(self) -> None:
        special = _SPECIALS.get(self.full_name)
        if special is not None:
            self.encode, self.decode = special
            return
        numbers = []
        rules = omitempty.RULES.get(self.full_name, {})
        always = []
        for position, fd in enumerate(self.descriptor.fields):
            oneof = fd.containing_oneof
            rule = rules.get(fd.json_name, omitempty.OMIT)
            entry = _Field(
                name=fd.name,
                json_name=fd.json_name,
                position=position,
                oneof=oneof.name if oneof is not None and not _is_synthetic(oneof) else None,
                encode=_field_encoder(fd),
                decode=_field_decoder(fd),
                null_is_value=_is_value_field(fd),
                has_presence=fd.has_presence,
                is_zero=None if rule == omitempty.OMIT else _zero_test(fd, rule),
            )
            self.by_number[fd.number] = entry
            self.by_json[fd.json_name] = entry
            self.by_name[fd.name] = entry
            self.by_folded[_fold(fd.json_name)] = fd.json_name
            numbers.append(fd.number)
            if rule != omitempty.OMIT:
                always.append((fd.json_name, _zero_maker(fd, rule)))
        self.in_number_order = numbers == sorted(numbers)
        if always:
            self.always = tuple(always)
            self.order = tuple(fd.json_name for fd in self.descriptor.fields)
            self.encode = self._encode_with_zeros

    def is_empty(self, kwargs: Mapping[str, Any]) -> bool:
        """Whether decoded constructor kwargs make a message with no field set."""
        by_name = self.by_name
        return not any(value or by_name[name].has_presence for name, value in kwargs.items())

    def _encode_fields(self, msg: Message) -> dict[str, Any]:
        out: dict[str, Any] = {}
        by_number = self.by_number
        listed = msg.ListFields()
        if not self.in_number_order:
            listed = sorted(listed, key=lambda item: by_number[item[0].number].position)
        for fd, value in listed:
            entry = by_number.get(fd.number)
            if entry is None:  # an extension: not part of the Kubernetes shape
                continue
            out[entry.json_name] = value if entry.encode is None else entry.encode(value)
        return out

    def _encode_with_zeros(self, msg: Message) -> dict[str, Any]:
        out = self._encode_fields(msg)
        added = False
        for json_name, zero in self.always:
            if json_name not in out:
                out[json_name] = zero()
                added = True
        if not added:
            return out
        return {name: out[name] for name in self.order if name in out}

    def _decode_fields(self, data: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(data, Mapping):
            errors.append(FieldError(path, f"expected an object, got {_describe(data)}"))
            return _BAD
        kwargs: dict[str, Any] = {}
        oneofs: dict[str, str] = {}
        by_json = self.by_json
        for key, value in data.items():
            entry = by_json.get(key)
            if entry is None:
                errors.append(FieldError(_join(path, key), self._unknown(key)))
                continue
            if value is None and not entry.null_is_value:
                continue
            field_path = f"{path}.{key}" if path else key
            decoded = entry.decode(value, field_path, errors)
            if decoded is _BAD or (entry.is_zero is not None and entry.is_zero(decoded)):
                continue
            if entry.oneof is not None:
                other = oneofs.setdefault(entry.oneof, key)
                if other != key:
                    errors.append(
                        FieldError(
                            field_path, f'may not be set together with "{other}" (only one of them)'
                        )
                    )
                    continue
            kwargs[entry.name] = decoded
        return kwargs

    def _unknown(self, key: Any) -> str:
        text = f'unknown field "{key}"'
        hint = self.by_folded.get(_fold(key)) if isinstance(key, str) else None
        return f'{text}, did you mean "{hint}"?' if hint else text


_PLANS: dict[str, _Plan] = {}


def canonicalize(msg: Message) -> None:
    """Clear, in place and at any depth, each sub-message that is set but
    empty where Kubernetes has a non-pointer struct (rule ZERO).

    Go cannot tell "set but empty" from "unset" for such a struct, and
    JSON does not either: both print as ``{}`` and read back as unset. A
    protobuf message can (``Container(resources=ResourceRequirements())``
    from the SDK). The apiserver stores every object in this form, so the
    same object arriving by gRPC or by JSON is the same bytes, and a JSON
    patch that changes nothing bumps no generation and rolls out nothing.

    It runs on every write, so what each field calls for is worked out once
    per message type (``_canon_plan``): a pod's 17 set message fields cost
    one dict lookup each instead of descriptor checks (~27 -> ~9 us)."""
    plan = _CANON_PLANS.get(msg.DESCRIPTOR.full_name)
    if plan is None:
        plan = _canon_plan(_descriptor(msg))
    for fd, value in msg.ListFields():
        action = plan.get(fd.number)
        if action is None:
            continue
        if action == _CANON_MAP:
            for item in value.values():
                canonicalize(item)
        elif action == _CANON_REPEATED:
            for item in value:
                canonicalize(item)
        else:
            canonicalize(value)
            if action == _CANON_CLEAR_EMPTY and not value.ListFields():
                msg.ClearField(fd.name)


# What canonicalize does with a set field (absent from a plan: nothing).
_CANON_MAP = 1  # a map with message values: each value
_CANON_REPEATED = 2  # a repeated message: each element
_CANON_SINGLE = 3  # a singular message: recurse
_CANON_CLEAR_EMPTY = 4  # a singular non-pointer struct: recurse, then clear if empty


_CANON_PLANS: dict[str, dict[int, int]] = {}


def _canon_plan(descriptor: Descriptor) -> dict[int, int]:
    """canonicalize's action per field number of a message type, kept in
    _CANON_PLANS; fields not listed are left alone (scalars, maps of
    scalars, _OPAQUE messages)."""
    clear = _empty_struct_fields(descriptor)
    plan: dict[int, int] = {}
    for fd in descriptor.fields:
        if fd.type != FieldDescriptor.TYPE_MESSAGE or _message_type(fd).full_name in _OPAQUE:
            continue
        if _is_map(fd):
            value_fd = _message_type(fd).fields_by_name["value"]
            if value_fd.type == FieldDescriptor.TYPE_MESSAGE:
                plan[fd.number] = _CANON_MAP
        elif fd.is_repeated:
            plan[fd.number] = _CANON_REPEATED
        else:
            plan[fd.number] = _CANON_CLEAR_EMPTY if fd.name in clear else _CANON_SINGLE
    _CANON_PLANS[descriptor.full_name] = plan
    return plan


# Messages canonicalize leaves alone: JSON-like values with no Go struct.
_OPAQUE = frozenset({_STRUCT, _VALUE, _LIST_VALUE})


@functools.cache
def _empty_struct_fields(descriptor: Descriptor) -> frozenset[str]:
    """Names of the singular message fields Kubernetes always writes."""
    rules = omitempty.RULES.get(descriptor.full_name, {})
    return frozenset(
        fd.name
        for fd in descriptor.fields
        if fd.type == FieldDescriptor.TYPE_MESSAGE
        and not fd.is_repeated
        and rules.get(fd.json_name) == omitempty.ZERO
    )


def _plan(descriptor: Descriptor) -> _Plan:
    plan = _PLANS.get(descriptor.full_name)
    if plan is None:
        plan = _Plan(descriptor)
        _PLANS[descriptor.full_name] = plan  # before build: messages may recurse
        plan.build()
    return plan


def _descriptor(msg: Message | type[Message]) -> Descriptor:
    """msg's message descriptor. The stubs type ``Message.DESCRIPTOR`` as the
    pure-Python class or the C (upb) one; ``Descriptor`` is both at run time
    (its metaclass accepts the C class in isinstance)."""
    descriptor = msg.DESCRIPTOR
    if not isinstance(descriptor, Descriptor):  # pragma: no cover - every implementation passes
        raise TypeError(f"not a message descriptor: {descriptor!r}")
    return descriptor


def _message_type(fd: FieldDescriptor) -> Descriptor:
    """The descriptor of a message field's type (None only for other fields)."""
    if fd.message_type is None:
        raise TypeError(f"{fd.full_name} is not a message field")
    return fd.message_type


def _enum_values(fd: FieldDescriptor) -> dict[str, int]:
    """An enum field's value numbers by name."""
    if fd.enum_type is None:
        raise TypeError(f"{fd.full_name} is not an enum field")
    return {v.name: v.number for v in fd.enum_type.values}


def _is_value_field(fd: FieldDescriptor) -> bool:
    return (
        fd.type == FieldDescriptor.TYPE_MESSAGE
        and not fd.is_repeated
        and _message_type(fd).full_name == _VALUE
    )


def _is_synthetic(oneof: Any) -> bool:
    """proto3 `optional` fields sit in a synthetic one-member oneof named _<field>."""
    return len(oneof.fields) == 1 and oneof.name == f"_{oneof.fields[0].name}"


def _fold(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


# -------------------------------------------------------------------- encoders


def _zero_maker(fd: FieldDescriptor, rule: str) -> Callable[[], Any]:
    """What an unset field with a rule other than OMIT is written as."""
    if rule == omitempty.NULL or fd.is_repeated:  # Go prints a nil slice or map as null
        return lambda: None
    if rule == omitempty.QUANTITY:
        return lambda: "0"
    if fd.type == FieldDescriptor.TYPE_MESSAGE:  # ZERO: the empty message's own form
        plan = _plan(_message_type(fd))  # may still be building: look up .encode per call
        cls = message_factory.GetMessageClass(_message_type(fd))
        return lambda: plan.encode(cls())
    encode = _single_encoder(fd)  # ZERO: the scalar's default (0, false, "", enum name)
    zero = fd.default_value if encode is None else encode(fd.default_value)
    return lambda: zero


def _zero_test(fd: FieldDescriptor, rule: str) -> Callable[[Any], bool] | None:
    """For a field Kubernetes always writes: which decoded values are its zero.

    Go has no "set but zero" for such a field (it is no pointer), so its
    printed zero reads back as unset, and `from_dict(to_dict(m)) == m`
    holds: ``lastState: {}``, ``port: 0`` and ``divisor: "0"`` leave the
    field unset, as if absent. (Zero scalars without presence, null, and
    empty lists are unset anyway.)
    """
    if fd.is_repeated or rule == omitempty.NULL:
        return None
    if rule == omitempty.QUANTITY:
        return lambda value: value == "0"
    if fd.type != FieldDescriptor.TYPE_MESSAGE:
        return (lambda value: not value) if fd.has_presence else None
    if _message_type(fd).full_name == _INT_OR_STRING:
        return lambda value: value == {"int_val": 0}
    plan = _plan(_message_type(fd))  # may still be building: look up per call
    return lambda value: isinstance(value, dict) and plan.is_empty(value)


def _field_encoder(fd: FieldDescriptor) -> _Encoder | None:
    if _is_map(fd):
        return _map_encoder(fd)
    single = _single_encoder(fd)
    if not fd.is_repeated:
        return single
    if single is None:
        return list
    return lambda values: [single(v) for v in values]


def _single_encoder(fd: FieldDescriptor) -> _Encoder | None:
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        plan = _plan(_message_type(fd))  # may still be building: look up .encode per call
        return lambda msg: plan.encode(msg)
    if fd.type == FieldDescriptor.TYPE_BYTES:
        return lambda raw: base64.b64encode(raw).decode("ascii")
    if fd.type == FieldDescriptor.TYPE_ENUM:
        names = {number: name for name, number in _enum_values(fd).items()}
        return lambda number: names.get(number, number)
    return None


def _map_encoder(fd: FieldDescriptor) -> _Encoder:
    entry = _message_type(fd)
    key_fd = entry.fields_by_name["key"]
    value_encoder = _single_encoder(entry.fields_by_name["value"])
    key_text = _map_key_text(key_fd)

    def encode(mapping: Any) -> dict[str, Any]:
        if value_encoder is None:
            return {key_text(k): mapping[k] for k in sorted(mapping)}
        return {key_text(k): value_encoder(mapping[k]) for k in sorted(mapping)}

    return encode


def _map_key_text(key_fd: FieldDescriptor) -> Callable[[Any], str]:
    if key_fd.type == FieldDescriptor.TYPE_STRING:
        return lambda k: k
    if key_fd.type == FieldDescriptor.TYPE_BOOL:
        return lambda k: "true" if k else "false"
    return str


def _is_map(fd: FieldDescriptor) -> bool:
    return (
        fd.type == FieldDescriptor.TYPE_MESSAGE
        and fd.is_repeated
        and _message_type(fd).GetOptions().map_entry
    )


# -------------------------------------------------------------------- decoders


def _field_decoder(fd: FieldDescriptor) -> _Decoder:
    if _is_map(fd):
        return _map_decoder(fd)
    single = _single_decoder(fd, quantity=fd.json_name in QUANTITY_STRING_FIELDS)
    if fd.is_repeated:
        return _list_decoder(single)
    return single


def _single_decoder(fd: FieldDescriptor, *, quantity: bool = False) -> _Decoder:
    t = fd.type
    if t == FieldDescriptor.TYPE_MESSAGE:
        plan = _plan(_message_type(fd))  # may still be building: look up .decode per call
        return lambda value, path, errors: plan.decode(value, path, errors)
    if t == FieldDescriptor.TYPE_STRING:
        return _quantity_string if quantity else _string
    if t == FieldDescriptor.TYPE_BOOL:
        return _boolean
    if t in _INT_RANGES:
        return _integer_decoder(*_INT_RANGES[t])
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _number
    if t == FieldDescriptor.TYPE_BYTES:
        return _bytes
    if t == FieldDescriptor.TYPE_ENUM:
        return _enum_decoder(fd)
    raise TypeError(f"unsupported field type {t} for {fd.full_name}")  # pragma: no cover


def _list_decoder(single: _Decoder) -> _Decoder:
    def decode(value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, list | tuple):
            errors.append(FieldError(path, f"expected a list, got {_describe(value)}"))
            return _BAD
        out = []
        before = len(errors)
        for i, item in enumerate(value):
            item_path = f"{path}[{i}]"
            if item is None:
                errors.append(FieldError(item_path, "null is not allowed in a list"))
                continue
            out.append(single(item, item_path, errors))
        return _BAD if len(errors) > before else out

    return decode


def _map_decoder(fd: FieldDescriptor) -> _Decoder:
    entry = _message_type(fd)
    key_decoder = _map_key_decoder(entry.fields_by_name["key"])
    value_fd = entry.fields_by_name["value"]
    quantity = fd.json_name in QUANTITY_MAP_FIELDS and value_fd.type == FieldDescriptor.TYPE_STRING
    value_decoder = _quantity_string if quantity else _single_decoder(value_fd)

    def decode(value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, Mapping):
            errors.append(FieldError(path, f"expected an object (map), got {_describe(value)}"))
            return _BAD
        out = {}
        before = len(errors)
        for raw_key, item in value.items():
            key = key_decoder(raw_key, path, errors)
            item_path = f"{path}[{raw_key}]"
            if item is None:
                errors.append(FieldError(item_path, "null is not allowed as a map value"))
                continue
            decoded = value_decoder(item, item_path, errors)
            if key is not _BAD:
                out[key] = decoded
        return _BAD if len(errors) > before else out

    return decode


def _map_key_decoder(key_fd: FieldDescriptor) -> _Decoder:
    if key_fd.type != FieldDescriptor.TYPE_STRING:
        integer = _integer_decoder(*_INT_RANGES.get(key_fd.type, (-(2**63), 2**63 - 1, "int64")))
        return lambda k, path, errors: integer(
            int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k, f"{path}[{k}]", errors
        )

    def decode(key: Any, path: str, errors: list[FieldError]) -> Any:
        # YAML may read a key as a bool or a number; Kubernetes' YAML reader
        # turns such keys into their text, and so do we.
        if isinstance(key, str):
            return key
        if isinstance(key, bool):
            return "true" if key else "false"
        if isinstance(key, int | float):
            return str(key)
        errors.append(FieldError(path, f"map keys must be strings, got {_describe(key)}"))
        return _BAD

    return decode


def _string(value: Any, path: str, errors: list[FieldError]) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return format_rfc3339(value, micro=bool(value.microsecond))
    if isinstance(value, date):
        return value.isoformat()
    errors.append(FieldError(path, f"expected a string, got {_describe(value)}"))
    return _BAD


def _quantity_string(value: Any, path: str, errors: list[FieldError]) -> Any:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _number_text(value)
        if text is not None:
            return text
    errors.append(
        FieldError(
            path,
            f'expected a quantity (a string such as "500m" or a number), got {_describe(value)}',
        )
    )
    return _BAD


def _number_text(value: int | float) -> str | None:
    """Decimal text of a YAML number: 1 → "1", 1.0 → "1", 0.5 → "0.5", 1e-3 → "0.001"."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return None
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _boolean(value: Any, path: str, errors: list[FieldError]) -> Any:
    if value is True or value is False:
        return value
    errors.append(FieldError(path, f"expected a boolean (true or false), got {_describe(value)}"))
    return _BAD


_INT_RANGES: dict[int, tuple[int, int, str]] = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1, "int32"),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1, "int32"),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1, "int32"),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1, "int64"),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1, "int64"),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1, "int64"),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1, "uint32"),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1, "uint32"),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1, "uint64"),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1, "uint64"),
}


def _integer_decoder(low: int, high: int, type_name: str) -> _Decoder:
    def decode(value: Any, path: str, errors: list[FieldError]) -> Any:
        if type(value) is int and low <= value <= high:
            return value
        number = _as_integer(value, path, errors, type_name)
        if number is _BAD:
            return _BAD
        if not low <= number <= high:
            errors.append(
                FieldError(
                    path, f"{number} is out of range for {type_name} (allowed: {low} to {high})"
                )
            )
            return _BAD
        return number

    return decode


def _as_integer(value: Any, path: str, errors: list[FieldError], type_name: str) -> Any:
    expected = f"expected an integer ({type_name})"
    if isinstance(value, bool):
        errors.append(FieldError(path, f"{expected}, got {_describe(value)}"))
        return _BAD
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        errors.append(
            FieldError(path, f"{expected}, got {_describe(value)} with a fractional part")
        )
        return _BAD
    errors.append(FieldError(path, f"{expected}, got {_describe(value)}"))
    return _BAD


def _number(value: Any, path: str, errors: list[FieldError]) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    errors.append(FieldError(path, f"expected a number, got {_describe(value)}"))
    return _BAD


def _bytes(value: Any, path: str, errors: list[FieldError]) -> Any:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    errors.append(FieldError(path, f"expected base64-encoded bytes, got {_describe(value)}"))
    return _BAD


def _enum_decoder(fd: FieldDescriptor) -> _Decoder:
    by_name = _enum_values(fd)
    numbers = set(by_name.values())

    def decode(value: Any, path: str, errors: list[FieldError]) -> Any:
        if isinstance(value, str) and value in by_name:
            return by_name[value]
        if type(value) is int and value in numbers:
            return value
        allowed = ", ".join(f'"{n}"' for n in by_name)
        errors.append(FieldError(path, f"unsupported value {_describe(value)}: allowed: {allowed}"))
        return _BAD

    return decode


# ------------------------------------------------------------- special types


def _encode_int_or_string(msg: meta_pb2.IntOrString) -> int | str:
    which = msg.WhichOneof("value")
    if which == "str_val":
        return msg.str_val
    return msg.int_val  # unset is 0, as in Kubernetes


_INT32 = _integer_decoder(-(2**31), 2**31 - 1, "int32")


def _decode_int_or_string(value: Any, path: str, errors: list[FieldError]) -> Any:
    if isinstance(value, str):
        return {"str_val": str(value)}
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = _INT32(value, path, errors)
        return _BAD if number is _BAD else {"int_val": number}
    errors.append(
        FieldError(
            path, f'expected an integer or a string (e.g. 1 or "25%"), got {_describe(value)}'
        )
    )
    return _BAD


def _json_value(value: Any, path: str, errors: list[FieldError]) -> Any:
    """Check that `value` is plain JSON (times become text); _BAD if not."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            errors.append(FieldError(path, f"{value} is not a JSON number"))
            return _BAD
        return value
    if isinstance(value, datetime | date):
        return _string(value, path, errors)
    if isinstance(value, list | tuple):
        items = [_json_value(v, f"{path}[{i}]", errors) for i, v in enumerate(value)]
        return _BAD if any(v is _BAD for v in items) else items
    if isinstance(value, Mapping):
        return _json_object(value, path, errors)
    errors.append(FieldError(path, f"expected a JSON value, got {_describe(value)}"))
    return _BAD


def _json_object(value: Any, path: str, errors: list[FieldError]) -> Any:
    if not isinstance(value, Mapping):
        errors.append(FieldError(path, f"expected an object, got {_describe(value)}"))
        return _BAD
    out = {}
    for k, v in value.items():
        if not isinstance(k, str):
            errors.append(
                FieldError(f"{path}[{k}]", f"object keys must be strings, got {_describe(k)}")
            )
            continue
        out[k] = _json_value(v, _join(path, k), errors)
    return _BAD if any(v is _BAD for v in out.values()) or len(out) != len(value) else out


def _decode_struct(value: Any, path: str, errors: list[FieldError]) -> Any:
    plain = _json_object(value, path, errors)
    if plain is _BAD:
        return _BAD
    struct = struct_pb2.Struct()
    struct.update(plain)
    return struct


def _decode_list_value(value: Any, path: str, errors: list[FieldError]) -> Any:
    if not isinstance(value, list | tuple):
        errors.append(FieldError(path, f"expected a list, got {_describe(value)}"))
        return _BAD
    plain = _json_value(value, path, errors)
    if plain is _BAD:
        return _BAD
    out = struct_pb2.ListValue()
    out.extend(plain)
    return out


def _decode_value(value: Any, path: str, errors: list[FieldError]) -> Any:
    plain = _json_value(value, path, errors)
    if plain is _BAD:
        return _BAD
    holder = struct_pb2.ListValue()
    holder.append(plain)
    return holder.values[0]


def _plain_number(number: float) -> int | float:
    # Struct stores every number as a double; print whole ones as integers.
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _encode_value(msg: Any) -> Any:
    kind = msg.WhichOneof("kind")
    if kind == "struct_value":
        return _encode_struct(msg.struct_value)
    if kind == "list_value":
        return _encode_list_value(msg.list_value)
    if kind == "number_value":
        return _plain_number(msg.number_value)
    if kind in ("string_value", "bool_value"):
        return getattr(msg, kind)
    return None


def _encode_struct(msg: Any) -> dict[str, Any]:
    return {k: _encode_value(msg.fields[k]) for k in sorted(msg.fields)}


def _encode_list_value(msg: Any) -> list[Any]:
    return [_encode_value(v) for v in msg.values]


def _encode_fields_v1(msg: Any) -> Any:
    return json.loads(msg.raw) if msg.raw else {}


def _decode_fields_v1(value: Any, path: str, errors: list[FieldError]) -> Any:
    plain = _json_object(value, path, errors)
    if plain is _BAD:
        return _BAD
    return {"raw": json.dumps(plain, separators=(",", ":")).encode()}


_SPECIALS: dict[str, tuple[_Encoder, _Decoder]] = {
    _INT_OR_STRING: (_encode_int_or_string, _decode_int_or_string),
    _STRUCT: (_encode_struct, _decode_struct),
    _VALUE: (_encode_value, _decode_value),
    _LIST_VALUE: (_encode_list_value, _decode_list_value),
    _FIELDS_V1: (_encode_fields_v1, _decode_fields_v1),
}


def _describe(value: Any) -> str:
    """How a bad input value is named in error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {json.dumps(shown)}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"
