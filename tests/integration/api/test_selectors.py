"""List: label selectors (every operator), field selectors, all namespaces,
and limit/continue pagination over one snapshot."""

from __future__ import annotations

import uuid

import pytest

from pinnace.client import Client
from pinnace.machinery import errors
from tests.integration.api.helpers import expect_error
from tests.integration.api.objects import BY_RESOURCE, pod

LABELS = {
    "a": {"app": "web", "tier": "front", "env": "prod"},
    "b": {"app": "web", "tier": "back"},
    "c": {"app": "db", "env": "dev"},
    "d": {},
}


@pytest.fixture
def labelled(client: Client, namespace: str) -> str:
    for name, labels in LABELS.items():
        client.pods(namespace).create(pod(name, labels=labels))
    return namespace


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", "ab"),
        ("app==web", "ab"),
        ("app!=web", "cd"),
        ("app in (web,db)", "abc"),
        ("app notin (web)", "cd"),
        ("env", "ac"),
        ("!env", "bd"),
        ("app=web,tier=front", "a"),
        ("app=web,!env", "b"),
        ("tier in (front,back),env notin (prod)", "b"),
        ("app=none", ""),
        ("", "abcd"),
    ],
)
def test_label_selector_operators(
    client: Client, labelled: str, selector: str, expected: str
) -> None:
    got = client.pods(labelled).list(label_selector=selector).items
    assert "".join(sorted(p.metadata.name for p in got)) == expected


@pytest.mark.parametrize("selector", ["app=(", "a b", "app in web", "=x", "app!"])
def test_bad_label_selector(client: Client, namespace: str, selector: str) -> None:
    expect_error(errors.BadRequest, lambda: client.pods(namespace).list(label_selector=selector))


def test_field_selectors(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    for name in ("p1", "p2", "p3"):
        pods.create(pod(name))
    pods.bind("p1", "node-a")
    pods.bind("p2", "node-b")
    running = pods.get("p1")
    running.status.phase = "Running"
    pods.update_status(running)

    def names(selector: str) -> list[str]:
        return sorted(p.metadata.name for p in pods.list(field_selector=selector).items)

    assert names("spec.nodeName=node-a") == ["p1"]
    assert names("spec.nodeName=") == ["p3"]
    assert names("spec.nodeName!=") == ["p1", "p2"]
    assert names("status.phase=Running") == ["p1"]
    assert names("status.phase=Pending") == ["p2", "p3"]
    assert names("status.phase!=Running,spec.nodeName=node-b") == ["p2"]
    assert names("metadata.name=p3") == ["p3"]
    assert names(f"metadata.namespace={namespace}") == ["p1", "p2", "p3"]
    assert names("metadata.name==p2") == ["p2"]


def test_unsupported_field_selector_is_bad_request(client: Client, namespace: str) -> None:
    err = expect_error(
        errors.BadRequest,
        lambda: client.pods(namespace).list(field_selector="spec.hostname=x"),
        contains=('"spec.hostname"', "spec.nodeName", "status.phase", "metadata.name"),
    )
    assert err.status.code == 400
    expect_error(
        errors.BadRequest,
        lambda: client.deployments(namespace).list(field_selector="spec.nodeName=x"),
        contains=("spec.nodeName", "not supported"),
    )
    expect_error(
        errors.BadRequest,
        lambda: client.pods(namespace).list(field_selector="spec.nodeName in (a)"),
    )


def test_list_all_namespaces(client: Client, namespace: str) -> None:
    other = f"t-{uuid.uuid4().hex[:10]}"
    client.namespaces().create(BY_RESOURCE["namespaces"].new(other))
    try:
        mark = {"mark": namespace}
        client.pods(namespace).create(pod("x", labels=mark))
        client.pods(other).create(pod("x", labels=mark))
        client.pods(other).create(pod("y", labels=mark))
        listed = client.pods("").list(label_selector=f"mark={namespace}").items
        assert sorted((p.metadata.namespace, p.metadata.name) for p in listed) == sorted(
            [(namespace, "x"), (other, "x"), (other, "y")]
        )
        by_ns = client.pods("").list(field_selector=f"metadata.namespace={other}").items
        assert sorted(p.metadata.name for p in by_ns) == ["x", "y"]
        deploys = client.deployments("").list(label_selector=f"mark={namespace}").items
        assert deploys == []
    finally:
        client.namespaces().delete(other)


def test_pagination_is_one_snapshot(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    for i in range(7):
        pods.create(pod(f"p{i}", labels={"page": "yes"}))
    pods.create(pod("other"))
    first = pods.list(limit=3, label_selector="page=yes")
    assert [p.metadata.name for p in first.items] == ["p0", "p1", "p2"]
    assert first.continue_token
    # Changes after the first page must not show in later pages.
    pods.delete("p5")
    pods.create(pod("p3a", labels={"page": "yes"}))
    pods.patch("p4", {"metadata": {"labels": {"changed": "yes"}}})
    second = pods.list(limit=3, label_selector="page=yes", continue_token=first.continue_token)
    assert [p.metadata.name for p in second.items] == ["p3", "p4", "p5"]
    assert "changed" not in second.items[1].metadata.labels
    assert second.resource_version == first.resource_version
    assert second.continue_token
    third = pods.list(limit=3, label_selector="page=yes", continue_token=second.continue_token)
    assert [p.metadata.name for p in third.items] == ["p6"]
    assert third.continue_token == ""
    assert third.resource_version == first.resource_version
    # A fresh list sees the changes.
    now = [p.metadata.name for p in pods.list(label_selector="page=yes").items]
    assert now == ["p0", "p1", "p2", "p3", "p3a", "p4", "p6"]


def test_pagination_exact_pages_and_limit_larger_than_list(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    for i in range(4):
        pods.create(pod(f"p{i}"))
    page = pods.list(limit=2)
    assert len(page.items) == 2 and page.continue_token
    page = pods.list(limit=2, continue_token=page.continue_token)
    assert [p.metadata.name for p in page.items] == ["p2", "p3"]
    assert page.continue_token == ""
    whole = pods.list(limit=100)
    assert len(whole.items) == 4 and whole.continue_token == ""


def test_bad_list_arguments(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    expect_error(errors.BadRequest, lambda: pods.list(continue_token="garbage!"))
    expect_error(errors.BadRequest, lambda: pods.list(limit=-1), contains=("limit",))
    expect_error(errors.BadRequest, lambda: pods.list(resource_version="abc"), contains=("abc",))
    # A continue token of another resource is refused.
    for i in range(3):
        client.leases(namespace).create(BY_RESOURCE["leases.coordination.k8s.io"].new(f"l{i}"))
    token = client.leases(namespace).list(limit=1).continue_token
    expect_error(errors.BadRequest, lambda: pods.list(continue_token=token))
