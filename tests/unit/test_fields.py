"""Tests for pinnace.machinery.fields: field selector parsing and matching."""

from __future__ import annotations

import pytest

from pinnace.machinery.fields import FieldSelectorError, parse_field_selector

POD = {"metadata.name": "web-1", "metadata.namespace": "default", "status.phase": "Running"}


@pytest.mark.parametrize(
    ("text", "requirements", "canonical", "matches"),
    [
        pytest.param("", [], "", True, id="empty"),
        pytest.param(
            "metadata.name=web-1",
            [("metadata.name", "=", "web-1")],
            "metadata.name=web-1",
            True,
            id="eq",
        ),
        pytest.param(
            "status.phase==Running",
            [("status.phase", "=", "Running")],
            "status.phase=Running",
            True,
            id="double-eq",
        ),
        pytest.param(
            "status.phase!=Running",
            [("status.phase", "!=", "Running")],
            "status.phase!=Running",
            False,
            id="not-eq",
        ),
        pytest.param(
            "spec.nodeName=",
            [("spec.nodeName", "=", "")],
            "spec.nodeName=",
            True,
            id="empty-value-matches-missing-field",
        ),
        pytest.param(
            "spec.nodeName!=",
            [("spec.nodeName", "!=", "")],
            "spec.nodeName!=",
            False,
            id="scheduled-only",
        ),
        pytest.param(
            "status.phase=Running,metadata.name=web-1",
            [("metadata.name", "=", "web-1"), ("status.phase", "=", "Running")],
            "metadata.name=web-1,status.phase=Running",
            True,
            id="and-sorted",
        ),
        pytest.param(
            "a=x\\,y\\=z\\\\", [("a", "=", "x,y=z\\")], "a=x\\,y\\=z\\\\", False, id="escapes"
        ),
        pytest.param("a=b,", [("a", "=", "b")], "a=b", False, id="empty-term-skipped"),
        pytest.param(" a =b", [("a", "=", "b")], "a=b", False, id="field-whitespace-trimmed"),
    ],
)
def test_parse_and_match(text, requirements, canonical, matches):
    selector = parse_field_selector(text)
    assert selector.requirements == requirements
    assert str(selector) == canonical
    assert selector.matches(POD) is matches
    assert parse_field_selector(str(selector)) == selector
    assert selector.empty is (not requirements)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("metadata.name", "is not of the form 'field=value'", id="no-operator"),
        pytest.param("=x", "has no field name", id="no-field"),
        pytest.param("a=b=c", "contains an unescaped '='", id="unescaped-eq"),
        pytest.param("a=b!=c", "contains an unescaped '='", id="split-at-first-operator"),
        pytest.param("a=\\q", "invalid escape sequence", id="bad-escape"),
        pytest.param("a=b\\", "invalid escape sequence", id="dangling-backslash"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(FieldSelectorError, match=message):
        parse_field_selector(text)


def test_exact_value_and_fields():
    selector = parse_field_selector("spec.nodeName=node-1,status.phase!=Failed")
    assert selector.exact_value("spec.nodeName") == "node-1"
    assert selector.exact_value("status.phase") is None
    assert selector.exact_value("metadata.name") is None
    assert selector.fields() == {"spec.nodeName", "status.phase"}
