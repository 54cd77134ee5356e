"""plan.aggregated_rules: which roles feed an aggregated ClusterRole, in
which order, and how duplicate rules collapse."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.clusterroleaggregation.plan import aggregated_rules
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import codec

VIEW = {"matchLabels": {"agg": "view"}}
EDIT = {"matchLabels": {"agg": "edit"}}


def role(name: str, *rules: dict[str, Any], labels: dict | None = None, **more: Any) -> Any:
    doc = {"metadata": {"name": name, "labels": labels or {}}, "rules": list(rules), **more}
    return codec.from_dict(rbac_pb2.ClusterRole, doc)


def aggregated(*selectors: dict[str, Any], rules: tuple = ()) -> Any:
    return role("agg", *rules, aggregationRule={"clusterRoleSelectors": list(selectors)})


def r(verb: str, resource: str = "pods") -> dict[str, Any]:
    return {"verbs": [verb], "apiGroups": [""], "resources": [resource]}


CASES = [
    ("no-match", aggregated(VIEW), [role("x", r("get"))], []),
    (
        "by-name-then-rule-order",
        aggregated(VIEW),
        [
            role("b-view", r("get"), labels={"agg": "view"}),
            role("a-view", r("list"), r("get"), labels={"agg": "view"}),
        ],
        [r("list"), r("get")],
    ),
    (
        "selectors-in-order",
        aggregated(EDIT, VIEW),
        [
            role("a-view", r("get"), labels={"agg": "view"}),
            role("z-edit", r("create"), labels={"agg": "edit"}),
        ],
        [r("create"), r("get")],
    ),
    (
        "role-matched-twice-counted-once",
        aggregated(VIEW, {"matchExpressions": [{"key": "agg", "operator": "Exists"}]}),
        [role("v", r("get"), labels={"agg": "view"})],
        [r("get")],
    ),
    (
        "own-rules-replaced",
        aggregated(VIEW, rules=(r("delete"),)),
        [role("v", r("get"), labels={"agg": "view"})],
        [r("get")],
    ),
    (
        "verb-order-is-a-different-rule",
        aggregated(VIEW),
        [
            role(
                "a",
                {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
                labels={"agg": "view"},
            ),
            role(
                "b",
                {"verbs": ["list", "get"], "apiGroups": [""], "resources": ["pods"]},
                labels={"agg": "view"},
            ),
        ],
        [
            {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
            {"verbs": ["list", "get"], "apiGroups": [""], "resources": ["pods"]},
        ],
    ),
    (
        "non-resource-urls",
        aggregated(VIEW),
        [role("m", {"verbs": ["get"], "nonResourceURLs": ["/metrics"]}, labels={"agg": "view"})],
        [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}],
    ),
    (
        "bad-selector-matches-nothing",
        aggregated({"matchExpressions": [{"key": "agg", "operator": "Near"}]}),
        [role("v", r("get"), labels={"agg": "view"})],
        [],
    ),
]


@pytest.mark.parametrize(
    ("target", "others", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_aggregated_rules(target: Any, others: list[Any], want: list[dict]) -> None:
    got = aggregated_rules(target, [target, *others])
    assert got is not None
    assert [codec.to_dict(x) for x in got] == want


def test_itself_is_left_out() -> None:
    """An aggregated role whose labels its own selector matches does not feed itself."""
    target = role(
        "agg", r("get"), labels={"agg": "view"}, aggregationRule={"clusterRoleSelectors": [VIEW]}
    )
    assert aggregated_rules(target, [target]) == []


def test_a_role_without_aggregation_rule_keeps_its_rules() -> None:
    assert aggregated_rules(role("plain", r("get")), []) is None


def test_cache_objects_are_not_shared() -> None:
    source = role("v", r("get"), labels={"agg": "view"})
    got = aggregated_rules(aggregated(VIEW), [source])
    assert got is not None
    got[0].verbs.append("list")
    assert list(source.rules[0].verbs) == ["get"]
