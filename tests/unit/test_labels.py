"""Tests for pinnace.machinery.labels: parsing, matching, canonical form, API selectors."""

from __future__ import annotations

import pytest

from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery.labels import (
    Operator,
    SelectorError,
    everything,
    format_labels,
    nothing,
    parse_selector,
    requirement,
    selector_from_label_selector,
    selector_from_map,
)

LABELS = {"app": "web", "tier": "frontend", "replicas": "3", "empty": ""}


@pytest.mark.parametrize(
    ("text", "canonical", "matches"),
    [
        pytest.param("", "", True, id="empty-selects-everything"),
        pytest.param("app=web", "app=web", True, id="equals"),
        pytest.param("app==web", "app==web", True, id="double-equals"),
        pytest.param("app!=web", "app!=web", False, id="not-equals"),
        pytest.param("missing!=x", "missing!=x", True, id="not-equals-absent-label"),
        pytest.param("app in (web, api)", "app in (api,web)", True, id="in-sorted"),
        pytest.param("app in (api)", "app in (api)", False, id="in-miss"),
        pytest.param("app notin (api)", "app notin (api)", True, id="notin"),
        pytest.param("missing notin (x)", "missing notin (x)", True, id="notin-absent-label"),
        pytest.param("app", "app", True, id="exists"),
        pytest.param("!app", "!app", False, id="does-not-exist"),
        pytest.param("!missing", "!missing", True, id="does-not-exist-absent"),
        pytest.param("replicas>2", "replicas>2", True, id="greater-than"),
        pytest.param("replicas<3", "replicas<3", False, id="less-than"),
        pytest.param("app>1", "app>1", False, id="gt-on-non-integer-label"),
        pytest.param("missing<5", "missing<5", False, id="lt-absent-label"),
        pytest.param("empty=", "empty=", True, id="empty-value"),
        pytest.param("x in (a,,b)", "x in (,a,b)", False, id="empty-value-in-set"),
        pytest.param(
            "  tier = frontend ,app  in(web)  ",
            "app in (web),tier=frontend",
            True,
            id="whitespace-and-sorting",
        ),
        pytest.param("app=web,tier=backend", "app=web,tier=backend", False, id="and"),
        pytest.param("example.com/role=db", "example.com/role=db", False, id="prefixed-key"),
        pytest.param("app=in", "app=in", False, id="keyword-as-value"),
    ],
)
def test_parse_and_match(text, canonical, matches):
    selector = parse_selector(text)
    assert str(selector) == canonical
    assert selector.matches(LABELS) is matches
    assert parse_selector(str(selector)) == selector
    assert selector.empty is (text == "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "app in web", "at position 7: found 'web', expected '('", id="in-without-paren"
        ),
        pytest.param("app in (web", "found end of string, expected ',' or ')'", id="unclosed"),
        pytest.param("app in ()", "values set can't be empty", id="empty-set"),
        pytest.param("app web", "found 'web', expected one of", id="missing-operator"),
        pytest.param(
            "=web", "position 0: found '=', expected a label key or '!'", id="missing-key"
        ),
        pytest.param("!", "found end of string, expected a label key", id="bang-alone"),
        pytest.param("app=web x", "found 'x', expected ',' or end of string", id="trailing-junk"),
        pytest.param("app=(x)", "found '(', expected a label value", id="paren-as-value"),
        pytest.param("a>x", "the value must be an integer", id="gt-non-integer"),
        pytest.param("a/b/c=x", "key 'a/b/c': a qualified name", id="bad-key"),
        pytest.param("app=-web", "value '-web': a valid label must be", id="bad-value"),
        pytest.param(
            "a" * 64 + "=x", "name part must be no more than 63 characters", id="long-key"
        ),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(SelectorError) as info:
        parse_selector(text)
    assert message in str(info.value)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("key", "op", "values", "message"),
    [
        pytest.param(
            "a", "=", ("x", "y"), "exact-match compatibility requires one single value", id="eq-two"
        ),
        pytest.param("a", "exists", ("x",), "values set must be empty", id="exists-values"),
        pytest.param("a", "gt", (), "exactly one value is required", id="gt-none"),
        pytest.param("a", "~", (), "'~' is not a valid operator", id="bad-op"),
    ],
)
def test_requirement_errors(key, op, values, message):
    with pytest.raises(SelectorError, match=message):
        requirement(key, op, values)


