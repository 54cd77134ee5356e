"""Every cache of the control plane compared with etcd, after convergence.

* Each controller-manager, scheduler and kubelet serves ``/debug/caches``
  on its metrics listener (pinnace/machinery/cachedigest.py): for every
  running informer, its resourceVersion R and the digest of its
  (key, resourceVersion) pairs. Its port is the last one the component's
  log names ("serving metrics on …"), so a restarted component is found.
* Each apiserver's watch cache answers a consistent list, whose
  resourceVersion R is the cache's.

Either is compared with etcd read at revision R under the kind's prefix
(``/registry/<group>/<plural>/``), filtered by the cache's namespace and
selectors exactly as the apiserver filters (the kind's registry strategy
gives the fields and labels). A cache equals etcd iff the digests are
equal. A cache must also be current: its R must reach the etcd revision
read before the caches were asked (bookmarks move an idle cache on every
half second in these clusters); one that does not within ``timeout`` is
stale, which an equal digest at an old R would otherwise hide.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from typing import Any

from apiserver.etcd.client import EtcdClient
from apiserver.registry.kinds import STRATEGIES
from apiserver.registry.resource import resource_prefix
from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from pinnace.localcluster.process import Component
from pinnace.machinery import kinds
from pinnace.machinery.cachedigest import digest
from pinnace.machinery.fields import parse_field_selector
from pinnace.machinery.labels import parse_selector
from pinnace.machinery.metrics_http import CACHES_PATH
from tests.chaos.state import CacheCheck

__all__ = ["cache_checks"]

METRICS_LINE = re.compile(r"serving metrics on (http://[\d.:]+)/metrics")
# What the apiservers' watch caches are compared on: the recorded kinds and
# those the components' informers keep busy.
APISERVER_RESOURCES = (
    "nodes",
    "pods",
    "deployments.apps",
    "replicasets.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "controllerrevisions.apps",
    "jobs.batch",
    "leases.coordination.k8s.io",
    "services",
    "endpointslices.discovery.k8s.io",
)
Pairs = set[tuple[str, str]]


def metrics_url(comp: Component) -> str | None:
    """The component's metrics listener, as its log last named it."""
    try:
        found = METRICS_LINE.findall(comp.log_file.read_text(errors="replace"))
    except OSError:
        return None
    return found[-1] if found else None


def _report(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}{CACHES_PATH}?items=1", timeout=10) as resp:
        caches: list[dict[str, Any]] = json.loads(resp.read())["caches"]
    return caches


