"""DefaultTolerationSeconds admission on pod create."""

from __future__ import annotations

import pytest

from apiserver.registry.config import RegistryConfig
from apiserver.registry.kinds import pods
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec
from pinnace.machinery.wellknown import TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE

NR, UR = TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE


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
    pods.add_default_tolerations(spec, RegistryConfig())
    assert _got(spec) == want


def test_config_sets_the_seconds() -> None:
    config = RegistryConfig(not_ready_toleration_seconds=7, unreachable_toleration_seconds=9)
    spec = _spec([])
    pods.add_default_tolerations(spec, config)
    assert [t.toleration_seconds for t in spec.tolerations] == [7, 9]


def test_strategy_uses_its_config() -> None:
    """Two strategies with different settings do not share them."""
    from tests.unit.registry.helpers import strategy

    info = strategy("Pod").info
    seven = pods.PodStrategy(info, RegistryConfig(not_ready_toleration_seconds=7))
    pod = pod_pb2.Pod(spec=_spec([]))
    seven.prepare_for_create(pod)
    default_pod = pod_pb2.Pod(spec=_spec([]))
    pods.PodStrategy(info).prepare_for_create(default_pod)
    assert [t.toleration_seconds for t in pod.spec.tolerations] == [7, 300]
    assert [t.toleration_seconds for t in default_pod.spec.tolerations] == [300, 300]


def test_create_adds_them_update_does_not() -> None:
    from tests.unit.registry.helpers import created

    pod, errs = created("Pod", {})
    assert not errs
    assert {t.key for t in pod.spec.tolerations} == {NR, UR}
