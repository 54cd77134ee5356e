"""Discovery documents from the kinds table (apiserver/rest/discovery.py)."""

from __future__ import annotations

import pytest

from apiserver.rest import discovery
from pinnace.machinery import kinds


@pytest.mark.parametrize(
    ("accept", "aggregated"),
    [
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
         "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
         "application/json", True),
        ("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", False),
        ("application/json", False),
        ("", False),
    ],
    ids=["kubectl-1.32", "v2beta1-only", "plain-json", "none"],
)  # fmt: skip
def test_wants_aggregated(accept: str, aggregated: bool) -> None:
    assert discovery.wants_aggregated(accept) is aggregated


def test_every_kind_is_discoverable_both_ways() -> None:
    legacy: dict[tuple[str, str], set[str]] = {}
    for info in kinds.KINDS:
        listed = discovery.resource_list(info.group, info.version)
        assert listed is not None
        legacy[(info.group, info.version)] = {r["name"] for r in listed["resources"]}
    groups = (
        discovery.aggregated(legacy=False)["items"] + discovery.aggregated(legacy=True)["items"]
    )
    aggregated = {
        (g["metadata"]["name"], v["version"], r["resource"])
        for g in groups
        for v in g["versions"]
        for r in v["resources"]
    }
    for info in kinds.KINDS:
        assert info.plural in legacy[(info.group, info.version)]
        assert (info.group, info.version, info.plural) in aggregated
        for sub in info.subresources:
            assert f"{info.plural}/{sub}" in legacy[(info.group, info.version)]


def test_scale_subresource_answers_autoscaling_scale() -> None:
    apps = discovery.resource_list("apps", "v1")
    assert apps is not None
    scale = next(r for r in apps["resources"] if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    assert discovery.resource_list("nope", "v1") is None


def test_all_category_is_kubectl_get_all() -> None:
    core = discovery.resource_list("", "v1")
    assert core is not None
    in_all = {r["name"] for r in core["resources"] if "all" in r.get("categories", [])}
    assert in_all == {"pods", "services", "replicationcontrollers"}
