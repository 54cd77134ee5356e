"""Tolerations against taints and required node affinity (shared by the
scheduler and the controllers)."""

from __future__ import annotations

import pytest

from pinnace.api.core.v1 import affinity_pb2, pod_pb2
from pinnace.machinery import codec
from pinnace.machinery.nodematch import required_matches, tolerates

T = affinity_pb2.Taint
TOL = affinity_pb2.Toleration


@pytest.mark.parametrize(
    ("toleration", "taint", "want"),
    [
        (
            TOL(key="k", value="v", effect="NoSchedule"),
            T(key="k", value="v", effect="NoSchedule"),
            True,
        ),
        (
            TOL(key="k", value="x", effect="NoSchedule"),
            T(key="k", value="v", effect="NoSchedule"),
            False,
        ),
        (TOL(key="k", operator="Exists"), T(key="k", value="v", effect="NoExecute"), True),
        (TOL(operator="Exists"), T(key="any", effect="NoSchedule"), True),
        (
            TOL(key="k", operator="Exists", effect="NoSchedule"),
            T(key="k", effect="NoExecute"),
            False,
        ),
        (TOL(key="", operator="Equal"), T(key="k"), False),
        (TOL(key="k", operator="Bogus"), T(key="k"), False),
    ],
    ids=[
        "equal",
        "other-value",
        "exists-any-effect",
        "exists-empty-key",
        "effect-mismatch",
        "equal-no-key",
        "bad-op",
    ],
)
def test_tolerates(toleration: TOL, taint: T, want: bool) -> None:
    assert tolerates(toleration, taint) is want


def _spec(**spec: object) -> pod_pb2.PodSpec:
    return codec.from_dict(pod_pb2.Pod, {"spec": spec}).spec


def _required(*terms: dict) -> dict:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
        }
    }


@pytest.mark.parametrize(
    ("spec", "labels", "node", "want"),
    [
        ({}, {}, "n1", True),
        ({"nodeSelector": {"disk": "ssd"}}, {"disk": "ssd"}, "n1", True),
        ({"nodeSelector": {"disk": "ssd"}}, {"disk": "hdd"}, "n1", False),
        (
            {
                "affinity": _required(
                    {"matchExpressions": [{"key": "z", "operator": "In", "values": ["a", "b"]}]}
                )
            },
            {"z": "b"},
            "n1",
            True,
        ),
        (
            {
                "affinity": _required(
                    {"matchExpressions": [{"key": "z", "operator": "NotIn", "values": ["a"]}]}
                )
            },
            {},
            "n1",
            True,
        ),
        (
            {
                "affinity": _required(
                    {"matchExpressions": [{"key": "z", "operator": "DoesNotExist"}]}
                )
            },
            {"z": "1"},
            "n1",
            False,
        ),
        (
            {
                "affinity": _required(
                    {"matchExpressions": [{"key": "n", "operator": "Gt", "values": ["3"]}]}
                )
            },
            {"n": "4"},
            "n1",
            True,
        ),
        (
            {
                "affinity": _required(
                    {"matchExpressions": [{"key": "n", "operator": "Lt", "values": ["3"]}]}
                )
            },
            {"n": "x"},
            "n1",
            False,
        ),
        (
            {
                "affinity": _required(
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}
                )
            },
            {},
            "n2",
            True,
        ),
        (
            {
                "affinity": _required(
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}
                )
            },
            {},
            "n1",
            False,
        ),
        (
            {"affinity": _required({}, {"matchExpressions": [{"key": "z", "operator": "Exists"}]})},
            {"z": ""},
            "n1",
            True,
        ),
        ({"affinity": _required({})}, {}, "n1", False),
    ],
    ids=[
        "nothing",
        "selector",
        "selector-miss",
        "in",
        "notin-absent",
        "doesnotexist",
        "gt",
        "lt-nonint",
        "field-in",
        "field-miss",
        "terms-ored",
        "empty-term",
    ],
)
def test_required_matches(spec: dict, labels: dict, node: str, want: bool) -> None:
    assert required_matches(_spec(**spec), labels, node) is want
