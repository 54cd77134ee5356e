"""Fakes for ReplicaSet controller unit tests (Kubernetes' ``fixture``):
objects to seed the caches with, a PodControl and a client that record
actions, and a controller built on them with a fake clock.

    f = Fixture()
    f.add_owner(make_rs("web", replicas=3))
    f.add_pods(make_pod("web-a", owner=rs))
    await f.sync("ns/web")
    assert f.pod_control.creates == 2
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from controllers.base import ControllerContext
from controllers.controllerref import owner_reference
from controllers.podcontrol import pod_from_template
from controllers.replicaset.controller import ReplicaSetController, ReplicationManager
from pinnace.api.apps.v1 import replicaset_pb2
from pinnace.api.core.v1 import pod_pb2, replicationcontroller_pb2
from pinnace.client.informer import SharedInformerFactory
from pinnace.machinery import errors
from pinnace.machinery.timeutil import FakeClock, format_rfc3339

NS = "ns"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
_names = itertools.count()


def at(seconds: float) -> str:
    """T0 + seconds as an RFC 3339 time."""
    return format_rfc3339(T0 + timedelta(seconds=seconds))


def make_rs(
    name: str = "web",
    *,
    replicas: int | None = 3,
    labels: dict[str, str] | None = None,
    selector: dict[str, str] | None = None,
    min_ready: int = 0,
    generation: int = 1,
) -> replicaset_pb2.ReplicaSet:
    labels = labels or {"app": name}
    rs = replicaset_pb2.ReplicaSet(api_version="apps/v1", kind="ReplicaSet")
    rs.metadata.name = name
    rs.metadata.namespace = NS
    rs.metadata.uid = f"uid-{name}"
    rs.metadata.generation = generation
    rs.metadata.resource_version = "1"
    if replicas is not None:
        rs.spec.replicas = replicas
    rs.spec.min_ready_seconds = min_ready
    rs.spec.selector.match_labels.update(selector or labels)
    rs.spec.template.metadata.labels.update(labels)
    rs.spec.template.spec.containers.add(name="c", image="x")
    return rs


def make_rc(
    name: str = "web", *, replicas: int = 3, labels: dict[str, str] | None = None
) -> replicationcontroller_pb2.ReplicationController:
    labels = labels or {"app": name}
    rc = replicationcontroller_pb2.ReplicationController(
        api_version="v1", kind="ReplicationController"
    )
    rc.metadata.name = name
    rc.metadata.namespace = NS
    rc.metadata.uid = f"uid-{name}"
    rc.metadata.generation = 1
    rc.spec.replicas = replicas
    rc.spec.selector.update(labels)
    rc.spec.template.metadata.labels.update(labels)
    rc.spec.template.spec.containers.add(name="c", image="x")
    return rc


def make_pod(
    name: str = "",
    *,
    owner: Any = None,
    labels: dict[str, str] | None = None,
    node: str = "",
    phase: str = "",
    ready: bool | None = None,
    ready_at: float = 0,
    created_at: float = 0,
    restarts: int = 0,
    cost: int | None = None,
    deleting: bool = False,
    uid: str = "",
) -> pod_pb2.Pod:
    """A pod; owned (controller ref) by ``owner`` if given, with its
    template's labels unless ``labels`` says otherwise."""
    name = name or f"pod-{next(_names)}"
    pod = pod_pb2.Pod(api_version="v1", kind="Pod")
    pod.metadata.name = name
    pod.metadata.namespace = NS
    pod.metadata.uid = uid or f"uid-{name}"
    pod.metadata.resource_version = "1"
    pod.metadata.creation_timestamp = at(created_at)
    if owner is not None:
        pod.metadata.owner_references.append(owner_reference(owner))
        pod.metadata.labels.update(owner.spec.template.metadata.labels)
    if labels is not None:
        pod.metadata.labels.clear()
        pod.metadata.labels.update(labels)
    pod.spec.node_name = node
    pod.status.phase = phase
    if ready is not None:
        pod.status.conditions.add(
            type="Ready", status="True" if ready else "False", last_transition_time=at(ready_at)
        )
    if restarts:
        pod.status.container_statuses.add(name="c", restart_count=restarts)
    if cost is not None:
        pod.metadata.annotations["controller.kubernetes.io/pod-deletion-cost"] = str(cost)
    if deleting:
        pod.metadata.deletion_timestamp = at(0)
    return pod


