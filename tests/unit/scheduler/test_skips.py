"""PreFilter and PreScore skips (framework.py): a plugin with nothing to say
about a pod is not asked per node, and skipping never changes a decision."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.client.informer import Store
from scheduler.framework import SUCCESS, Framework, Status, normalize_up
from scheduler.nodeinfo import NodeInfo, PodInfo
from scheduler.plugins import default_framework
from scheduler.plugins.node_affinity import NodeAffinity
from scheduler.plugins.node_name import NodeName
from scheduler.plugins.node_ports import NodePorts
from scheduler.plugins.selector_spread import SelectorSpread
from scheduler.plugins.volume_binding import VolumeBinding
from tests.unit.scheduler.builders import info, node, node_info, pod

REQUIRED = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
            ]
        }
    }
}
NO_TERMS = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}
PREFERRED = {
    "nodeAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 5,
                "preference": {
                    "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]
                },
            }
        ]
    }
}


@pytest.mark.parametrize(
    ("spec", "filter_skip", "score_skip"),
    [
        ({}, True, True),
        ({"nodeSelector": {"zone": "a"}}, False, True),
        ({"affinity": REQUIRED}, False, True),
        # Required with no terms matches no node: it must be asked.
        ({"affinity": NO_TERMS}, False, True),
        ({"affinity": PREFERRED}, True, False),
    ],
    ids=["none", "node-selector", "required", "required-no-terms", "preferred-only"],
)
def test_node_affinity_skips(spec: dict, filter_skip: bool, score_skip: bool) -> None:
    p = info(pod(spec=spec))
    assert NodeAffinity().pre_filter_skip(p) is filter_skip
    assert NodeAffinity().pre_score_skip(p) is score_skip


@pytest.mark.parametrize(
    ("ports", "skip"),
    [
        (None, True),
        ([{"containerPort": 80}], False),
        ([{"containerPort": 80, "hostPort": 8080}], False),
    ],
    ids=["no-ports", "container-port", "host-port"],
)
def test_node_ports_skips_only_a_pod_without_ports(ports: Any, skip: bool) -> None:
    assert NodePorts().pre_filter_skip(info(pod(ports=ports))) is skip


def test_volume_binding_skips_only_a_pod_without_claims() -> None:
    binding = VolumeBinding(Store(), Store())
    assert binding.pre_filter_skip(info(pod()))
    with_claim = pod(spec={"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "c"}}]})
    assert not binding.pre_filter_skip(info(with_claim))
    # Asked, it names the missing claim, as before.
    assert not binding.filter(info(with_claim), node_info(node("n1"))).ok


def test_node_name_and_selector_spread_skips() -> None:
    assert NodeName().pre_filter_skip(info(pod()))
    assert not NodeName().pre_filter_skip(info(pod(spec={"nodeName": "n1"})))
    assert SelectorSpread().pre_score_skip(info(pod()))
    assert not SelectorSpread().pre_score_skip(info(pod(owner="rs-1")))


class Counting:
    """A plugin that counts its per-node calls and may skip every pod."""

    name = "Counting"
    weight = 1

    def __init__(self, skip: bool) -> None:
        self.skip = skip
        self.calls = 0

    def pre_filter_skip(self, pod: PodInfo) -> bool:
        return self.skip

    def pre_score_skip(self, pod: PodInfo) -> bool:
        return self.skip

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        self.calls += 1
        return SUCCESS

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        self.calls += 1
        return 7

    def normalize(self, scores: list[int]) -> list[int]:
        return normalize_up(scores)


@pytest.mark.parametrize(("skip", "calls", "total"), [(True, 0, 0), (False, 6, 100)])
def test_a_skipping_plugin_is_not_called_per_node(skip: bool, calls: int, total: int) -> None:
    plugin = Counting(skip)
    fw = Framework(filters=[plugin], scores=[plugin])
    nodes = [node_info(node(f"n{i}")) for i in range(3)]
    result = fw.find_feasible(info(pod()), nodes)
    assert [n.name for n in result.feasible] == ["n0", "n1", "n2"]
    assert fw.score(info(pod()), nodes) == [total] * 3
    assert plugin.calls == calls


@pytest.mark.parametrize(
    "spec",
    [{}, {"nodeSelector": {"zone": "a"}}, {"affinity": REQUIRED}, {"affinity": PREFERRED}],
    ids=["none", "node-selector", "required", "preferred"],
)
def test_skips_change_no_decision(spec: dict) -> None:
    """The default framework with and without skips: the same feasible nodes
    and the same scores."""
    nodes = [
        node_info(node("a1", labels={"zone": "a"})),
        node_info(node("b1", labels={"zone": "b"})),
        node_info(node("a2", labels={"zone": "a"})),
    ]
    p = info(pod(spec=spec, ports=[{"containerPort": 80}] if spec else None, owner="rs"))
    fw = default_framework(Store(), Store())
    unskipped = Framework(
        filters=[_NoSkip(f) for f in fw.filters], scores=[_NoSkip(s) for s in fw.scores]
    )
    want = unskipped.find_feasible(p, nodes)
    got = fw.find_feasible(p, nodes)
    assert [n.name for n in got.feasible] == [n.name for n in want.feasible]
    assert got.failed == want.failed
    assert fw.score(p, got.feasible) == unskipped.score(p, want.feasible)


class _NoSkip:
    """A plugin's filter and score without its skips."""

    def __init__(self, plugin: Any) -> None:
        self.plugin = plugin
        self.name = plugin.name
        self.weight = getattr(plugin, "weight", 0)

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        return self.plugin.filter(pod, node)

    def score(self, pod: PodInfo, node: NodeInfo) -> int:
        return self.plugin.score(pod, node)

    def normalize(self, scores: list[int]) -> list[int]:
        return self.plugin.normalize(scores)