class _Etcd:
    """etcd read at a revision, for one kind, filtered as a cache filters."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.endpoints = [m.endpoint for m in cluster.etcd_members]
        self.credentials = cluster.etcd_tls.channel_credentials()

    def revision(self) -> int:
        return asyncio.run(self._revision())

    async def _revision(self) -> int:
        etcd = EtcdClient(self.endpoints, credentials=self.credentials)
        try:
            return (await etcd.status()).revision
        finally:
            await etcd.close()

    def pairs(self, entries: list[tuple[kinds.KindInfo, dict[str, Any]]]) -> list[Pairs | str]:
        """For each (kind, cache entry): etcd's pairs at the entry's
        resourceVersion, or why they could not be read."""
        return asyncio.run(self._pairs(entries))

    async def _pairs(
        self, entries: list[tuple[kinds.KindInfo, dict[str, Any]]]
    ) -> list[Pairs | str]:
        etcd = EtcdClient(self.endpoints, credentials=self.credentials)
        out: list[Pairs | str] = []
        try:
            for info, entry in entries:
                try:
                    out.append(await _selected(etcd, info, entry))
                except Exception as e:  # reported as the check's error
                    out.append(f"etcd read failed: {e!r}")
        finally:
            await etcd.close()
        return out


async def _selected(etcd: EtcdClient, info: kinds.KindInfo, entry: dict[str, Any]) -> Pairs:
    prefix = resource_prefix(info)
    if entry.get("namespace"):
        prefix += f"{entry['namespace']}/"
    result = await etcd.range(prefix.encode(), prefix=True, revision=int(entry["resourceVersion"]))
    labels, fields = entry.get("labelSelector", ""), entry.get("fieldSelector", "")
    strategy = STRATEGIES[info.kind](info) if labels or fields else None
    out = set()
    for kv in result.kvs:
        if strategy is not None:
            _, _, have_labels, have_fields = strategy.extract(
                info.message_class.FromString(kv.value)
            )
            if not parse_selector(labels).matches(have_labels):
                continue
            if not parse_field_selector(fields).matches(have_fields):
                continue
        key = kv.key.decode()[len(resource_prefix(info)) :]
        out.add((key, str(kv.mod_revision)))
    return out


def _check(component: str, entry: dict[str, Any], etcd: Pairs | str) -> CacheCheck:
    mine = {(k, rv) for k, rv in entry.get("items", [])}
    base = CacheCheck(
        component,
        entry["name"],
        entry["resourceVersion"],
        entry["count"],
        entry["digest"],
    )
    if isinstance(etcd, str):
        return _with(base, error=etcd)
    difference = tuple(f"cache only {p}" for p in sorted(mine - etcd)) + tuple(
        f"etcd only {p}" for p in sorted(etcd - mine)
    )
    return _with(base, etcd_count=len(etcd), etcd_digest=digest(etcd), difference=difference[:10])


def _with(check: CacheCheck, **changes: Any) -> CacheCheck:
    return CacheCheck(**{**check.__dict__, **changes})


def _component_entries(
    cluster: LocalCluster, floor: int, timeout: float
) -> list[tuple[str, dict[str, Any]]]:
    """(component, entry) of every running component's caches, once each
    entry's resourceVersion reaches ``floor`` or ``timeout`` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        entries = []
        for comp in cluster.components:
            url = metrics_url(comp) if comp.running() else None
            if url is not None:
                entries += [(comp.name, e) for e in _report(url)]
        behind = [
            e for _, e in entries if "error" not in e and int(e["resourceVersion"] or 0) < floor
        ]
        if not behind or time.monotonic() > deadline:
            return entries
        time.sleep(0.2)


def _apiserver_entries(cluster: LocalCluster) -> list[tuple[str, dict[str, Any]]]:
    """(apiserver, entry) for a consistent list of each resource of
    APISERVER_RESOURCES from each apiserver (its watch cache)."""
    out = []
    for i, (port, _) in enumerate(cluster.api_ports):
        name = f"apiserver-{i + 1}" if i else "apiserver"
        with Client(config=cluster.identities.client_config(f"127.0.0.1:{port}"), timeout=10) as c:
            for resource in APISERVER_RESOURCES:
                page = c.resource(resource, "").list()
                pairs = [
                    (_key(o.metadata.namespace, o.metadata.name), o.metadata.resource_version)
                    for o in page.items
                ]
                entry = {
                    "name": f"{resource} (watch cache)",
                    "resource": resource,
                    "resourceVersion": page.resource_version,
                    "count": len(pairs),
                    "digest": digest(pairs),
                    "items": sorted(pairs),
                }
                out.append((name, entry))
    return out


def _key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def _info(entry: dict[str, Any]) -> kinds.KindInfo:
    return kinds.by_resource(entry["resource"])  # plural[.group], as KindInfo.resource


def cache_checks(cluster: LocalCluster, *, timeout: float = 15.0) -> list[CacheCheck]:
    """Every cache of the cluster compared with etcd (module docstring)."""
    etcd = _Etcd(cluster)
    floor = etcd.revision()
    entries = _component_entries(cluster, floor, timeout) + _apiserver_entries(cluster)
    out: list[CacheCheck] = []
    readable = []
    for component, entry in entries:
        if "error" in entry:
            out.append(CacheCheck(component, entry["name"], "", 0, "", error=entry["error"]))
        elif int(entry["resourceVersion"] or 0) < floor:
            out.append(
                CacheCheck(
                    component,
                    entry["name"],
                    entry["resourceVersion"],
                    entry["count"],
                    entry["digest"],
                    error=f"stale: at rv {entry['resourceVersion']} after {timeout}s, etcd was at {floor}",
                )
            )
        else:
            readable.append((component, entry))
    pairs = etcd.pairs([(_info(e), e) for _, e in readable])
    out += [_check(c, e, p) for (c, e), p in zip(readable, pairs, strict=True)]
    return out
