"""Validation helpers shared by the kind strategies.

Kubernetes' own helpers that `pinnace.machinery.validation` does not carry
(they are specific to the API types, not to apimachinery): immutable-field
checks, int-or-percent checks, selector-vs-template checks, port names,
quantities of resource lists, and a way to show a structured value inside
an error message.

Every function returns a list of `FieldError`s and never raises.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message

from pinnace.api.apps.v1 import daemonset_pb2, deployment_pb2, replicaset_pb2, statefulset_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery.codec import to_dict
from pinnace.machinery.intstr import intstr_value
from pinnace.machinery.labels import (
    SelectorError,
    selector_from_label_selector,
    selector_from_map,
)
from pinnace.machinery.quantity import QuantityError, parse_quantity
from pinnace.machinery.validation import (
    ErrorType,
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_qualified_name,
    is_valid_percent,
    required,
    validate_label_selector,
    validate_nonnegative,
)

QUANTITY_REGEX_MSG = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
NEGATIVE_MSG = "must be greater than or equal to 0"
NOT_POSITIVE_MSG = "must be greater than zero"
INT32_MAX = 2**31 - 1


class Shown:
    """A structured value printed as compact JSON inside an error message
    (Kubernetes prints the Go value; JSON is the readable equivalent)."""

    __slots__ = ("text",)

    def __init__(self, value: Any) -> None:
        if isinstance(value, Message):
            value = to_dict(value)
        elif isinstance(value, Mapping):
            value = dict(sorted(value.items()))
        self.text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shown) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def not_found(path: FieldPath | str, value: Any) -> FieldError:
    """Kubernetes' field.NotFound: ``<path>: Not found: <value>``."""
    return FieldError(ErrorType.NOT_FOUND, str(path), value)


