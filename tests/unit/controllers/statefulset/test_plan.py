"""The pure ordering and update logic of one StatefulSet sync (plan.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controllers.statefulset import history
from controllers.statefulset.plan import Inputs, plan
from controllers.statefulset.util import StatefulSet, new_pod
from pinnace.machinery import codec
from pinnace.machinery.wellknown import LABEL_CONTROLLER_REVISION_HASH as REVISION_LABEL

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def make_set(replicas: int = 3, **spec: object) -> StatefulSet:
    s = codec.from_dict(
        StatefulSet,
        {
            "metadata": {"name": "web", "namespace": "ns", "uid": "set-uid", "generation": 1},
            "spec": {
                "replicas": replicas,
                "serviceName": "web",
                "selector": {"matchLabels": {"app": "web"}},
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"partition": 0, "maxUnavailable": 1},
                },
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                },
                **spec,
            },
        },
    )
    return s


def pod(s: StatefulSet, ordinal: int, state: str = "ready", rev: str = "r1"):
    p = new_pod(s, s, ordinal, rev)
    p.metadata.uid = f"uid-{ordinal}"
    if state in ("ready", "running", "terminating"):
        p.status.phase = "Running"
    elif state == "failed":
        p.status.phase = "Failed"
    else:
        p.status.phase = "Pending"
    if state in ("ready", "terminating"):
        p.status.conditions.add(
            type="Ready",
            status="True",
            last_transition_time=(NOW - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    if state == "terminating":
        p.metadata.deletion_timestamp = "2025-01-01T00:00:00Z"
    return p


def run(s: StatefulSet, pods, *, current: str = "r1", update: str = "r1") -> list[tuple[str, str]]:
    actions = plan(
        Inputs(
            set=s,
            pods=pods,
            current_set=s,
            update_set=s,
            current_revision=current,
            update_revision=update,
            now=NOW,
        )
    )
    return [(a.kind, a.name) for a in actions]


S = make_set


@pytest.mark.parametrize(
    ("set_", "states", "expected"),
    [
        pytest.param(S(3), {}, [("create", "web-0")], id="first-pod-only"),
        pytest.param(S(3), {0: "ready"}, [("create", "web-1")], id="next-after-ready"),
        pytest.param(S(3), {0: "running"}, [], id="waits-for-ready"),
        pytest.param(S(3), {0: "pending"}, [], id="waits-for-running"),
        pytest.param(S(3), {0: "terminating"}, [], id="waits-for-terminating"),
        pytest.param(S(3), {0: "failed", 1: "ready"}, [("delete", "web-0")], id="failed-deleted"),
        pytest.param(
            S(3, podManagementPolicy="Parallel"),
            {},
            [("create", "web-0"), ("create", "web-1"), ("create", "web-2")],
            id="parallel-burst",
        ),
        pytest.param(
            S(1), {0: "ready", 1: "ready", 2: "ready"}, [("delete", "web-2")], id="scale-down-top"
        ),
        pytest.param(
            S(1), {0: "ready", 1: "ready", 2: "terminating"}, [], id="scale-down-waits-terminating"
        ),
        pytest.param(S(1), {0: "running", 1: "ready"}, [], id="scale-down-halts-on-unhealthy"),
        pytest.param(
            S(1), {0: "ready", 1: "running"}, [("delete", "web-1")], id="first-unhealthy-may-go"
        ),
        pytest.param(
            S(2, ordinals={"start": 3}), {3: "ready"}, [("create", "web-4")], id="start-ordinal"
        ),
        pytest.param(
            S(2, ordinals={"start": 3}),
            {3: "ready", 4: "ready", 0: "ready"},
            [("delete", "web-0")],
            id="out-of-range-condemned",
        ),
    ],
)
def test_ordering(set_: StatefulSet, states: dict[int, str], expected) -> None:
    pods = [pod(set_, o, st) for o, st in states.items()]
    assert run(set_, pods) == expected


@pytest.mark.parametrize(
    ("strategy", "revs", "expected"),
    [
        pytest.param(
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}},
            ["r1", "r1", "r1"],
            [("delete", "web-2")],
            id="highest-first",
        ),
        pytest.param(
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}},
            ["r1", "r1", "r2"],
            [("delete", "web-1")],
            id="then-next",
        ),
        pytest.param(
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 2, "maxUnavailable": 1}},
            ["r1", "r1", "r2"],
            [],
            id="partition-stops",
        ),
        pytest.param(
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 2}},
            ["r1", "r1", "r1"],
            [("delete", "web-2"), ("delete", "web-1")],
            id="max-unavailable-2",
        ),
        pytest.param({"type": "OnDelete"}, ["r1", "r1", "r1"], [], id="on-delete"),
    ],
)
def test_rolling_update(strategy: dict, revs: list[str], expected) -> None:
    s = make_set(3, updateStrategy=strategy)
    pods = [pod(s, o, "ready", rev) for o, rev in enumerate(revs)]
    assert run(s, pods, current="r1", update="r2") == expected


def test_partition_recreates_below_at_current_revision() -> None:
    s = make_set(3, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    actions = plan(
        Inputs(
            set=s,
            pods=[pod(s, 1, "ready"), pod(s, 2, "ready", "r2")],
            current_set=s,
            update_set=s,
            current_revision="r1",
            update_revision="r2",
            now=NOW,
        )
    )
    assert [(a.kind, a.name, a.pod.metadata.labels[REVISION_LABEL]) for a in actions] == [
        ("create", "web-0", "r1")
    ]


def test_revision_rollback_reuses_the_older_revision() -> None:
    s = make_set(1)
    first = history.new_revision(s, 1, None)
    s2 = StatefulSet()
    s2.CopyFrom(s)
    s2.spec.template.metadata.labels["v"] = "2"
    second = history.new_revision(s2, 2, None)
    assert history.choose_update_revision(s2, [first, second]).action == "reuse"
    choice = history.choose_update_revision(s, [first, second])
    assert (choice.action, choice.revision.metadata.name, choice.revision.revision) == (
        "renumber",
        first.metadata.name,
        3,
    )
    s3 = StatefulSet()
    s3.CopyFrom(s)
    s3.spec.template.metadata.labels["v"] = "3"
    assert history.choose_update_revision(s3, [first, second]).action == "create"
    applied = history.apply_revision(s3, second)
    assert codec.to_dict(applied.spec.template) == codec.to_dict(s2.spec.template)
