"""Node health, condition taints, zones and taint-eviction timing: pure and table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controllers.nodelifecycle.health import (
    HealthTracker,
    desired_taints,
    reconcile_taints,
    unknown_status,
)
from controllers.nodelifecycle.tainteviction import eviction_time, min_toleration_seconds
from controllers.nodelifecycle.zones import (
    FULL,
    NORMAL,
    PARTIAL,
    TokenBucket,
    ZoneSettings,
    zone_rate,
    zone_states,
)
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import codec

T0 = datetime(2024, 1, 1, tzinfo=UTC)
UR, NR = "node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"


def node(
    ready: str | None = "True", *, unschedulable: bool = False, zone: str = "", **conds: str
) -> Any:
    conditions = [{"type": t, "status": s} for t, s in conds.items()]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready, "reason": "KubeletReady"})
    return codec.from_dict(
        node_pb2.Node,
        {
            "metadata": {
                "name": "n",
                "labels": {"topology.kubernetes.io/zone": zone} if zone else {},
            },
            "spec": {"unschedulable": unschedulable},
            "status": {"conditions": conditions},
        },
    )


def test_probe_time_moves_only_with_the_heartbeat() -> None:
    h = HealthTracker()
    assert h.observe("n", ("r1", "h1"), 10.0) == 10.0
    assert h.observe("n", ("r1", "h1"), 50.0) == 10.0
    assert h.observe("n", ("r2", "h1"), 60.0) == 60.0


def test_unknown_status() -> None:
    n = node("True", MemoryPressure="False")
    st = unknown_status(n, "2024-01-01T00:00:00Z")
    assert {(c.type, c.status, c.reason) for c in st.conditions} == {
        ("Ready", "Unknown", "NodeStatusUnknown"),
        ("MemoryPressure", "Unknown", "NodeStatusUnknown"),
    }
    again = node_pb2.Node()
    again.CopyFrom(n)
    again.status.CopyFrom(st)
    assert unknown_status(again, "x") is None
    never = unknown_status(node(None), "t")
    assert [(c.type, c.reason) for c in never.conditions] == [("Ready", "NodeStatusNeverUpdated")]


TAINTS = [
    ("ready", node("True"), []),
    ("not-ready", node("False"), [(NR, "NoExecute"), (NR, "NoSchedule")]),
    ("unknown", node("Unknown"), [(UR, "NoExecute"), (UR, "NoSchedule")]),
    (
        "pressure",
        node("True", DiskPressure="True"),
        [("node.kubernetes.io/disk-pressure", "NoSchedule")],
    ),
    (
        "cordoned",
        node("True", unschedulable=True),
        [("node.kubernetes.io/unschedulable", "NoSchedule")],
    ),
]


@pytest.mark.parametrize(("the_node", "want"), [c[1:] for c in TAINTS], ids=[c[0] for c in TAINTS])
def test_desired_taints(the_node: Any, want: list) -> None:
    assert desired_taints(the_node) == want


def test_reconcile_keeps_user_taints_and_holds_no_execute() -> None:
    n = codec.from_dict(
        node_pb2.Node,
        {
            "spec": {
                "taints": [
                    {"key": "user", "effect": "NoSchedule"},
                    {"key": NR, "effect": "NoExecute"},
                ]
            }
        },
    )
    want = [(UR, "NoExecute"), (UR, "NoSchedule")]
    taints, waiting = reconcile_taints(
        n.spec.taints, want, now_rfc3339="t", may_add_no_execute=False
    )
    assert [(t.key, t.effect) for t in taints] == [("user", "NoSchedule"), (UR, "NoSchedule")]
    assert waiting
    taints, waiting = reconcile_taints(
        n.spec.taints, want, now_rfc3339="t", may_add_no_execute=True
    )
    assert [(t.key, t.effect, t.time_added) for t in taints][-2:] == [
        (UR, "NoExecute", "t"),
        (UR, "NoSchedule", ""),
    ]
    assert not waiting


ZONES = [
    ("one-of-three-down", ["True", "True", "Unknown"], NORMAL),
    ("all-down", ["Unknown", "False"], FULL),
    ("three-of-four-down", ["True", "False", "False", "Unknown"], PARTIAL),
    ("two-of-two-ready", ["True", "True"], NORMAL),
]


@pytest.mark.parametrize(("readies", "state"), [c[1:] for c in ZONES], ids=[c[0] for c in ZONES])
def test_zone_states(readies: list[str], state: str) -> None:
    states = zone_states([node(r) for r in readies], ZoneSettings())
    assert states[""] == (state, len(readies))


def test_zone_rates_and_bucket() -> None:
    s = ZoneSettings(eviction_rate=0.5, secondary_eviction_rate=0.1, large_cluster_threshold=3)
    assert zone_rate(NORMAL, 10, s) == 0.5
    assert zone_rate(PARTIAL, 3, s) == 0.0
    assert zone_rate(PARTIAL, 4, s) == 0.1
    b = TokenBucket(0.5, now=0.0)
    assert b.take(0.0)
    assert not b.take(1.0)
    assert b.wait(1.0) == pytest.approx(1.0)
    assert b.take(2.0)
    stopped = TokenBucket(0.0)
    assert not stopped.take(0.0)
    assert stopped.wait(5.0) is None  # never at rate 0


def taint(key: str, added: datetime | None = None) -> Any:
    return codec.from_dict(
        node_pb2.Node,
        {
            "spec": {
                "taints": [
                    {
                        "key": key,
                        "effect": "NoExecute",
                        "timeAdded": added.strftime("%Y-%m-%dT%H:%M:%SZ") if added else "",
                    }
                ]
            }
        },
    ).spec.taints[0]


def pod(*tolerations: dict) -> pod_pb2.Pod:
    return codec.from_dict(pod_pb2.Pod, {"spec": {"tolerations": list(tolerations)}})


EVICTIONS = [
    ("untolerated-now", pod(), [taint(UR, T0)], T0 - timedelta(days=1)),
    (
        "toleration-seconds",
        pod({"key": UR, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}),
        [taint(UR, T0)],
        T0 + timedelta(seconds=5),
    ),
    (
        "smallest-wins",
        pod(
            {"key": UR, "operator": "Exists", "tolerationSeconds": 30},
            {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 7},
        ),
        [taint(UR, T0)],
        T0 + timedelta(seconds=7),
    ),
    ("forever", pod({"key": UR, "operator": "Exists"}), [taint(UR, T0)], None),
    ("no-taints", pod(), [], None),
    (
        "no-time-added-uses-first-seen",
        pod({"key": UR, "operator": "Exists", "tolerationSeconds": 2}),
        [taint(UR)],
        T0 + timedelta(seconds=102),
    ),
]


@pytest.mark.parametrize(
    ("the_pod", "taints", "due"), [c[1:] for c in EVICTIONS], ids=[c[0] for c in EVICTIONS]
)
def test_eviction_time(the_pod: Any, taints: list, due: Any) -> None:
    first_seen = T0 + timedelta(seconds=100)
    got = eviction_time(the_pod, taints, first_seen)
    if due is not None and due < T0:
        assert got is not None and got < first_seen
    else:
        assert got == due


def test_negative_toleration_seconds_count_as_zero() -> None:
    p = pod({"key": UR, "operator": "Exists", "tolerationSeconds": -5})
    assert min_toleration_seconds(p.spec.tolerations, [taint(UR)]) == 0
