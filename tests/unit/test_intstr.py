"""Tests for pinnace.machinery.intstr: building, reading and scaling int-or-percent values."""

from __future__ import annotations

import pytest

from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery.intstr import IntOrStringError, intstr, intstr_value, scaled_value


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        pytest.param(3, 10, True, 3, id="int"),
        pytest.param(0, 10, False, 0, id="int-zero"),
        pytest.param("25%", 10, True, 3, id="percent-round-up"),
        pytest.param("25%", 10, False, 2, id="percent-round-down"),
        pytest.param("100%", 7, False, 7, id="whole"),
        pytest.param("0%", 7, True, 0, id="zero-percent"),
        pytest.param("150%", 4, False, 6, id="over-100"),
        pytest.param("10%", 0, True, 0, id="zero-total"),
        pytest.param(intstr(5), 10, True, 5, id="message-int"),
        pytest.param(intstr("50%"), 5, True, 3, id="message-percent"),
    ],
)
def test_scaled_value(value, total, round_up, expected):
    assert scaled_value(value, total, round_up=round_up) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(None, "no value given", id="none"),
        pytest.param(meta_pb2.IntOrString(), "no value given", id="empty-message"),
        pytest.param("25", "a string must be a percentage", id="digits-without-percent"),
        pytest.param("abc%", "invalid value 'abc%'", id="not-a-number"),
        pytest.param("2.5%", "invalid value '2.5%'", id="fractional-percent"),
        pytest.param(True, "invalid value True", id="bool"),
        pytest.param(1.5, "invalid type float", id="float"),
    ],
)
def test_scaled_value_errors(value, message):
    with pytest.raises(IntOrStringError, match=message):
        scaled_value(value, 10, round_up=True)


@pytest.mark.parametrize(
    ("value", "which"),
    [
        pytest.param(0, "int_val", id="zero"),
        pytest.param(-5, "int_val", id="negative"),
        pytest.param("25%", "str_val", id="percent"),
        pytest.param("", "str_val", id="empty-string"),
    ],
)
def test_intstr_round_trip(value, which):
    msg = intstr(value)
    assert msg.WhichOneof("value") == which
    assert intstr_value(msg) == value


def test_intstr_value_of_nothing():
    assert intstr_value(None) is None
    assert intstr_value(meta_pb2.IntOrString()) is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param(True, TypeError, id="bool"),
        pytest.param(1.0, TypeError, id="float"),
        pytest.param(2**31, ValueError, id="out-of-range"),
    ],
)
def test_intstr_rejects(value, error):
    with pytest.raises(error):
        intstr(value)
