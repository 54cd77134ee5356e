"""Score plugins (raw and normalized), the weighted total and the choice
among the best nodes."""

from __future__ import annotations

import collections
import random

import pytest

from scheduler.cache import Cache
from scheduler.framework import Framework, normalize_down, normalize_up, num_feasible_nodes_to_find
from scheduler.plugins import default_framework
from scheduler.plugins.node_affinity import NodeAffinity
from scheduler.plugins.node_resources_fit import NodeResourcesFit, least_requested
from scheduler.plugins.selector_spread import SelectorSpread
from scheduler.plugins.taint_toleration import TaintToleration
from scheduler.queue import SchedulingQueue
from scheduler.scheduler import Scheduler
from tests.unit.scheduler.builders import info, node, node_info, pod


@pytest.mark.parametrize(
    ("requested", "allocatable", "want"),
    [
        pytest.param(0, 4000, 100, id="empty"),
        pytest.param(1000, 4000, 75, id="quarter-used"),
        pytest.param(4000, 4000, 0, id="full"),
        pytest.param(5000, 4000, 0, id="overcommitted"),
        pytest.param(0, 0, 0, id="nothing-allocatable"),
        pytest.param(1, 3, 66, id="integer-division"),
    ],
)
def test_least_requested(requested, allocatable, want):
    assert least_requested(requested, allocatable) == want


@pytest.mark.parametrize(
    ("existing", "new", "want"),
    [
        # 4 cores / 8Gi. cpu (4000-2000)/4000 = 50, memory (8-4)/8 = 50.
        pytest.param({"cpu": "1", "memory": "2Gi"}, {"cpu": "1", "memory": "2Gi"}, 50, id="half"),
        # cpu (4000-1000)/4000 = 75, memory 8Gi - 200Mi default -> 97; (75+97)//2 = 86.
        pytest.param(None, {"cpu": "1"}, 86, id="missing-memory-counts-200Mi"),
        # no requests at all: 100m and 200Mi: cpu 97, memory 97.
        pytest.param(None, {}, 97, id="request-less-pod"),
    ],
)
def test_least_allocated_score(existing, new, want):
    pods = [pod("e", **existing)] if existing else []
    ni = node_info(node(), *pods)
    assert NodeResourcesFit().score(info(pod("new", **new)), ni) == want


def test_least_allocated_prefers_emptier_node():
    busy = node_info(node("busy"), pod("e", cpu="3"))
    idle = node_info(node("idle"))
    fit = NodeResourcesFit()
    p = info(pod("new", cpu="500m"))
    assert fit.score(p, idle) > fit.score(p, busy)


@pytest.mark.parametrize(
    ("raw", "up", "down"),
    [
        pytest.param([0, 0, 0], [0, 0, 0], [100, 100, 100], id="all-zero"),
        pytest.param([0, 1, 2], [0, 50, 100], [100, 50, 0], id="linear"),
        pytest.param([3, 3], [100, 100], [0, 0], id="all-equal"),
    ],
)
def test_normalize(raw, up, down):
    assert normalize_up(raw) == up
    assert normalize_down(raw) == down


def test_selector_spread_counts_same_owner_only():
    plugin = SelectorSpread()
    a = node_info(node("a"), pod("x1", owner="rs1"), pod("x2", owner="rs1"), pod("y", owner="rs2"))
    b = node_info(node("b"), pod("x3", owner="rs1"))
    c = node_info(node("c"), pod("z"))
    p = info(pod("new", owner="rs1"))
    raw = [plugin.score(p, n) for n in (a, b, c)]
    assert raw == [2, 1, 0]
    assert plugin.normalize(raw) == [0, 50, 100]
    assert [plugin.score(info(pod("solo")), n) for n in (a, b, c)] == [0, 0, 0]


def test_taint_toleration_score_prefer_no_schedule():
    plugin = TaintToleration()
    prefer = {"key": "spot", "value": "yes", "effect": "PreferNoSchedule"}
    tainted = node_info(node("t", taints=[prefer]))
    clean = node_info(node("c"))
    p = info(pod())
    raw = [plugin.score(p, tainted), plugin.score(p, clean)]
    assert plugin.normalize(raw) == [0, 100]
    tolerant = info(pod(spec={"tolerations": [{"key": "spot", "operator": "Exists"}]}))
    assert plugin.score(tolerant, tainted) == 0


def test_node_affinity_preferred_score():
    plugin = NodeAffinity()
    spec = {
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 10,
                        "preference": {
                            "matchExpressions": [
                                {"key": "disk", "operator": "In", "values": ["ssd"]}
                            ]
                        },
                    },
                    {
                        "weight": 30,
                        "preference": {
                            "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]
                        },
                    },
                ]
            }
        }
    }
    p = info(pod(spec=spec))
    nodes = [
        node_info(node("both", labels={"disk": "ssd", "zone": "a"})),
        node_info(node("ssd", labels={"disk": "ssd"})),
        node_info(node("none")),
    ]
    raw = [plugin.score(p, n) for n in nodes]
    assert raw == [40, 10, 0]
    assert plugin.normalize(raw) == [100, 25, 0]


def test_framework_total_is_weighted_sum():
    fw = default_framework()
    p = info(pod("new", owner="rs1"))
    nodes = [node_info(node("a"), pod("x", owner="rs1")), node_info(node("b"))]
    totals = fw.score(p, nodes)
    # b: spread 100*2 beats a's 0; both have near-equal LeastAllocated.
    assert totals[1] > totals[0]


class _Fixed:
    name = "Fixed"
    weight = 1

    def __init__(self, scores):
        self._scores = scores

    def score(self, pod, node):
        return self._scores[node.name]

    def normalize(self, scores):
        return scores


def test_select_host_picks_best_and_breaks_ties_at_random():
    nodes = [node_info(node(n)) for n in ("a", "b", "c")]
    sched = Scheduler(
        pods=None,
        cache=Cache(),
        queue=SchedulingQueue(),
        framework=Framework([], [_Fixed({"a": 5, "b": 9, "c": 9})]),
        control=None,
        recorder=None,
        rng=random.Random(7),
    )
    scores = sched.framework.score(info(pod()), nodes)
    picks = collections.Counter(sched.select_host(nodes, scores) for _ in range(400))
    assert set(picks) == {"b", "c"}
    assert 120 < picks["b"] < 280


@pytest.mark.parametrize(
    ("nodes", "percentage", "want"),
    [
        pytest.param(50, 0, 50, id="small-cluster-all"),
        pytest.param(100, 0, 100, id="100-nodes-min-100"),
        pytest.param(1000, 0, 420, id="1000-nodes-42pct"),
        pytest.param(5000, 0, 500, id="5000-nodes-10pct"),
        pytest.param(20000, 0, 1000, id="floor-5pct"),
        pytest.param(1000, 100, 1000, id="all-requested"),
        pytest.param(1000, 1, 100, id="at-least-100"),
    ],
)
def test_num_feasible_nodes_to_find(nodes, percentage, want):
    assert num_feasible_nodes_to_find(nodes, percentage) == want


def test_find_feasible_stops_at_limit_and_starts_at_offset():
    fw = default_framework()
    nodes = [node_info(node(f"n{i}")) for i in range(5)]
    result = fw.find_feasible(info(pod()), nodes, limit=2, start=3)
    assert [n.name for n in result.feasible] == ["n3", "n4"]
    everything = fw.find_feasible(info(pod(cpu="100")), nodes, limit=2, start=3)
    assert everything.feasible == [] and len(everything.failed) == 5