class FakePodControl:
    """Records create and delete calls; fails them when told to."""

    def __init__(self) -> None:
        self.created: list[pod_pb2.Pod] = []
        self.deleted: list[str] = []
        self.fail_create_after: int | None = None  # successes before creates fail
        self.fail_delete: set[str] = set()

    @property
    def creates(self) -> int:
        return len(self.created)

    async def create_pod(self, namespace: str, template: Any, owner: Any, **kwargs: Any) -> Any:
        if self.fail_create_after is not None and len(self.created) >= self.fail_create_after:
            raise errors.Forbidden('pods "x" is forbidden: exceeded quota: pods')
        pod = pod_from_template(template, owner)
        pod.metadata.name = f"{owner.metadata.name}-{len(self.created)}"
        pod.metadata.uid = str(uuid.uuid4())
        self.created.append(pod)
        return pod

    async def delete_pod(self, namespace: str, name: str, owner: Any, *, uid: str = "") -> None:
        if name in self.fail_delete:
            raise errors.InternalError("etcd is down")
        self.deleted.append(name)


class FakeResource:
    """One kind in one namespace: records patches, status updates and gets."""

    def __init__(self, client: FakeClient, resource: str, namespace: str) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace

    async def patch(self, name: str, patch: dict, **kwargs: Any) -> Any:
        self.client.actions.append(("patch", self.resource, name, patch))
        if name in self.client.patch_errors:
            raise self.client.patch_errors[name]
        pod = self.client.objects[(self.resource, name)]
        meta = patch["metadata"]
        out = type(pod)()
        out.CopyFrom(pod)
        del out.metadata.owner_references[:]
        for ref in meta.get("ownerReferences") or []:
            out.metadata.owner_references.add(
                api_version=ref["apiVersion"],
                kind=ref["kind"],
                name=ref["name"],
                uid=ref["uid"],
                controller=ref.get("controller", False),
            )
        return out

    async def update_status(self, obj: Any) -> Any:
        self.client.actions.append(("update_status", self.resource, obj.metadata.name, obj))
        if self.client.status_conflicts:
            self.client.status_conflicts -= 1
            raise errors.Conflict("the object has been modified")
        return obj

    async def get(self, name: str) -> Any:
        self.client.actions.append(("get", self.resource, name, None))
        try:
            stored = self.client.objects[(self.resource, name)]
        except KeyError:
            raise errors.NotFound(f'{self.resource} "{name}" not found') from None
        fresh = type(stored)()
        fresh.CopyFrom(stored)
        return fresh


class FakeClient:
    """Enough of AsyncClient for the controller: informers only take a
    handle (they are never run), the controller patches pods, reads and
    writes its owners."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, str, str, Any]] = []
        self.objects: dict[tuple[str, str], Any] = {}
        self.patch_errors: dict[str, Exception] = {}
        self.status_conflicts = 0

    def resource(self, kind: Any, namespace: str = "") -> Any:
        return None

    def pods(self, namespace: str) -> FakeResource:
        return FakeResource(self, "pods", namespace)

    def replica_sets(self, namespace: str) -> FakeResource:
        return FakeResource(self, "replicasets", namespace)

    def replication_controllers(self, namespace: str) -> FakeResource:
        return FakeResource(self, "replicationcontrollers", namespace)

    def verbs(self, verb: str) -> list[tuple[str, str, str, Any]]:
        return [a for a in self.actions if a[0] == verb]


class Fixture:
    """A controller on never-run informers whose stores the test fills."""

    def __init__(self, *, rc: bool = False, burst: int = 500) -> None:
        self.client = FakeClient()
        self.clock = FakeClock(T0, monotonic=1000.0)
        self.pod_control = FakePodControl()
        ctx = ControllerContext(
            client=self.client,  # type: ignore[arg-type]
            informers=SharedInformerFactory(self.client),  # type: ignore[arg-type]
            recorder=None,  # type: ignore[arg-type]
            clock=self.clock,
        )
        cls = ReplicationManager if rc else ReplicaSetController
        self.controller = cls(ctx, pod_control=self.pod_control, burst_replicas=burst)
        self.resource = "replicationcontrollers" if rc else "replicasets"

    def add_owner(self, owner: Any) -> Any:
        self.controller.owners.store.upsert(owner)
        self.client.objects[(self.resource, owner.metadata.name)] = owner
        return owner

    def add_pods(self, *pods: pod_pb2.Pod) -> None:
        for pod in pods:
            self.controller.pods.store.upsert(pod)
            self.client.objects[("pods", pod.metadata.name)] = pod

    async def sync(self, key: str = f"{NS}/web") -> float | None:
        return await self.controller.sync(key)

    def status_writes(self) -> list[Any]:
        return [a[3].status for a in self.client.verbs("update_status")]

    async def queued(self) -> set[str]:
        """Keys waiting in the queue now (taken off it)."""
        queue = self.controller.queue
        keys = set()
        while len(queue):
            key = await queue.get()
            queue.done(key)
            keys.add(key)
        return keys
