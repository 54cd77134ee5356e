"""Discovery documents, from the kinds table: what kubectl and client-go
read first to learn which resources exist.

* legacy: ``/api`` (APIVersions), ``/apis`` (APIGroupList), ``/api/v1`` and
  ``/apis/<group>/<version>`` (APIResourceList);
* aggregated (``apidiscovery.k8s.io/v2``, what kubectl 1.30+ asks for in its
  Accept header): ``/api`` and ``/apis`` as one APIGroupDiscoveryList each,
  every resource with its verbs, scope, short names, categories and
  subresources. Only a response whose Content-Type names the v2 media type
  is read as aggregated (client-go checks it), so ``aggregated_type`` is
  that type.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pinnace.machinery import kinds
from pinnace.machinery.kinds import KindInfo

__all__ = [
    "AGGREGATED_TYPE",
    "aggregated",
    "api_group_list",
    "api_versions",
    "resource_list",
    "wants_aggregated",
]

AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
# The kinds `kubectl get all` shows (Kubernetes' "all" category).
ALL_CATEGORY = frozenset(
    {
        "Pod",
        "Service",
        "ReplicationController",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
    }
)
# subresource → (group, version, kind of its body; "" = the resource's own), verbs
_SUBRESOURCES: dict[str, tuple[tuple[str, str, str], list[str]]] = {
    "status": (("", "", ""), ["get", "patch", "update"]),
    "scale": (("autoscaling", "v1", "Scale"), ["get", "patch", "update"]),
    "binding": (("", "v1", "Binding"), ["create"]),
    "eviction": (("policy", "v1", "Eviction"), ["create"]),
    "exec": (("", "v1", "PodExecOptions"), ["create", "get"]),
    "log": (("", "v1", "Pod"), ["get"]),
}


def wants_aggregated(accept: str) -> bool:
    """Whether the Accept header asks for apidiscovery.k8s.io/v2."""
    for entry in accept.split(","):
        params = {p.strip() for p in entry.split(";")[1:]}
        if {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= params:
            return True
    return False


def _groups() -> dict[str, list[KindInfo]]:
    out: dict[str, list[KindInfo]] = {}
    for info in kinds.KINDS:
        if info.group:
            out.setdefault(info.group, []).append(info)
    return out


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_group_list() -> dict[str, Any]:
    groups = []
    for group, infos in sorted(_groups().items()):
        version = infos[0].version
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _kinds_of(group: str, version: str) -> list[KindInfo]:
    return [i for i in kinds.KINDS if i.group == group and i.version == version]


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """APIResourceList of one group version (None: not served)."""
    infos = _kinds_of(group, version)
    if not infos:
        return None
    resources: list[dict[str, Any]] = []
    for info in infos:
        entry: dict[str, Any] = {
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": VERBS,
        }
        if info.short_names:
            entry["shortNames"] = list(info.short_names)
        if info.kind in ALL_CATEGORY:
            entry["categories"] = ["all"]
        resources.append(entry)
        for sub in info.subresources:
            (g, v, kind), verbs = _SUBRESOURCES.get(sub, (("", "", ""), ["get"]))
            item: dict[str, Any] = {
                "name": f"{info.plural}/{sub}",
                "singularName": "",
                "namespaced": info.namespaced,
                "kind": kind or info.kind,
                "verbs": verbs,
            }
            if g:
                item["group"], item["version"] = g, v
            resources.append(item)
    gv = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }


def _discovery_resource(info: KindInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource": info.plural,
        "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
        "scope": "Namespaced" if info.namespaced else "Cluster",
        "singularResource": info.singular,
        "verbs": VERBS,
    }
    if info.short_names:
        out["shortNames"] = list(info.short_names)
    if info.kind in ALL_CATEGORY:
        out["categories"] = ["all"]
    subs = []
    for sub in info.subresources:
        (g, v, kind), verbs = _SUBRESOURCES.get(sub, (("", "", ""), ["get"]))
        response = {"group": g, "version": v, "kind": kind} if kind else out["responseKind"]
        subs.append({"subresource": sub, "responseKind": response, "verbs": verbs})
    if subs:
        out["subresources"] = subs
    return out


def _group_discovery(name: str, infos: Iterable[KindInfo]) -> dict[str, Any]:
    versions: dict[str, list[dict[str, Any]]] = {}
    for info in infos:
        versions.setdefault(info.version, []).append(_discovery_resource(info))
    return {
        "metadata": {"name": name},
        "versions": [
            {"version": v, "resources": rs, "freshness": "Current"} for v, rs in versions.items()
        ],
    }


def aggregated(legacy: bool) -> dict[str, Any]:
    """The APIGroupDiscoveryList of /api (``legacy``) or of /apis."""
    if legacy:
        items = [_group_discovery("", [i for i in kinds.KINDS if not i.group])]
    else:
        items = [_group_discovery(g, infos) for g, infos in sorted(_groups().items())]
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
