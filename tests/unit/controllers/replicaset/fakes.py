"""Fakes for ReplicaSet controller unit tests (Kubernetes' ``fixture``):
objects to seed the caches with, a PodControl that records creates and
deletes, and a controller built on them, the shared fake API client
(pinnace.client.fake) and a fake clock.

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
from pinnace.client.fake import FakeClient
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


class Fixture:
    """A controller on never-run informers whose stores the test fills."""

    def __init__(self, *, rc: bool = False, burst: int = 500) -> None:
        self.clock = FakeClock(T0, monotonic=1000.0)
        self.client = FakeClient(clock=self.clock)
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
        self.client.tracker.add(owner)
        return owner

    def add_pods(self, *pods: pod_pb2.Pod) -> None:
        for pod in pods:
            self.controller.pods.store.upsert(pod)
            self.client.tracker.add(pod)

    async def sync(self, key: str = f"{NS}/web") -> float | None:
        return await self.controller.sync(key)

    def status_updates(self) -> list[Any]:
        """The owners sent with a status update, in order."""
        return status_updates(self.client)

    def status_writes(self) -> list[Any]:
        return [owner.status for owner in self.status_updates()]

    async def queued(self) -> set[str]:
        """Keys waiting in the queue now (taken off it)."""
        queue = self.controller.queue
        keys = set()
        while len(queue):
            key = await queue.get()
            queue.done(key)
            keys.add(key)
        return keys


def status_updates(client: FakeClient) -> list[Any]:
    """The objects sent with a status update, in order."""
    return [a.object for a in client.verbs("update") if a.subresource == "status"]
