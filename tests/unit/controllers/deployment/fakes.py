"""Fixtures for the deployment controller's unit tests: objects built in a
line, a fake DeploymentControl that records every action (Kubernetes'
deployment test ``fixture``), and a Syncer on a FakeClock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from controllers.controllerref import owner_reference
from controllers.deployment.sync import Syncer
from pinnace.api.apps.v1 import deployment_pb2, replicaset_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import codec, errors
from pinnace.machinery.intstr import intstr
from pinnace.machinery.timeutil import FakeClock, format_rfc3339
from pinnace.machinery.wellknown import (
    ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS,
    ANNOTATION_DEPLOYMENT_MAX_REPLICAS,
    ANNOTATION_DEPLOYMENT_REVISION,
    LABEL_POD_TEMPLATE_HASH,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(seconds: float) -> str:
    return format_rfc3339(T0 + timedelta(seconds=seconds))


def template(image: str = "v1", labels: dict[str, str] | None = None) -> pod_pb2.PodTemplateSpec:
    t = pod_pb2.PodTemplateSpec()
    t.metadata.labels.update(labels or {"app": "web"})
    c = t.spec.containers.add()
    c.name, c.image = "c", image
    t.spec.restart_policy = "Always"
    return t


def make_deployment(
    name: str = "web",
    *,
    replicas: int = 10,
    surge: int | str = 3,
    unavailable: int | str = 2,
    strategy: str = "RollingUpdate",
    image: str = "v1",
    uid: str = "d-uid",
    generation: int = 1,
    observed: int | None = None,
    deadline: int | None = 600,
    history: int | None = 10,
    paused: bool = False,
    annotations: dict[str, str] | None = None,
) -> deployment_pb2.Deployment:
    d = deployment_pb2.Deployment(api_version="apps/v1", kind="Deployment")
    d.metadata.name, d.metadata.namespace, d.metadata.uid = name, "ns", uid
    d.metadata.generation = generation
    d.metadata.resource_version = "1"
    d.metadata.annotations.update(annotations or {})
    d.spec.replicas = replicas
    d.spec.selector.match_labels["app"] = "web"
    d.spec.template.CopyFrom(template(image))
    d.spec.strategy.type = strategy
    if strategy == "RollingUpdate":
        d.spec.strategy.rolling_update.max_surge.CopyFrom(intstr(surge))
        d.spec.strategy.rolling_update.max_unavailable.CopyFrom(intstr(unavailable))
    if deadline is not None:
        d.spec.progress_deadline_seconds = deadline
    if history is not None:
        d.spec.revision_history_limit = history
    d.spec.paused = paused
    d.status.observed_generation = generation if observed is None else observed
    return d


_uids = itertools.count(1)


def make_rs(
    name: str,
    *,
    owner: deployment_pb2.Deployment | None = None,
    image: str = "v1",
    replicas: int = 0,
    available: int | None = None,
    actual: int | None = None,
    revision: int | None = None,
    created: float = 0,
    desired: int | None = None,
    max_replicas: int | None = None,
    uid: str = "",
    pod_hash: str = "",
) -> replicaset_pb2.ReplicaSet:
    """An RS running ``image``; status defaults to fully available."""
    rs = replicaset_pb2.ReplicaSet(api_version="apps/v1", kind="ReplicaSet")
    rs.metadata.name, rs.metadata.namespace = name, "ns"
    rs.metadata.uid = uid or f"rs-uid-{next(_uids)}"
    rs.metadata.resource_version = "1"
    rs.metadata.generation = 1
    rs.metadata.creation_timestamp = at(created)
    pod_hash = pod_hash or name.rsplit("-", 1)[-1]
    rs.spec.template.CopyFrom(template(image))
    rs.spec.template.metadata.labels[LABEL_POD_TEMPLATE_HASH] = pod_hash
    rs.metadata.labels.update(rs.spec.template.metadata.labels)
    rs.spec.selector.match_labels.update({"app": "web", LABEL_POD_TEMPLATE_HASH: pod_hash})
    rs.spec.replicas = replicas
    rs.status.replicas = replicas if actual is None else actual
    rs.status.ready_replicas = replicas if available is None else available
    rs.status.available_replicas = replicas if available is None else available
    rs.status.observed_generation = 1
    if owner is not None:
        rs.metadata.owner_references.append(owner_reference(owner))
    if revision is not None:
        rs.metadata.annotations[ANNOTATION_DEPLOYMENT_REVISION] = str(revision)
    if desired is not None:
        rs.metadata.annotations[ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS] = str(desired)
    if max_replicas is not None:
        rs.metadata.annotations[ANNOTATION_DEPLOYMENT_MAX_REPLICAS] = str(max_replicas)
    return rs


def make_pod(name: str, rs: replicaset_pb2.ReplicaSet, *, phase: str = "Running") -> pod_pb2.Pod:
    pod = pod_pb2.Pod(api_version="v1", kind="Pod")
    pod.metadata.name, pod.metadata.namespace = name, "ns"
    pod.metadata.uid = f"pod-{name}"
    pod.metadata.labels.update(rs.spec.template.metadata.labels)
    pod.metadata.owner_references.append(owner_reference(rs))
    pod.status.phase = phase
    return pod


class FakeControl:
    """Records every write as an action tuple and answers like the API
    (resourceVersions bumped). ``fail`` maps an action name to an error."""

    def __init__(self, *objects: Any) -> None:
        self.actions: list[tuple] = []
        self.events: list[tuple[str, str, str]] = []
        self.rss: dict[str, replicaset_pb2.ReplicaSet] = {}
        self.deployment: deployment_pb2.Deployment | None = None
        self.fail: dict[str, errors.ApiError] = {}
        self._rv = itertools.count(100)
        for obj in objects:
            if isinstance(obj, replicaset_pb2.ReplicaSet):
                self.rss[obj.metadata.name] = obj
            else:
                self.deployment = obj

    def _check(self, action: str) -> None:
        if action in self.fail:
            raise self.fail[action]

    def _stamp(self, obj: Any) -> Any:
        copy = type(obj)()
        copy.CopyFrom(obj)
        copy.metadata.resource_version = str(next(self._rv))
        return copy

    def scale_actions(self) -> list[tuple[str, int]]:
        """(name, replicas) of every create and resize, in order."""
        return [(a[1], a[2]) for a in self.actions if a[0] in ("create", "scale")]

    async def create_replica_set(self, rs):
        self._check("create")
        if rs.metadata.name in self.rss:
            raise errors.AlreadyExists(f'replicasets.apps "{rs.metadata.name}" already exists')
        made = self._stamp(rs)
        made.metadata.uid = f"uid-{rs.metadata.name}"
        made.metadata.creation_timestamp = at(1000)
        self.rss[rs.metadata.name] = made
        self.actions.append(("create", rs.metadata.name, rs.spec.replicas))
        return made

    async def update_replica_set(self, rs):
        self._check("update")
        old = self.rss.get(rs.metadata.name)
        if old is not None and old.metadata.resource_version != rs.metadata.resource_version:
            raise errors.Conflict("stale")
        if old is not None and old.spec.replicas != rs.spec.replicas:
            self.actions.append(("scale", rs.metadata.name, rs.spec.replicas))
        else:
            self.actions.append(("update", rs.metadata.name))
        made = self._stamp(rs)
        self.rss[rs.metadata.name] = made
        return made

    async def patch_replica_set(self, namespace, name, patch):
        self._check("patch")
        self.actions.append(("patch-rs", name, patch))
        rs = self.rss[name]
        made = self._stamp(rs)
        del made.metadata.owner_references[:]
        for ref in patch["metadata"]["ownerReferences"] or []:
            made.metadata.owner_references.append(codec.from_dict(meta_pb2.OwnerReference, ref))
        self.rss[name] = made
        return made

    async def delete_replica_set(self, namespace, name, *, uid):
        self._check("delete")
        self.actions.append(("delete", name))
        self.rss.pop(name, None)

    async def get_deployment(self, namespace, name):
        if self.deployment is None:
            raise errors.NotFound("gone")
        return self.deployment

    async def update_deployment(self, d):
        self._check("update-deployment")
        self.actions.append(("update-deployment", d.metadata.name))
        self.deployment = self._stamp(d)
        return self.deployment

    async def patch_deployment(self, namespace, name, patch):
        self.actions.append(("patch-deployment", name, patch))
        made = self._stamp(self.deployment) if self.deployment else deployment_pb2.Deployment()
        made.metadata.annotations.update(patch["metadata"]["annotations"])
        if self.deployment is not None:
            self.deployment = made
        return made

    async def update_deployment_status(self, d):
        self._check("status")
        self.actions.append(("status", d.metadata.name))
        self.status = deployment_pb2.DeploymentStatus()
        self.status.CopyFrom(d.status)
        return self._stamp(d)

    def event(self, obj, type, reason, message):
        self.events.append((type, reason, message))


def syncer(control: FakeControl, clock: FakeClock | None = None) -> Syncer:
    return Syncer(
        api=control,
        clock=clock or FakeClock(T0),
        get_cached_rs=lambda ns, name: control.rss.get(name),
    )
