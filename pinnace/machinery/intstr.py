"""Int-or-string values (``maxSurge: 25%`` or ``maxSurge: 1``).

Guarantees (as Kubernetes' intstr package):

* `scaled_value` turns an int into itself and a percent string "N%" into
  N% of `total`, rounded up or down as asked; any other string, a missing
  value or a bool is an `IntOrStringError` whose message says what is allowed.
* `intstr` builds the message, `intstr_value` reads it back (``None`` when
  neither form is set).
"""

from __future__ import annotations

import re

from pinnace.api.meta.v1 import meta_pb2

__all__ = ["IntOrStringError", "intstr", "intstr_value", "scaled_value"]

IntOrString = meta_pb2.IntOrString

_PERCENT = re.compile(r"([+-]?[0-9]+)%")
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class IntOrStringError(ValueError):
    """A value that cannot be read as an int or a percentage."""


def intstr(value: int | str) -> meta_pb2.IntOrString:
    """An IntOrString holding `value` (an int32 or a string)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"IntOrString holds an int or a str, not {type(value).__name__}")
    if isinstance(value, int):
        if not _INT32_MIN <= value <= _INT32_MAX:
            raise ValueError(f"{value} is out of range for an IntOrString int (int32)")
        return IntOrString(int_val=value)
    return IntOrString(str_val=value)


def intstr_value(msg: meta_pb2.IntOrString | None) -> int | str | None:
    """The int or str held by `msg`; None if `msg` is None or holds neither."""
    if msg is None:
        return None
    which = msg.WhichOneof("value")
    if which is None:
        return None
    return msg.int_val if which == "int_val" else msg.str_val


def scaled_value(
    value: meta_pb2.IntOrString | int | str | None, total: int, *, round_up: bool
) -> int:
    """The absolute value of an int or a percentage of `total`.

    ``scaled_value("25%", 10, round_up=True)`` is 3 (ceil of 2.5);
    with ``round_up=False`` it is 2. ``scaled_value(4, 10, ...)`` is 4.
    """
    raw = intstr_value(value) if isinstance(value, IntOrString) else value
    if raw is None:
        raise IntOrStringError("no value given: expected an integer or a percentage such as '25%'")
    if isinstance(raw, bool):
        raise IntOrStringError(
            f"invalid value {raw!r}: expected an integer or a percentage such as '25%'"
        )
    if isinstance(raw, int):
        return raw
    if not isinstance(raw, str):
        raise IntOrStringError(
            f"invalid type {type(raw).__name__}: expected an integer or a percentage such as '25%'"
        )
    return _scale_percent(raw, total, round_up=round_up)


def _scale_percent(text: str, total: int, *, round_up: bool) -> int:
    match = _PERCENT.fullmatch(text)
    if match is None:
        raise IntOrStringError(
            f"invalid value {text!r}: a string must be a percentage such as '25%' "
            "(an integer followed by '%'); use a bare number for an absolute value"
        )
    numerator = int(match[1]) * total
    # Integer arithmetic: exact for any size, unlike Kubernetes' float64.
    return -(-numerator // 100) if round_up else numerator // 100
