"""DaemonSet plans: eligibility, the per-node plan, rolling updates (with and
without surge) and status, on pure objects with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controllers.daemonset.plan import calculate_status, plan_nodes, plan_rolling_update
from controllers.daemonset.util import (
    daemon_pod_template,
    pin_to_node,
    pinned_node,
    should_run,
    surge_and_unavailable,
)
from pinnace.api.apps.v1 import daemonset_pb2
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import codec
from pinnace.machinery.timeutil import format_rfc3339
from pinnace.machinery.wellknown import LABEL_CONTROLLER_REVISION_HASH as HASH_LABEL

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def ds(strategy: dict | None = None, **spec: Any) -> daemonset_pb2.DaemonSet:
    body = {
        "metadata": {"name": "d", "namespace": "ns", "uid": "ds-uid", "generation": 2},
        "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {
                "metadata": {"labels": {"app": "d"}},
                "spec": {"containers": [{"name": "c", "image": "x"}], **spec},
            },
        },
    }
    if strategy:
        body["spec"]["updateStrategy"] = strategy
    return codec.from_dict(daemonset_pb2.DaemonSet, body)


def node(name: str, labels: dict | None = None, taints: list | None = None) -> node_pb2.Node:
    return codec.from_dict(
        node_pb2.Node,
        {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}},
    )


def pod(
    name: str,
    node_name: str,
    *,
    hash_value: str = "new",
    ready: bool = True,
    phase: str = "Running",
    age: int = 0,
    deleting: bool = False,
) -> pod_pb2.Pod:
    p = pod_pb2.Pod()
    p.metadata.name = name
    p.metadata.uid = f"uid-{name}"
    p.metadata.labels[HASH_LABEL] = hash_value
    p.metadata.creation_timestamp = format_rfc3339(NOW - timedelta(seconds=100 - age))
    if deleting:
        p.metadata.deletion_timestamp = format_rfc3339(NOW)
    p.spec.node_name = node_name
    p.status.phase = phase
    p.status.conditions.add(
        type="Ready",
        status="True" if ready else "False",
        last_transition_time=format_rfc3339(NOW - timedelta(seconds=60)),
    )
    return p


# ---- eligibility -------------------------------------------------------------------

ELIGIBILITY = [
    ("plain", {}, node("n"), (True, True)),
    (
        "selector-matches",
        {"nodeSelector": {"disk": "ssd"}},
        node("n", {"disk": "ssd"}),
        (True, True),
    ),
    ("selector-misses", {"nodeSelector": {"disk": "ssd"}}, node("n"), (False, False)),
    (
        "no-schedule-taint",
        {},
        node("n", taints=[{"key": "k", "effect": "NoSchedule"}]),
        (False, True),
    ),
    (
        "no-execute-taint",
        {},
        node("n", taints=[{"key": "k", "effect": "NoExecute"}]),
        (False, False),
    ),
    (
        "tolerated",
        {"tolerations": [{"key": "k", "operator": "Exists"}]},
        node("n", taints=[{"key": "k", "effect": "NoExecute"}]),
        (True, True),
    ),
    (
        "unschedulable-tolerated-automatically",
        {},
        node("n", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
        (True, True),
    ),
    (
        "unreachable-tolerated-automatically",
        {},
        node("n", taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]),
        (True, True),
    ),
    (
        "network-unavailable-only-for-host-network",
        {},
        node(
            "n", taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]
        ),
        (False, True),
    ),
    (
        "required-affinity",
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "zone", "operator": "In", "values": ["a"]}
                                ]
                            }
                        ]
                    }
                }
            }
        },
        node("n", {"zone": "b"}),
        (False, False),
    ),
]


@pytest.mark.parametrize(
    ("spec", "the_node", "want"), [c[1:] for c in ELIGIBILITY], ids=[c[0] for c in ELIGIBILITY]
)
def test_should_run(spec: dict, the_node: Any, want: tuple[bool, bool]) -> None:
    e = should_run(ds(**spec), the_node)
    assert (e.should_run, e.should_continue_running) == want


def test_template_tolerations_and_pinning() -> None:
    d = ds(hostNetwork=True)
    t = daemon_pod_template(d, "h1")
    keys = {(x.key, x.effect) for x in t.spec.tolerations}
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") in keys
    assert all(not x.HasField("toleration_seconds") for x in t.spec.tolerations)
    assert t.metadata.labels[HASH_LABEL] == "h1"
    assert not d.spec.template.spec.tolerations  # the DaemonSet is untouched
    p = pod_pb2.Pod()
    p.spec.CopyFrom(t.spec)
    pin_to_node(p.spec, "n7")
    assert pinned_node(p) == "n7"


# ---- the per-node plan ---------------------------------------------------------------


def _plan(d: Any, nodes: list, pods: dict, backoff: float = 0.0) -> Any:
    return plan_nodes(
        d,
        nodes,
        pods,
        hash_value="new",
        eligibility=lambda n: should_run(d, n),
        backoff_remaining=lambda name: backoff,
    )


NODE_PLANS = [
    ("creates-missing", {"a": [], "b": [pod("p", "b")]}, 0.0, ["a"], [], None),
    (
        "keeps-oldest",
        {"a": [pod("old", "a"), pod("young", "a", age=5)], "b": []},
        0.0,
        ["b"],
        ["young"],
        None,
    ),
    (
        "failed-deleted",
        {"a": [pod("f", "a", phase="Failed")], "b": [pod("p", "b")]},
        0.0,
        [],
        ["f"],
        None,
    ),
    (
        "failed-in-backoff",
        {"a": [pod("f", "a", phase="Failed")], "b": [pod("p", "b")]},
        3.0,
        [],
        [],
        3.0,
    ),
    (
        "terminating-waits",
        {"a": [pod("t", "a", deleting=True)], "b": [pod("p", "b")]},
        0.0,
        [],
        [],
        None,
    ),
]


@pytest.mark.parametrize(
    ("pods", "backoff", "creates", "deletes", "requeue"),
    [c[1:] for c in NODE_PLANS],
    ids=[c[0] for c in NODE_PLANS],
)
def test_plan_nodes(pods: dict, backoff: float, creates: list, deletes: list, requeue: Any) -> None:
    plan = _plan(ds(), [node("a"), node("b")], pods, backoff)
    assert plan.create_on == creates
    assert [p.metadata.name for p in plan.delete] == deletes
    assert plan.requeue == requeue


def test_unbound_pod_for_a_missing_node_is_deleted() -> None:
    stray = pod("x", "")
    pin_to_node(stray.spec, "gone")
    plan = _plan(ds(), [node("a")], {"a": [pod("p", "a")], "gone": [stray]})
    assert [p.metadata.name for p in plan.delete] == ["x"]


def test_misscheduled_pods_are_deleted() -> None:
    d = ds(nodeSelector={"x": "y"})
    plan = _plan(d, [node("a")], {"a": [pod("p", "a")]})
    assert [p.metadata.name for p in plan.delete] == ["p"]
    assert plan.create_on == []


# ---- rolling updates ------------------------------------------------------------------


def _roll(strategy: dict | None, pods: dict) -> Any:
    d = ds(strategy)
    return plan_rolling_update(
        d, pods, hash_value="new", desired=len(pods), should_run=lambda n: True, now=NOW
    )


OLD3 = {n: [pod(f"o{n}", n, hash_value="old")] for n in "abc"}
ROLLING = [
    ("max-unavailable-1", None, OLD3, [], ["oa"]),
    (
        "waits-for-new-to-be-available",
        None,
        {"a": [pod("na", "a", ready=False)], "b": OLD3["b"], "c": OLD3["c"]},
        [],
        [],
    ),
    (
        "unavailable-old-replaced-for-free",
        None,
        {
            "a": [pod("na", "a", ready=False)],
            "b": [pod("ob", "b", hash_value="old", ready=False)],
            "c": OLD3["c"],
        },
        [],
        ["ob"],
    ),
    (
        "max-unavailable-2",
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}},
        OLD3,
        [],
        ["oa", "ob"],
    ),
    (
        "surge-creates-first",
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        OLD3,
        ["a"],
        [],
    ),
    (
        "surge-deletes-old-when-new-available",
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        {
            "a": [pod("oa", "a", hash_value="old"), pod("na", "a", age=5)],
            "b": OLD3["b"],
            "c": OLD3["c"],
        },
        ["b"],
        ["oa"],
    ),
    (
        "surge-waits-while-new-unready",
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        {
            "a": [pod("oa", "a", hash_value="old"), pod("na", "a", ready=False)],
            "b": OLD3["b"],
            "c": OLD3["c"],
        },
        [],
        [],
    ),
]


@pytest.mark.parametrize(
    ("strategy", "pods", "creates", "deletes"),
    [c[1:] for c in ROLLING],
    ids=[c[0] for c in ROLLING],
)
def test_rolling_update(strategy: Any, pods: dict, creates: list, deletes: list) -> None:
    plan = _roll(strategy, pods)
    assert plan.create_on == creates
    assert sorted(p.metadata.name for p in plan.delete) == deletes


@pytest.mark.parametrize(
    ("ru", "desired", "want"),
    [
        ({}, 10, (0, 1)),
        ({"maxUnavailable": "25%"}, 10, (0, 3)),
        ({"maxSurge": "10%", "maxUnavailable": 0}, 5, (1, 0)),
        ({"maxSurge": 0, "maxUnavailable": "0%"}, 5, (0, 1)),
    ],
    ids=["defaults", "percent-rounds-up", "surge-percent", "both-zero"],
)
def test_surge_and_unavailable(ru: dict, desired: int, want: tuple[int, int]) -> None:
    d = ds({"type": "RollingUpdate", "rollingUpdate": ru})
    assert surge_and_unavailable(d, desired) == want


# ---- status ----------------------------------------------------------------------------


def test_status() -> None:
    d = ds(nodeSelector={"run": "yes"})
    nodes = [
        node("a", {"run": "yes"}),
        node("b", {"run": "yes"}),
        node("c", {"run": "yes"}),
        node("d"),
    ]
    pods = {
        "a": [pod("pa", "a")],
        "b": [pod("pb", "b", hash_value="old", ready=False)],
        "c": [pod("pc", "c", deleting=True)],
        "d": [pod("pd", "d")],
    }
    st = calculate_status(
        d, nodes, pods, hash_value="new", eligibility=lambda n: should_run(d, n), now=NOW
    )
    assert (
        st.desired_number_scheduled,
        st.current_number_scheduled,
        st.number_ready,
        st.number_available,
        st.updated_number_scheduled,
        st.number_misscheduled,
        st.number_unavailable,
        st.observed_generation,
    ) == (3, 2, 1, 1, 1, 1, 2, 2)
