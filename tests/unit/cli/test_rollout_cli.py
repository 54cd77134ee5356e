"""The pure parts of scale / rollout / set env: kubectl's status lines
(Deployment, StatefulSet, DaemonSet), env edits, ControllerRevision
templates and the rollback target."""

from __future__ import annotations

import pytest

from pinnace.api.apps.v1 import (
    controllerrevision_pb2,
    daemonset_pb2,
    deployment_pb2,
    replicaset_pb2,
    statefulset_pb2,
)
from pinnace.api.core.v1 import pod_pb2
from pinnace.cli.commands import rollout
from pinnace.machinery import codec
from pinnace.machinery.wellknown import (
    ANNOTATION_CHANGE_CAUSE,
    ANNOTATION_DEPLOYMENT_REVISION,
    LABEL_POD_TEMPLATE_HASH,
)


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
    rs.metadata.annotations[ANNOTATION_DEPLOYMENT_REVISION] = str(rev)
    return rs


def _revisions(*numbers: int) -> list[rollout.Revision]:
    return [rollout.Revision(n, "", pod_pb2.PodTemplateSpec(), _rs(n)) for n in numbers]


@pytest.mark.parametrize(
    ("numbers", "to", "kind", "want"),
    [
        ((1, 3, 2), 0, "Deployment", 2),
        ((1, 3, 2), 1, "Deployment", 1),
        ((4, 7), 0, "StatefulSet", 4),
        ((4, 7), 7, "DaemonSet", 7),
    ],
    ids=["previous", "explicit", "sts-previous", "ds-current"],
)
def test_rollback_target(numbers: tuple[int, ...], to: int, kind: str, want: int) -> None:
    assert rollout.rollback_target(_revisions(*numbers), to, kind, "x").number == want


@pytest.mark.parametrize(
    ("numbers", "to", "kind", "error"),
    [
        ((1, 2), 9, "StatefulSet", "unable to find specified revision 9 in history"),
        ((1,), 0, "Deployment", 'no rollout history found for deployment "x"'),
        ((1,), 0, "DaemonSet", "no last revision to roll back to"),
    ],
    ids=["missing", "deployment-no-previous", "ds-no-previous"],
)
def test_rollback_target_errors(numbers: tuple[int, ...], to: int, kind: str, error: str) -> None:
    with pytest.raises(rollout.RolloutError, match=error):
        rollout.rollback_target(_revisions(*numbers), to, kind, "x")


# ---- StatefulSet and DaemonSet -------------------------------------------------------


def _sts(
    replicas=3,
    ready=3,
    updated=3,
    current=3,
    generation=1,
    observed=1,
    partition: int | None = 0,
    strategy="RollingUpdate",
    current_rev="web-a",
    update_rev="web-a",
):
    s = statefulset_pb2.StatefulSet()
    s.metadata.name, s.metadata.generation = "web", generation
    s.spec.replicas = replicas
    s.spec.update_strategy.type = strategy
    if partition is not None:
        s.spec.update_strategy.rolling_update.partition = partition
    st = s.status
    st.observed_generation, st.ready_replicas = observed, ready
    st.updated_replicas, st.current_replicas = updated, current
    st.current_revision, st.update_revision = current_rev, update_rev
    return s


@pytest.mark.parametrize(
    ("s", "want", "done"),
    [
        (_sts(observed=0), "Waiting for statefulset spec update to be observed...", False),
        (_sts(generation=2), "Waiting for statefulset spec update to be observed...", False),
        (_sts(ready=2), "Waiting for 1 pods to be ready...", False),
        (
            _sts(updated=1),
            "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...",
            False,
        ),
        (
            _sts(updated=1, partition=1),
            "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
            False,
        ),
        (
            _sts(updated=2, partition=1),
            "partitioned roll out complete: 2 new pods have been updated...",
            True,
        ),
        (_sts(), "partitioned roll out complete: 3 new pods have been updated...", True),
        (
            _sts(partition=None, updated=1, update_rev="web-b"),
            "waiting for statefulset rolling update to complete 1 pods at revision web-b...",
            False,
        ),
        (
            _sts(partition=None),
            "statefulset rolling update complete 3 pods at revision web-a...",
            True,
        ),
    ],
    ids=[
        "never-observed",
        "not-observed",
        "not-ready",
        "updating",
        "partition-updating",
        "partition-done",
        "done",
        "no-rolling-update-updating",
        "no-rolling-update-done",
    ],
)
def test_statefulset_status_message(s, want: str, done: bool) -> None:
    assert rollout.statefulset_status_message(s) == (want, done)


