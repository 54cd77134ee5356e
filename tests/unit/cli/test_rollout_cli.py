"""The pure parts of scale / rollout / set env: kubectl's status lines,
durations, env edits and the rollback target."""

from __future__ import annotations

import pytest

from pinnace.api.apps.v1 import deployment_pb2, replicaset_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.cli.commands import rollout


def _d(replicas=3, updated=3, total=3, available=3, generation=1, observed=1, reason=""):
    d = deployment_pb2.Deployment()
    d.metadata.name, d.metadata.generation = "x", generation
    d.spec.replicas = replicas
    st = d.status
    st.observed_generation, st.updated_replicas, st.replicas = observed, updated, total
    st.available_replicas = available
    if reason:
        st.conditions.add(type="Progressing", status="False", reason=reason)
    return d


@pytest.mark.parametrize(
    ("d", "want", "done"),
    [
        (_d(generation=2), "Waiting for deployment spec update to be observed...", False),
        (
            _d(updated=1, total=3),
            'Waiting for deployment "x" rollout to finish: 1 out of 3 new replicas have been updated...',
            False,
        ),
        (
            _d(updated=3, total=4),
            'Waiting for deployment "x" rollout to finish: 1 old replicas are pending termination...',
            False,
        ),
        (
            _d(available=2),
            'Waiting for deployment "x" rollout to finish: 2 of 3 updated replicas are available...',
            False,
        ),
        (_d(), 'deployment "x" successfully rolled out', True),
    ],
    ids=["not-observed", "updating", "old-pending", "available", "done"],
)
def test_status_message(d, want: str, done: bool) -> None:
    assert rollout.status_message(d) == (want, done)


def test_status_message_deadline_exceeded() -> None:
    with pytest.raises(rollout.RolloutError, match='deployment "x" exceeded its progress deadline'):
        rollout.status_message(_d(updated=1, reason="ProgressDeadlineExceeded"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("30", 30), ("30s", 30), ("2m", 120), ("1m30s", 90), ("1h", 3600)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert rollout.parse_duration(text) == seconds


def test_parse_duration_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        rollout.parse_duration("soon")


def test_apply_env_sets_replaces_and_removes() -> None:
    spec = pod_pb2.PodSpec()
    a = spec.containers.add(name="app")
    a.env.add(name="KEEP", value="1")
    a.env.add(name="OLD", value="x")
    spec.containers.add(name="sidecar")
    assert rollout.apply_env(spec, {"OLD": "y", "NEW": "z", "KEEP": None}, "app") == 1
    assert [(e.name, e.value) for e in spec.containers[0].env] == [("OLD", "y"), ("NEW", "z")]
    assert not spec.containers[1].env
    assert rollout.apply_env(spec, {"A": "1"}, "*") == 2


def _rs(rev: int) -> replicaset_pb2.ReplicaSet:
    rs = replicaset_pb2.ReplicaSet()
    rs.metadata.name = f"rs{rev}"
    rs.metadata.annotations[rollout.REVISION] = str(rev)
    return rs


def test_rollback_target() -> None:
    rss = [_rs(1), _rs(3), _rs(2)]
    assert rollout.rollback_target(rss, 0, "x").metadata.name == "rs2"
    assert rollout.rollback_target(rss, 1, "x").metadata.name == "rs1"
    with pytest.raises(rollout.RolloutError, match="unable to find specified revision 9"):
        rollout.rollback_target(rss, 9, "x")
    with pytest.raises(rollout.RolloutError, match="no rollout history"):
        rollout.rollback_target([_rs(1)], 0, "x")