def test_requirements_and_exact_match():
    selector = parse_selector("b in (x),a=1,c")
    assert [r.key for r in selector.requirements] == ["a", "b", "c"]
    assert selector.requirements[1].operator is Operator.IN
    assert selector.requires_exact_match("a") == "1"
    assert selector.requires_exact_match("b") == "x"
    assert selector.requires_exact_match("c") is None
    extended = selector.with_requirements(requirement("0", Operator.EXISTS))
    assert str(extended) == "0,a=1,b in (x),c"


def test_everything_and_nothing():
    assert everything().matches({}) and everything().empty and str(everything()) == ""
    assert not nothing().matches({}) and not nothing().empty and str(nothing()) == ""
    assert nothing().with_requirements(requirement("a", "exists")) == nothing()


@pytest.mark.parametrize(
    ("msg", "canonical", "matches"),
    [
        pytest.param(None, "", False, id="missing-selects-nothing"),
        pytest.param(meta_pb2.LabelSelector(), "", True, id="empty-selects-everything"),
        pytest.param(
            meta_pb2.LabelSelector(match_labels={"tier": "frontend", "app": "web"}),
            "app=web,tier=frontend",
            True,
            id="match-labels",
        ),
        pytest.param(
            meta_pb2.LabelSelector(
                match_labels={"app": "web"},
                match_expressions=[
                    meta_pb2.LabelSelectorRequirement(
                        key="tier", operator="In", values=["frontend", "a"]
                    ),
                    meta_pb2.LabelSelectorRequirement(key="env", operator="NotIn", values=["prod"]),
                    meta_pb2.LabelSelectorRequirement(key="app", operator="Exists"),
                    meta_pb2.LabelSelectorRequirement(key="gone", operator="DoesNotExist"),
                ],
            ),
            "app,app=web,env notin (prod),!gone,tier in (a,frontend)",
            True,
            id="all-operators",
        ),
    ],
)
def test_selector_from_label_selector(msg, canonical, matches):
    selector = selector_from_label_selector(msg)
    assert str(selector) == canonical
    assert selector.matches(LABELS) is matches


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        pytest.param(
            meta_pb2.LabelSelectorRequirement(key="a", operator="in", values=["x"]),
            "'in' is not a valid label selector operator",
            id="lowercase-operator",
        ),
        pytest.param(
            meta_pb2.LabelSelectorRequirement(key="a", operator="Exists", values=["x"]),
            "values set must be empty",
            id="exists-with-values",
        ),
        pytest.param(
            meta_pb2.LabelSelectorRequirement(key="a", operator="In"),
            "values set can't be empty",
            id="in-without-values",
        ),
        pytest.param(
            meta_pb2.LabelSelectorRequirement(key="-a", operator="Exists"), "key '-a'", id="bad-key"
        ),
    ],
)
def test_selector_from_label_selector_errors(expr, message):
    with pytest.raises(SelectorError, match=message):
        selector_from_label_selector(meta_pb2.LabelSelector(match_expressions=[expr]))


def test_selector_from_map():
    selector = selector_from_map({"tier": "frontend", "app": "web"})
    assert str(selector) == "app=web,tier=frontend"
    assert selector.matches(LABELS)
    assert not selector.matches({"app": "web"})
    assert selector_from_map({}).empty
    with pytest.raises(SelectorError, match="value 'bad value'"):
        selector_from_map({"app": "bad value"})


@pytest.mark.parametrize(
    ("labels", "text"),
    [
        pytest.param({}, "<none>", id="empty"),
        pytest.param({"b": "2", "a": "1"}, "a=1,b=2", id="sorted"),
    ],
)
def test_format_labels(labels, text):
    assert format_labels(labels) == text
