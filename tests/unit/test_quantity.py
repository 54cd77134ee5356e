"""Tests for pinnace.machinery.quantity: parsing, rounding, canonical printing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pinnace.machinery.quantity import (
    QuantityError,
    format_quantity,
    is_valid_quantity,
    parse_quantity,
    to_int,
    to_milli,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("0", "0", id="zero"),
        pytest.param("1", "1", id="int"),
        pytest.param("1.5", "1.5", id="decimal"),
        pytest.param(".5", "0.5", id="leading-dot"),
        pytest.param("1.", "1", id="trailing-dot"),
        pytest.param("+2", "2", id="plus"),
        pytest.param("-2", "-2", id="minus"),
        pytest.param("1n", "0.000000001", id="nano"),
        pytest.param("1u", "0.000001", id="micro"),
        pytest.param("500m", "0.5", id="milli"),
        pytest.param("1k", "1000", id="kilo"),
        pytest.param("1M", "1000000", id="mega"),
        pytest.param("1G", "1e9", id="giga"),
        pytest.param("1T", "1e12", id="tera"),
        pytest.param("1P", "1e15", id="peta"),
        pytest.param("1E", "1e18", id="exa"),
        pytest.param("1Ki", "1024", id="kibi"),
        pytest.param("128Mi", str(128 * 2**20), id="mebi"),
        pytest.param("1Gi", str(2**30), id="gibi"),
        pytest.param("1Ti", str(2**40), id="tebi"),
        pytest.param("1Pi", str(2**50), id="pebi"),
        pytest.param("1Ei", str(2**60), id="exbi"),
        pytest.param("1.5Gi", str(3 * 2**29), id="fractional-binary"),
        pytest.param("1e3", "1000", id="exponent"),
        pytest.param("1E3", "1000", id="exponent-upper"),
        pytest.param("1e+3", "1000", id="exponent-plus"),
        pytest.param("5e-3", "0.005", id="exponent-negative"),
        pytest.param("0.0000000001", "0.000000001", id="below-nano-rounds-up"),
        pytest.param("-0.0000000001", "-0.000000001", id="below-nano-rounds-away-from-zero"),
        pytest.param("100Ei", str(2**63 - 1), id="capped-at-int64"),
        pytest.param("1e100", str(2**63 - 1), id="huge-exponent-capped"),
        pytest.param("1e-100", "0.000000001", id="tiny-exponent"),
    ],
)
def test_parse_quantity(text, value):
    assert parse_quantity(text) == Decimal(value)
    assert is_valid_quantity(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("m", id="suffix-only"),
        pytest.param(".", id="dot"),
        pytest.param("1 Gi", id="space"),
        pytest.param("1KB", id="unknown-suffix"),
        pytest.param("1ki", id="lowercase-binary"),
        pytest.param("1e", id="bare-e"),
        pytest.param("1e1.5", id="fractional-exponent"),
        pytest.param("--1", id="double-sign"),
        pytest.param("1Gi ", id="trailing-space"),
        pytest.param("0x10", id="hex"),
    ],
)
def test_invalid_quantities(text):
    assert not is_valid_quantity(text)
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    message = str(info.value)
    assert repr(text) in message
    assert "Ki Mi Gi Ti Pi Ei" in message and "n u m k M G T P E" in message


def test_non_string_is_an_error():
    assert not is_valid_quantity(1)  # type: ignore[arg-type]
    with pytest.raises(QuantityError):
        parse_quantity(1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "milli", "value"),
    [
        pytest.param("100m", 100, 1, id="millicores"),
        pytest.param("1", 1000, 1, id="one"),
        pytest.param("1500m", 1500, 2, id="value-rounds-up"),
        pytest.param("1n", 1, 1, id="nano-rounds-up"),
        pytest.param("1Ki", 1024000, 1024, id="binary"),
        pytest.param("-1500m", -1500, -1, id="negative-ceil"),
        pytest.param("0", 0, 0, id="zero"),
    ],
)
def test_to_milli_and_to_int(text, milli, value):
    assert to_milli(text) == milli
    assert to_int(text) == value


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        pytest.param("0", "DecimalSI", "0", id="zero"),
        pytest.param("1", "DecimalSI", "1", id="one"),
        pytest.param("1500", "DecimalSI", "1500", id="no-fractional-mantissa"),
        pytest.param("2000", "DecimalSI", "2k", id="kilo"),
        pytest.param("0.5", "DecimalSI", "500m", id="milli"),
        pytest.param("0.0005", "DecimalSI", "500u", id="micro"),
        pytest.param("1e-9", "DecimalSI", "1n", id="nano"),
        pytest.param("1e18", "DecimalSI", "1E", id="exa"),
        pytest.param("-3e6", "DecimalSI", "-3M", id="negative"),
        pytest.param("1024", "BinarySI", "1Ki", id="kibi"),
        pytest.param(str(128 * 2**20), "BinarySI", "128Mi", id="mebi"),
        pytest.param("1536", "BinarySI", "1536", id="not-a-multiple"),
        pytest.param("512", "BinarySI", "512", id="small-falls-back-to-decimal"),
        pytest.param("0.5", "BinarySI", "500m", id="fraction-falls-back-to-decimal"),
        pytest.param("2000", "DecimalExponent", "2e3", id="exponent"),
        pytest.param("0.5", "DecimalExponent", "500e-3", id="exponent-negative"),
        pytest.param("7", "DecimalExponent", "7", id="exponent-zero"),
    ],
)
def test_format_quantity(value, fmt, text):
    assert format_quantity(Decimal(value), fmt) == text
    assert parse_quantity(text) == Decimal(value)


def test_format_accepts_int():
    assert format_quantity(3 * 2**30, "BinarySI") == "3Gi"
