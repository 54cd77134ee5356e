"""DefaultTolerationSeconds admission on pod create."""

from __future__ import annotations

import pytest

from apiserver.registry.kinds import core
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec

NR, UR = "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"


def _spec(tolerations: list[dict]) -> pod_pb2.PodSpec:
    return codec.from_dict(pod_pb2.PodSpec, {"tolerations": tolerations})


def _got(spec: pod_pb2.PodSpec) -> list[tuple]:
    return [
        (
            t.key,
            t.operator,
            t.effect,
            t.toleration_seconds if t.HasField("toleration_seconds") else None,
        )
        for t in spec.tolerations
    ]


CASES = [
    ("none", [], [(NR, "Exists", "NoExecute", 300), (UR, "Exists", "NoExecute", 300)]),
    (
        "own-not-ready-kept",
        [{"key": NR, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}],
        [(NR, "Exists", "NoExecute", 2), (UR, "Exists", "NoExecute", 300)],
    ),
    (
        "any-effect-counts",
        [{"key": UR, "operator": "Exists"}],
        [(UR, "Exists", "", None), (NR, "Exists", "NoExecute", 300)],
    ),
    ("tolerate-everything", [{"operator": "Exists"}], [("", "Exists", "", None)]),
    (
        "no-schedule-does-not-count",
        [{"key": NR, "operator": "Exists", "effect": "NoSchedule"}],
        [
            (NR, "Exists", "NoSchedule", None),
            (NR, "Exists", "NoExecute", 300),
            (UR, "Exists", "NoExecute", 300),
        ],
    ),
]


@pytest.mark.parametrize(("given", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_default_tolerations(given: list[dict], want: list[tuple]) -> None:
    spec = _spec(given)
    core.add_default_tolerations(spec)
    assert _got(spec) == want


def test_flags_set_the_seconds() -> None:
    try:
        core.configure_default_toleration_seconds(not_ready=7, unreachable=9)
        spec = _spec([])
        core.add_default_tolerations(spec)
        assert [t.toleration_seconds for t in spec.tolerations] == [7, 9]
    finally:
        core.configure_default_toleration_seconds(not_ready=300, unreachable=300)


def test_create_adds_them_update_does_not() -> None:
    from tests.unit.registry.helpers import created

    pod, errs = created("Pod", {})
    assert not errs
    assert {t.key for t in pod.spec.tolerations} == {NR, UR}
