"""The clusterrole-aggregation controller in a real controller-manager: an
aggregated ClusterRole follows the roles its selector matches as they are
created, changed, relabelled and deleted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.client import Client
from pinnace.machinery import codec, errors
from tests.integration.controllers.conftest import wait_for


def rule(verb: str, resource: str = "pods") -> dict[str, Any]:
    return {"verbs": [verb], "apiGroups": [""], "resources": [resource]}


@pytest.fixture
def roles(client: Client, namespace: str) -> Iterator[Callable[..., Any]]:
    """Factory making ClusterRoles named after the test's namespace; all deleted after."""
    made: list[str] = []

    def make(name: str, *rules: dict[str, Any], labels: dict | None = None, **more: Any) -> Any:
        full = f"{namespace}-{name}"
        made.append(full)
        doc = {"metadata": {"name": full, "labels": labels or {}}, "rules": list(rules), **more}
        return client.cluster_roles().create(codec.from_dict(rbac_pb2.ClusterRole, doc))

    yield make
    for name in made:
        try:
            client.cluster_roles().delete(name)
        except errors.NotFound:
            pass


def rules_of(client: Client, name: str) -> list[dict[str, Any]]:
    return [codec.to_dict(r) for r in client.cluster_roles().get(name).rules]


def test_aggregated_role_follows_its_sources(
    client: Client, namespace: str, controller_manager: Any, roles: Callable[..., Any]
) -> None:
    label = f"example.com/aggregate-to-{namespace}"
    selected = {label: "true"}
    agg = roles("agg", aggregationRule={"clusterRoleSelectors": [{"matchLabels": selected}]})
    name = agg.metadata.name
    roles("b", rule("get"), rule("list"), labels=selected)
    roles("unrelated", rule("delete"))
    controller_manager("clusterrole-aggregation")

    def becomes(*want: dict[str, Any]) -> None:
        wait_for(lambda: rules_of(client, name) == list(want), timeout=20, what=f"rules {want}")

    becomes(rule("get"), rule("list"))

    # A new source sorts before "b" by name; its duplicate rule is kept once.
    roles("a", rule("watch"), rule("get"), labels=selected)
    becomes(rule("watch"), rule("get"), rule("list"))

    # A change to a source's rules reaches the aggregate.
    b = client.cluster_roles().get(f"{namespace}-b")
    del b.rules[:]
    b.rules.add(verbs=["create"], api_groups=[""], resources=["services"])
    client.cluster_roles().update(b)
    becomes(rule("watch"), rule("get"), rule("create", "services"))

    # Relabelled away: no longer a source.
    client.cluster_roles().patch(f"{namespace}-a", {"metadata": {"labels": {label: None}}})
    becomes(rule("create", "services"))

    # Deleted: nothing left to aggregate.
    client.cluster_roles().delete(f"{namespace}-b")
    becomes()


def test_rules_written_by_hand_are_put_back(
    client: Client, namespace: str, controller_manager: Any, roles: Callable[..., Any]
) -> None:
    """The aggregate's rules belong to the controller: an edit is undone."""
    selected = {f"example.com/agg-{namespace}": "true"}
    agg = roles("agg", aggregationRule={"clusterRoleSelectors": [{"matchLabels": selected}]})
    roles("src", rule("get"), labels=selected)
    controller_manager("clusterrole-aggregation")
    name = agg.metadata.name
    wait_for(lambda: rules_of(client, name) == [rule("get")], timeout=20, what="aggregated")
    client.cluster_roles().patch(name, {"rules": [rule("delete")]})
    wait_for(lambda: rules_of(client, name) == [rule("get")], timeout=20, what="put back")
