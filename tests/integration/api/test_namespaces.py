"""Namespace lifecycle: system namespaces, creating into missing or
terminating namespaces, and deleting a namespace deletes what it holds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from pinnace.client import Client
from pinnace.machinery import errors, kinds
from tests.integration.api.helpers import expect_error, gone, wait_for
from tests.integration.api.objects import BY_RESOURCE, KIND_CASES, pod

HOLD = "example.com/hold"


@pytest.fixture
def doomed(client: Client) -> Iterator[str]:
    """A namespace the test deletes itself."""
    name = f"d-{uuid.uuid4().hex[:10]}"
    client.namespaces().create(BY_RESOURCE["namespaces"].new(name))
    yield name
    try:
        client.namespaces().delete(name)
    except errors.NotFound:
        pass


def test_system_namespaces_exist(client: Client) -> None:
    names = {ns.metadata.name for ns in client.namespaces().list().items}
    assert {"default", "kube-system", "kube-node-lease", "kube-public"} <= names
    default = client.namespaces().get("default")
    assert default.status.phase == "Active"
    assert list(default.spec.finalizers) == ["kubernetes"]


def test_create_into_missing_namespace_is_not_found(client: Client) -> None:
    err = expect_error(
        errors.NotFound,
        lambda: client.pods("no-such-namespace").create(pod("p")),
        contains=('namespaces "no-such-namespace" not found',),
    )
    assert err.status.details.kind == "namespaces"


def test_deleting_a_namespace_deletes_its_contents(client: Client, doomed: str) -> None:
    """One object of every namespaced kind (scheduled pods included, and RC and
    Job whose own default is to orphan) is removed, then the namespace."""
    for case in KIND_CASES:
        if case.info.namespaced:
            client.resource(case.info, doomed).create(case.new("x", namespace=doomed))
    client.pods(doomed).create(pod("running"))
    client.pods(doomed).bind("running", "node-a")
    ns = client.namespaces().delete(doomed)
    assert ns.status.phase == "Terminating" and ns.metadata.deletion_timestamp

    # The kubelet's part for the scheduled pod: finish it when it is terminating.
    def scheduled_pod_terminating() -> bool:
        try:
            return bool(client.pods(doomed).get("running").metadata.deletion_timestamp)
        except errors.NotFound:
            return True

    wait_for(scheduled_pod_terminating, timeout=5, what="the scheduled pod to be terminating")
    try:
        client.pods(doomed).delete("running", grace_period_seconds=0)
    except errors.NotFound:
        pass
    wait_for(gone(lambda: client.namespaces().get(doomed)), timeout=10, what="the namespace to go")
    for case in KIND_CASES:
        if case.info.namespaced:
            left = client.resource(case.info, doomed).list().items
            assert left == [], f"{case.info.kind} left behind: {left}"


def test_terminating_namespace_refuses_new_content(client: Client, doomed: str) -> None:
    """A pod held by a finalizer keeps the namespace Terminating; creating
    into it is Forbidden until it is gone."""
    held = pod("held")
    held.metadata.finalizers.append(HOLD)
    client.pods(doomed).create(held)
    client.namespaces().delete(doomed)
    wait_for(
        lambda: client.pods(doomed).get("held").metadata.deletion_timestamp,
        timeout=5,
        what="the namespace finalizer to delete the held pod",
    )
    assert client.namespaces().get(doomed).status.phase == "Terminating"
    for case in (BY_RESOURCE["pods"], BY_RESOURCE["deployments.apps"]):
        err = expect_error(
            errors.Forbidden,
            lambda c=case: client.resource(c.info, doomed).create(c.new("late")),
            contains=(doomed, "being terminated"),
        )
        assert err.status.code == 403
    client.pods(doomed).patch("held", {"metadata": {"finalizers": None}})
    wait_for(gone(lambda: client.namespaces().get(doomed)), timeout=10, what="namespace gone")
    expect_error(
        errors.NotFound, lambda: client.pods(doomed).create(pod("later")), contains=("not found",)
    )


def test_namespace_names_are_dns_labels(client: Client) -> None:
    err = expect_error(
        errors.Invalid, lambda: client.namespaces().create(BY_RESOURCE["namespaces"].new("a.b"))
    )
    assert [c.field for c in err.causes] == ["metadata.name"]
    expect_error(errors.NotFound, lambda: client.namespaces().get("a.b"))


def test_cluster_scoped_objects_take_no_namespace(client: Client, namespace: str) -> None:
    node = BY_RESOURCE["nodes"].new(f"{namespace}-n")
    node.metadata.namespace = namespace
    expect_error(
        errors.BadRequest, lambda: client.nodes().create(node), contains=("not namespaced",)
    )
    expect_error(errors.NotFound, lambda: client.nodes().get(f"{namespace}-n"))


def test_object_namespace_must_match_request(client: Client, namespace: str) -> None:
    obj = pod("p")
    obj.metadata.namespace = "default"
    req_ns = kinds.by_resource("pods")
    expect_error(
        errors.BadRequest,
        lambda: client.resource(req_ns, namespace).create(obj),
        contains=("does not match",),
    )
