"""Kubernetes resource quantities ("500m", "128Mi", "1.5", "2e3").

Guarantees (as Kubernetes' resource.Quantity):

* Grammar: ``[+-]<number><suffix>`` where number is ``1``, ``1.5``, ``1.`` or
  ``.5``; suffix is binary (Ki Mi Gi Ti Pi Ei), decimal (n u m "" k M G T P E)
  or an exponent (``e3``, ``E-3``, ``e+3``). Nothing else (no spaces, no "KB").
* Parsed values are exact `Decimal`s, except that a value more precise than
  1n is rounded up (away from zero) to 1n, and a magnitude above 2^63-1 is
  capped at 2^63-1.
* `to_milli` / `to_int` round up (ceiling), like MilliValue() / Value().
* `format_quantity` prints the canonical form Kubernetes prints: the largest
  suffix that keeps the mantissa an integer ("1500", "2k", "500m", "1Gi").
"""

from __future__ import annotations

import functools
import re
from decimal import ROUND_CEILING, ROUND_UP, Context, Decimal, localcontext
from typing import Literal

__all__ = [
    "QuantityError",
    "QuantityFormat",
    "format_quantity",
    "is_valid_quantity",
    "parse_quantity",
    "to_int",
    "to_milli",
]

QuantityFormat = Literal["DecimalSI", "BinarySI", "DecimalExponent"]

_PATTERN = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+\.?[0-9]*|\.[0-9]+)"
    r"(?P<suffix>[eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXP = {exp: suffix for suffix, exp in _DECIMAL.items() if suffix != "u"}
_DECIMAL_BY_EXP[-6] = "u"
_BINARY_BY_POWER = {power: suffix for suffix, power in _BINARY.items()}

_NANO = Decimal("1e-9")
_MAX = Decimal(2**63 - 1)
# Exponents beyond these only ever mean "capped" or "rounded up to 1n".
_MAX_EXPONENT = 40
_CTX = Context(prec=120)

_ALLOWED = (
    "a number (e.g. '1', '1.5', '.5', '-2') with an optional suffix: binary Ki Mi Gi Ti Pi Ei, "
    "decimal n u m k M G T P E, or an exponent e<int>/E<int> (e.g. '500m', '128Mi', '2e3')"
)


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse_quantity(text: str) -> Decimal:
    """The exact value of a quantity string; raises QuantityError if malformed.
    Results are cached: the same few quantities ("100m", "64Mi") recur in
    every pod, and Decimals are immutable."""
    if isinstance(text, str):
        return _parse_cached(text)
    raise QuantityError(f"{text!r} is not a valid quantity: expected {_ALLOWED}")


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Decimal:
    match = _PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise QuantityError(f"{text!r} is not a valid quantity: expected {_ALLOWED}")
    with localcontext(_CTX):
        value = _scale(Decimal(match["number"]), match["suffix"])
        if match["sign"] == "-":
            value = -value
        return _normalize(value)


def is_valid_quantity(text: str) -> bool:
    """Whether `text` parses as a quantity."""
    return isinstance(text, str) and _PATTERN.fullmatch(text) is not None


def to_milli(text: str) -> int:
    """ceil(quantity * 1000), as Kubernetes' MilliValue(): "100m" → 100, "1" → 1000."""
    return int((parse_quantity(text) * 1000).to_integral_value(rounding=ROUND_CEILING))


def to_int(text: str) -> int:
    """ceil(quantity), as Kubernetes' Value(): "1500m" → 2, "1Ki" → 1024."""
    return int(parse_quantity(text).to_integral_value(rounding=ROUND_CEILING))


def format_quantity(value: Decimal | int, fmt: QuantityFormat = "DecimalSI") -> str:
    """The canonical string of `value` in `fmt` (Kubernetes' CanonicalizeBytes).

    BinarySI is used only for integers of magnitude >= 1024; anything else
    falls back to DecimalSI, as in Kubernetes (so 512 → "512", 0.5 → "500m").
    """
    with localcontext(_CTX):
        value = _normalize(Decimal(value))
        if value == 0:
            return "0"
        if fmt == "BinarySI" and abs(value) >= 1024 and value == value.to_integral_value():
            return _format_binary(int(value))
        return _format_decimal(value, exponent_form=fmt == "DecimalExponent")


def _scale(number: Decimal, suffix: str) -> Decimal:
    if suffix in _BINARY:
        return number * (1024 ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    exponent = int(suffix[1:])
    if number == 0:
        return number
    if exponent > _MAX_EXPONENT:
        return _MAX
    if exponent < -_MAX_EXPONENT:
        return _NANO
    return number.scaleb(exponent)


def _normalize(value: Decimal) -> Decimal:
    """Round up to nano precision and cap the magnitude at 2^63-1."""
    if value != value.quantize(_NANO, rounding=ROUND_UP):
        value = value.quantize(_NANO, rounding=ROUND_UP)
    if abs(value) > _MAX:
        value = _MAX if value > 0 else -_MAX
    return value


def _format_binary(value: int) -> str:
    power = 0
    while power < 6 and value % (1024 ** (power + 1)) == 0:
        power += 1
    if power == 0:
        return str(value)
    return f"{value // 1024**power}{_BINARY_BY_POWER[power]}"


def _format_decimal(value: Decimal, *, exponent_form: bool) -> str:
    # value has at most 9 fractional digits, so exponent -9 always gives an
    # integer mantissa; look for the largest multiple of 3 that still does.
    for exponent in range(18, -10, -3):
        mantissa = value.scaleb(-exponent)
        if mantissa == mantissa.to_integral_value():
            break
    digits = str(int(mantissa))
    if exponent_form:
        return digits if exponent == 0 else f"{digits}e{exponent}"
    return f"{digits}{_DECIMAL_BY_EXP[exponent]}"