def inclusive_range(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


# ------------------------------------------------------------------ presence


def opt(msg: Message, name: str) -> Any:
    """The value of an `optional` (or message) field, or None when unset."""
    return getattr(msg, name) if msg.HasField(name) else None


def same(a: Any, b: Any) -> bool:
    """Semantic equality of two field values (messages, maps, lists, scalars)."""
    if isinstance(a, Message) and isinstance(b, Message):
        return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return dict(a) == dict(b)
    if a is None or b is None:
        return a is b
    if hasattr(a, "__len__") and hasattr(b, "__len__") and not isinstance(a, str | bytes):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _show(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Message | Mapping):
        return Shown(value)
    return Shown([to_dict(v) if isinstance(v, Message) else v for v in value])


def immutable(new: Any, old: Any, path: FieldPath) -> list[FieldError]:
    """Kubernetes' ValidateImmutableField."""
    if same(new, old):
        return []
    return [invalid(path, _show(new), "field is immutable")]


def immutable_opt(new: Message, old: Message, name: str, path: FieldPath) -> list[FieldError]:
    """ValidateImmutableField for an `optional`/message field by name."""
    return immutable(opt(new, name), opt(old, name), path)


def nonnegative_opt(msg: Message, name: str, path: FieldPath) -> list[FieldError]:
    value = opt(msg, name)
    return [] if value is None else validate_nonnegative(value, path)


# ------------------------------------------------------------- int or percent


def validate_positive_int_or_percent(
    value: meta_pb2.IntOrString | None, path: FieldPath
) -> list[FieldError]:
    """Kubernetes' ValidatePositiveIntOrPercent: an int >= 0 or "N%"."""
    raw = intstr_value(value)
    if isinstance(raw, str):
        return [invalid(path, raw, m) for m in is_valid_percent(raw)]
    if isinstance(raw, int):
        return validate_nonnegative(raw, path)
    return [invalid(path, None, "must be an integer or percentage (e.g '5%')")]


def int_or_percent_value(value: meta_pb2.IntOrString | None) -> int:
    """The int, or the number of a valid percent string; 0 otherwise
    (Kubernetes' getIntOrPercentValue)."""
    raw = intstr_value(value)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and not is_valid_percent(raw):
        return int(raw[:-1])
    return 0


def not_more_than_100_percent(
    value: meta_pb2.IntOrString | None, path: FieldPath
) -> list[FieldError]:
    raw = intstr_value(value)
    if isinstance(raw, str) and not is_valid_percent(raw) and int(raw[:-1]) > 100:
        return [invalid(path, raw, "must not be greater than 100%")]
    return []


# ------------------------------------------------------------------ selectors


WorkloadSpec = (
    deployment_pb2.DeploymentSpec
    | daemonset_pb2.DaemonSetSpec
    | replicaset_pb2.ReplicaSetSpec
    | statefulset_pb2.StatefulSetSpec
)
"""The spec of an apps/v1 workload: each has a LabelSelector ``selector``."""


def validate_workload_selector(
    obj_spec: WorkloadSpec, path: FieldPath, kind_word: str
) -> list[FieldError]:
    """apps/v1: selector required, valid, non-empty ("empty selector is
    invalid for <kind_word>")."""
    sel_path = path.child("selector")
    if not obj_spec.HasField("selector"):
        return [required(sel_path, "")]
    sel = obj_spec.selector
    errs = validate_label_selector(sel, sel_path)
    if not sel.match_labels and not sel.match_expressions:
        errs.append(invalid(sel_path, Shown(sel), f"empty selector is invalid for {kind_word}"))
    return errs


def selector_mismatch(
    selector: meta_pb2.LabelSelector | Mapping[str, str] | None,
    template_labels: Mapping[str, str],
    path: FieldPath,
    *,
    skip_empty: bool = True,
) -> list[FieldError]:
    """`selector` does not match template `labels`, reported at
    ``<path>.metadata.labels`` (path is the template's path). A selector that
    cannot be built is left to the selector's own validation."""
    try:
        if selector is None:
            return []
        if isinstance(selector, Message):
            sel = selector_from_label_selector(selector)
        else:
            sel = selector_from_map(dict(selector))
    except (SelectorError, ValueError):
        return []
    if skip_empty and sel.empty:
        return []
    if sel.matches(dict(template_labels)):
        return []
    return [
        invalid(
            path.child("metadata", "labels"),
            Shown(template_labels),
            "`selector` does not match template `labels`",
        )
    ]


# -------------------------------------------------------------------- ports

_PORT_NAME_MAX = 15


def is_valid_port_name(name: str) -> list[str]:
    """Kubernetes' IsValidPortName (an IANA_SVC_NAME)."""
    errs: list[str] = []
    if len(name) > _PORT_NAME_MAX:
        errs.append(f"must be no more than {_PORT_NAME_MAX} characters")
    if not name or any(
        not (c.isascii() and (c.islower() or c.isdigit() or c == "-")) for c in name
    ):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    elif not any("a" <= c <= "z" for c in name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def validate_port_num_or_name(
    port: meta_pb2.IntOrString | None, path: FieldPath
) -> list[FieldError]:
    """Kubernetes' ValidatePortNumOrName; an unset port is the int 0."""
    raw = intstr_value(port)
    if isinstance(raw, str):
        return [invalid(path, raw, m) for m in is_valid_port_name(raw)]
    num = raw or 0
    if 1 <= num <= 65535:
        return []
    return [invalid(path, num, "must be between 1 and 65535, inclusive")]


# --------------------------------------------------------------- quantities


def quantity(text: str) -> Decimal | None:
    """The Decimal of a quantity string, or None when it does not parse."""
    try:
        return parse_quantity(text)
    except (QuantityError, TypeError):
        return None


def validate_quantity(text: str, path: FieldPath, *, positive: bool = False) -> list[FieldError]:
    """A parsable, non-negative (or positive) quantity."""
    value = quantity(text)
    if value is None:
        return [invalid(path, text, QUANTITY_REGEX_MSG)]
    if positive and value <= 0:
        return [invalid(path, text, NOT_POSITIVE_MSG)]
    if value < 0:
        return [invalid(path, text, NEGATIVE_MSG)]
    return []


def go_quote_list(values: list[str]) -> str:
    """Go's %q of a []string: ``["a" "b"]``."""
    return "[" + " ".join(json.dumps(v) for v in values) + "]"


__all__ = [
    "INT32_MAX",
    "NEGATIVE_MSG",
    "Shown",
    "go_quote_list",
    "immutable",
    "immutable_opt",
    "inclusive_range",
    "int_or_percent_value",
    "is_valid_port_name",
    "nonnegative_opt",
    "not_found",
    "not_more_than_100_percent",
    "opt",
    "quantity",
    "same",
    "selector_mismatch",
    "validate_port_num_or_name",
    "validate_positive_int_or_percent",
    "validate_quantity",
    "validate_workload_selector",
]


def changed_fields(new: Message, old: Message) -> list[str]:
    """The JSON names of the top-level fields that differ."""
    names = []
    for fd in new.DESCRIPTOR.fields:
        a, b = getattr(new, fd.name), getattr(old, fd.name)
        if fd.has_presence and new.HasField(fd.name) != old.HasField(fd.name):
            names.append(fd.json_name)
        elif not same(a, b):
            names.append(fd.json_name)
    return names


def validate_resource_list(resources: Mapping[str, str], path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for name, text in sorted(resources.items()):
        p = path.key(name)
        errs += [invalid(p, name, m) for m in is_qualified_name(name)]
        errs += validate_quantity(text, p)
    return errs


def one_of(
    msg: Message, fields: Iterable[str], json_names: Mapping[str, str], path: FieldPath, detail: str
) -> tuple[str | None, list[FieldError]]:
    """Kubernetes' "may not specify more than 1 ... type": the first of
    ``fields`` set on ``msg`` (None when none is), and a Forbidden error at
    each later one that is also set."""
    chosen: str | None = None
    errs: list[FieldError] = []
    for name in fields:
        if not msg.HasField(name):
            continue
        if chosen is None:
            chosen = name
        else:
            errs.append(forbidden(path.child(json_names[name]), detail))
    return chosen, errs
