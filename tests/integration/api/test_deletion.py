"""Deletion semantics: graceful pod deletion, propagation policies recorded as
finalizers (with the kind defaults), user finalizers, preconditions and
delete-collection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from pinnace.client import Client
from pinnace.machinery import errors, kinds
from pinnace.machinery.timeutil import parse_rfc3339
from tests.integration.api.helpers import expect_error, gone, wait_for
from tests.integration.api.objects import BY_RESOURCE, pod

HOLD = "example.com/hold"


def _close_to(ts: str, expected: datetime, slack: float = 3.0) -> bool:
    return abs((parse_rfc3339(ts) - expected).total_seconds()) <= slack


def test_unscheduled_pod_is_deleted_at_once(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    pods.create(pod("p", terminationGracePeriodSeconds=30))
    pods.delete("p")
    expect_error(errors.NotFound, lambda: pods.get("p"))


@pytest.mark.parametrize(
    ("spec_grace", "option", "expected"),
    [
        pytest.param(None, None, 30, id="default-30s"),
        pytest.param(45, None, 45, id="pod-terminationGracePeriodSeconds"),
        pytest.param(45, 10, 10, id="delete-option-wins"),
    ],
)
def test_graceful_pod_deletion(
    client: Client, namespace: str, spec_grace: int | None, option: int | None, expected: int
) -> None:
    """A scheduled pod gets deletionTimestamp = now + grace and stays until a
    delete with grace 0 (the kubelet's final delete)."""
    pods = client.pods(namespace)
    extra = {} if spec_grace is None else {"terminationGracePeriodSeconds": spec_grace}
    pods.create(pod("p", **extra))
    pods.bind("p", "node-a")
    opts = {} if option is None else {"grace_period_seconds": option}
    started = datetime.now(UTC)
    pending = pods.delete("p", **opts)
    assert pending.metadata.deletion_grace_period_seconds == expected
    assert _close_to(pending.metadata.deletion_timestamp, started + timedelta(seconds=expected))
    assert pods.get("p") == pending

    # Deleting again with a shorter grace period shortens it, never lengthens.
    shorter = pods.delete("p", grace_period_seconds=2)
    assert shorter.metadata.deletion_grace_period_seconds == 2
    assert _close_to(shorter.metadata.deletion_timestamp, datetime.now(UTC) + timedelta(seconds=2))
    longer = pods.delete("p", grace_period_seconds=100)
    assert longer.metadata.deletion_grace_period_seconds == 2
    assert longer.metadata.deletion_timestamp == shorter.metadata.deletion_timestamp

    # A deleting pod cannot be bound and keeps its other fields writable.
    expect_error(errors.Conflict, lambda: pods.bind("p", "node-b"))
    pods.delete("p", grace_period_seconds=0)
    expect_error(errors.NotFound, lambda: pods.get("p"))


def test_finished_pod_is_deleted_at_once(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    pods.create(pod("p"))
    bound = pods.bind("p", "node-a")
    bound.status.phase = "Succeeded"
    pods.update_status(bound)
    pods.delete("p")
    expect_error(errors.NotFound, lambda: pods.get("p"))


# (resource, delete options, finalizer expected, whether the object stays)
PROPAGATION = [
    ("deployments.apps", {}, None),
    ("deployments.apps", {"propagation_policy": "Background"}, None),
    ("deployments.apps", {"propagation_policy": "Foreground"}, "foregroundDeletion"),
    ("deployments.apps", {"propagation_policy": "Orphan"}, "orphan"),
    ("deployments.apps", {"orphan_dependents": True}, "orphan"),
    ("replicasets.apps", {}, None),
    ("statefulsets.apps", {}, None),
    ("daemonsets.apps", {}, None),
    ("cronjobs.batch", {}, None),
    ("replicationcontrollers", {}, "orphan"),
    ("replicationcontrollers", {"propagation_policy": "Background"}, None),
    ("replicationcontrollers", {"orphan_dependents": False}, None),
    ("jobs.batch", {}, "orphan"),
    ("jobs.batch", {"propagation_policy": "Foreground"}, "foregroundDeletion"),
    ("jobs.batch", {"propagation_policy": "Background"}, None),
]


@pytest.mark.parametrize(
    ("resource", "options", "finalizer"),
    [
        pytest.param(
            r,
            o,
            f,
            id=f"{kinds.by_resource(r).kind}-"
            + ("-".join(f"{k}={v}" for k, v in o.items()) or "no-policy"),
        )
        for r, o, f in PROPAGATION
    ],
)
def test_propagation_policy_recorded_as_finalizer(
    client: Client, namespace: str, resource: str, options: dict, finalizer: str | None
) -> None:
    """Foreground and Orphan leave the object with deletionTimestamp and the
    garbage collector's finalizer; Background removes it at once. RC and Job
    orphan by default, everything else is background."""
    api = client.resource(kinds.by_resource(resource), namespace)
    api.create(BY_RESOURCE[resource].new("o"))
    api.delete("o", **options)
    if finalizer is None:
        expect_error(errors.NotFound, lambda: api.get("o"))
        return
    left = api.get("o")
    assert list(left.metadata.finalizers) == [finalizer]
    assert left.metadata.deletion_timestamp
    assert left.metadata.deletion_grace_period_seconds == 0
    # What the garbage collector does when it is done: drop the finalizer.
    api.patch("o", {"metadata": {"finalizers": None}})
    expect_error(errors.NotFound, lambda: api.get("o"))


def test_policy_can_change_while_deleting(client: Client, namespace: str) -> None:
    """An explicit policy on a second delete replaces the first one's finalizer."""
    deploys = client.deployments(namespace)
    deploys.create(BY_RESOURCE["deployments.apps"].new("d"))
    first = deploys.delete("d", propagation_policy="Orphan")
    assert list(first.metadata.finalizers) == ["orphan"]
    second = deploys.delete("d", propagation_policy="Foreground")
    assert list(second.metadata.finalizers) == ["foregroundDeletion"]
    assert second.metadata.deletion_timestamp == first.metadata.deletion_timestamp
    # A delete without options keeps what is there.
    assert list(deploys.delete("d").metadata.finalizers) == ["foregroundDeletion"]
    deploys.delete("d", propagation_policy="Background")
    expect_error(errors.NotFound, lambda: deploys.get("d"))


def test_user_finalizer_holds_the_object(client: Client, namespace: str) -> None:
    leases = client.leases(namespace)
    obj = BY_RESOURCE["leases.coordination.k8s.io"].new("l")
    obj.metadata.finalizers.append(HOLD)
    leases.create(obj)
    held = leases.delete("l")
    assert held.metadata.deletion_timestamp and list(held.metadata.finalizers) == [HOLD]
    assert leases.get("l").metadata.deletion_timestamp == held.metadata.deletion_timestamp
    # No new finalizer on a deleting object; other updates still work.
    err = expect_error(
        errors.Invalid,
        lambda: leases.patch("l", {"metadata": {"finalizers": [HOLD, "example.com/more"]}}),
    )
    assert [c.field for c in err.causes] == ["metadata.finalizers"]
    assert leases.patch("l", {"spec": {"holderIdentity": "z"}}).spec.holder_identity == "z"
    leases.patch("l", {"metadata": {"finalizers": []}})
    wait_for(gone(lambda: leases.get("l")), timeout=5, what="the lease to go")


def test_delete_preconditions(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    made = pods.create(pod("p"))
    err = expect_error(
        errors.PreconditionFailed,
        lambda: pods.delete("p", uid="00000000-0000-0000-0000-000000000000"),
        contains=("UID in precondition", made.metadata.uid),
    )
    assert err.grpc_code == grpc.StatusCode.FAILED_PRECONDITION
    current = pods.patch("p", {"metadata": {"labels": {"v": "2"}}})
    expect_error(
        errors.PreconditionFailed,
        lambda: pods.delete("p", resource_version=made.metadata.resource_version),
        contains=("ResourceVersion in precondition",),
    )
    assert pods.get("p").metadata.uid == made.metadata.uid
    pods.delete("p", uid=made.metadata.uid, resource_version=current.metadata.resource_version)
    expect_error(errors.NotFound, lambda: pods.get("p"))


def test_delete_what_is_not_there(client: Client, namespace: str) -> None:
    expect_error(
        errors.NotFound, lambda: client.pods(namespace).delete("ghost"), contains=('"ghost"',)
    )
    expect_error(errors.NotFound, lambda: client.nodes().delete(f"{namespace}-ghost"))


def test_bad_delete_options(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    pods.create(pod("p"))
    expect_error(
        errors.BadRequest,
        lambda: pods.delete("p", propagation_policy="Sideways"),
        contains=("Sideways", "Background", "Foreground", "Orphan"),
    )
    expect_error(
        errors.BadRequest, lambda: pods.delete("p", grace_period_seconds=-1), contains=(">= 0",)
    )
    expect_error(
        errors.BadRequest,
        lambda: pods.delete("p", propagation_policy="Orphan", orphan_dependents=True),
    )
    assert not pods.get("p").metadata.deletion_timestamp


def test_delete_collection_by_selector(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    for i in range(6):
        pods.create(pod(f"p{i}", labels={"app": "web" if i % 2 else "db"}))
    pods.bind("p1", "node-a")
    deleted = pods.delete_collection(label_selector="app=web", grace_period_seconds=0)
    assert sorted(p.metadata.name for p in deleted) == ["p1", "p3", "p5"]
    assert sorted(p.metadata.name for p in pods.list().items) == ["p0", "p2", "p4"]
    deleted = pods.delete_collection(field_selector="metadata.name=p2")
    assert [p.metadata.name for p in deleted] == ["p2"]
    assert sorted(p.metadata.name for p in pods.list().items) == ["p0", "p4"]
    assert pods.delete_collection(label_selector="app=none") == []
    pods.delete_collection()
    assert pods.list().items == []


def test_delete_collection_tries_every_object(client: Client, namespace: str) -> None:
    """A failed delete does not stop a collection delete: every object is
    tried and the failures are raised together (Kubernetes' NewAggregate)."""
    pods = client.pods(namespace)
    pods.create(pod("a", labels={"app": "x"}))
    b = pods.create(pod("b", labels={"app": "x"}))
    pods.create(pod("c", labels={"app": "x"}))
    # Only b is at this resourceVersion: a (listed first) and c fail.
    err = expect_error(
        errors.PreconditionFailed,
        lambda: pods.delete_collection(
            label_selector="app=x", resource_version=b.metadata.resource_version
        ),
        contains=('"a"', '"c"'),
    )
    assert err.message.startswith("[")
    assert sorted(p.metadata.name for p in pods.list().items) == ["a", "c"]


def test_delete_collection_graceful(client: Client, namespace: str) -> None:
    """Scheduled pods deleted through a collection delete terminate gracefully."""
    pods = client.pods(namespace)
    for name in ("a", "b"):
        pods.create(pod(name, labels={"app": "x"}))
        pods.bind(name, "node-a")
    deleted = pods.delete_collection(label_selector="app=x")
    assert all(p.metadata.deletion_grace_period_seconds == 30 for p in deleted)
    assert len(pods.list().items) == 2