def _ds(desired=3, updated=3, available=3, generation=1, observed=1, strategy="RollingUpdate"):
    ds = daemonset_pb2.DaemonSet()
    ds.metadata.name, ds.metadata.generation = "x", generation
    ds.spec.update_strategy.type = strategy
    st = ds.status
    st.observed_generation, st.desired_number_scheduled = observed, desired
    st.updated_number_scheduled, st.number_available = updated, available
    return ds


@pytest.mark.parametrize(
    ("ds", "want", "done"),
    [
        (_ds(generation=2), "Waiting for daemon set spec update to be observed...", False),
        (
            _ds(updated=1),
            'Waiting for daemon set "x" rollout to finish: 1 out of 3 new pods have been updated...',
            False,
        ),
        (
            _ds(available=2),
            'Waiting for daemon set "x" rollout to finish: 2 of 3 updated pods are available...',
            False,
        ),
        (_ds(), 'daemon set "x" successfully rolled out', True),
        (_ds(desired=0, updated=0, available=0), 'daemon set "x" successfully rolled out', True),
    ],
    ids=["not-observed", "updating", "available", "done", "no-nodes"],
)
def test_daemonset_status_message(ds, want: str, done: bool) -> None:
    assert rollout.daemonset_status_message(ds) == (want, done)


@pytest.mark.parametrize(
    "obj",
    [_sts(strategy="OnDelete", partition=None), _ds(strategy="OnDelete")],
    ids=["sts", "ds"],
)
def test_status_on_delete_is_an_error(obj) -> None:
    with pytest.raises(
        rollout.RolloutError,
        match="rollout status is only available for RollingUpdate strategy type",
    ):
        rollout.STATUS_VIEWERS[type(obj).__name__](obj)


def _template(image: str) -> pod_pb2.PodTemplateSpec:
    return codec.from_dict(
        pod_pb2.PodTemplateSpec,
        {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "c",
                        "image": image,
                        "ports": [{"containerPort": 80}],
                        "resources": {"limits": {"cpu": "100m"}},
                    }
                ],
            },
        },
    )


def _cr(number: int, template: pod_pb2.PodTemplateSpec, cause: str = ""):
    cr = controllerrevision_pb2.ControllerRevision()
    cr.metadata.name, cr.revision = f"web-{number}", number
    if cause:
        cr.metadata.annotations[ANNOTATION_CHANGE_CAUSE] = cause
    body = codec.to_dict(template)
    body["$patch"] = "replace"
    cr.data.update({"spec": {"template": body}})
    return cr


def test_revision_template_round_trips_the_patch() -> None:
    """Struct numbers are floats; the template comes back with its ints."""
    template = _template("v2")
    assert rollout.revision_template(_cr(2, template)) == template


def test_revision_template_rejects_other_data() -> None:
    cr = controllerrevision_pb2.ControllerRevision()
    cr.metadata.name = "web-1"
    cr.data.update({"spec": {"template": {"spec": {"containers": "nope"}}}})
    with pytest.raises(rollout.RolloutError, match="web-1 holds no pod template"):
        rollout.revision_template(cr)


def test_format_history() -> None:
    revisions = [
        rollout._from_controller_revision(_cr(1, _template("v1"))),
        rollout._from_controller_revision(_cr(12, _template("v2"), cause="set image")),
    ]
    assert rollout.format_history(revisions).splitlines() == [
        "REVISION  CHANGE-CAUSE",
        "1         <none>",
        "12        set image",
    ]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (_template("v1"), _template("v1"), True),
        (_template("v1"), _template("v2"), False),
    ],
    ids=["equal", "different-image"],
)
def test_same_template(a, b, same: bool) -> None:
    assert rollout._same_template(a, b) is same


def test_same_template_ignores_the_pod_template_hash() -> None:
    a, b = _template("v1"), _template("v1")
    a.metadata.labels[LABEL_POD_TEMPLATE_HASH] = "abc"
    assert rollout._same_template(a, b)
