"""Hand-made objects and histories for the unit tests of the invariants
and of convergence: small builders of the objects the checks read, and
``Story``, which writes a history one change at a time, each at the next
resourceVersion, as the recorder would have seen it."""

from __future__ import annotations

from typing import Any

from pinnace.api.apps.v1 import deployment_pb2, replicaset_pb2, statefulset_pb2
from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import codec, kinds
from pinnace.machinery.wellknown import FINALIZER_JOB_TRACKING
from tests.chaos.history import LIST, RELIST, History, PodProcess, ProcessSample, Recorded

__all__ = ["Story", "deployment", "job", "node", "pod", "replica_set", "statefulset"]

NS = "ns"


def _meta(name: str, uid: str, owner: Any = None, namespaced: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": uid}
    if namespaced:
        meta["namespace"] = NS
    if owner is not None:
        kind = kinds.by_message(owner).kind
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": kind,
                "name": owner.metadata.name,
                "uid": owner.metadata.uid,
                "controller": True,
            }
        ]
    return meta


def node(name: str, *, ready: bool = True) -> Any:
    return codec.from_dict(
        node_pb2.Node,
        {
            "metadata": _meta(name, f"uid-{name}", namespaced=False),
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}]},
        },
    )


def deployment(
    name: str,
    replicas: int,
    surge: int | str = 1,
    unavailable: int | str = 0,
    *,
    generation: int = 1,
    observed: int | None = None,
) -> Any:
    """A RollingUpdate Deployment; ``observed``: its status.observedGeneration
    (default: its generation, the controller caught up)."""
    return codec.from_dict(
        deployment_pb2.Deployment,
        {
            "metadata": {**_meta(name, f"uid-{name}"), "generation": generation},
            "spec": {
                "replicas": replicas,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
                },
            },
            "status": {"observedGeneration": generation if observed is None else observed},
        },
    )


def replica_set(
    name: str, owner: Any, replicas: int = 0, *, generation: int = 1, observed: int | None = None
) -> Any:
    return codec.from_dict(
        replicaset_pb2.ReplicaSet,
        {
            "metadata": {**_meta(name, f"uid-{name}", owner), "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": generation if observed is None else observed},
        },
    )


def statefulset(name: str) -> Any:
    return codec.from_dict(statefulset_pb2.StatefulSet, {"metadata": _meta(name, f"uid-{name}")})


def pod(
    name: str,
    owner: Any = None,
    *,
    uid: str = "",
    phase: str = "Running",
    ready: bool = True,
    deleting: bool = False,
    finalizers: tuple[str, ...] = (),
    on: str = "n1",
    running: tuple[tuple[str, int], ...] = (),
    marked: bool = False,
) -> Any:
    """A pod; ``running``: (container, restartCount) of containers it reports
    running; ``marked``: not ready by the node controller's verdict (Ready
    False, ContainersReady True), else both conditions are ``ready``."""
    meta = _meta(name, uid or f"uid-{name}", owner)
    meta["finalizers"] = list(finalizers)
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": meta,
            "spec": {"nodeName": on},
            "status": {
                "phase": phase,
                "conditions": [
                    {"type": "Ready", "status": "True" if ready and not marked else "False"},
                    {"type": "ContainersReady", "status": "True" if ready or marked else "False"},
                ],
                "containerStatuses": [
                    {"name": c, "restartCount": n, "state": {"running": {}}} for c, n in running
                ],
            },
        },
    )


def tracked(name: str, owner: Any, phase: str, *, finalizer: bool = True) -> Any:
    """A Job's pod in ``phase``, carrying the tracking finalizer or not."""
    return pod(name, owner, phase=phase, finalizers=(FINALIZER_JOB_TRACKING,) if finalizer else ())


def job(
    name: str,
    *,
    succeeded: int = 0,
    failed: int = 0,
    finished: str = "Complete",
    uncounted: tuple[str, ...] = (),
) -> Any:
    conditions = [{"type": finished, "status": "True"}] if finished else []
    return codec.from_dict(
        job_pb2.Job,
        {
            "metadata": _meta(name, f"uid-{name}"),
            "status": {
                "succeeded": succeeded,
                "failed": failed,
                "conditions": conditions,
                "uncountedTerminatedPods": {"failed": list(uncounted)},
            },
        },
    )


class Story:
    """A history written one change at a time (resourceVersions 1, 2, …)."""

    def __init__(self) -> None:
        self.history = History()
        self.rv = 0

    def _event(
        self, resource: str, type_: str, obj: Any = None, objects: tuple[Any, ...] = ()
    ) -> Story:
        self.rv += 1
        for o in (obj, *objects) if obj is not None else objects:
            if not o.metadata.resource_version:
                o.metadata.resource_version = str(self.rv)
        seq = len(self.history.events) + 1
        self.history.events.append(
            Recorded(seq, float(seq), resource, type_, self.rv, obj, objects)
        )
        return self

    def _copy(self, obj: Any) -> Any:
        out = type(obj)()
        out.CopyFrom(obj)
        out.metadata.resource_version = ""
        return out

    def list(self, resource: str, *objects: Any) -> Story:
        return self._event(resource, LIST, objects=tuple(self._copy(o) for o in objects))

    def relist(self, resource: str, *objects: Any) -> Story:
        return self._event(resource, RELIST, objects=tuple(self._copy(o) for o in objects))

    def added(self, resource: str, obj: Any) -> Story:
        return self._event(resource, "ADDED", self._copy(obj))

    def modified(self, resource: str, obj: Any) -> Story:
        return self._event(resource, "MODIFIED", self._copy(obj))

    def deleted(self, resource: str, obj: Any) -> Story:
        return self._event(resource, "DELETED", self._copy(obj))

    def world(self, **objects: tuple[Any, ...]) -> Story:
        """The first LIST of every resource the bounds check reads."""
        for resource in ("nodes", "deployments", "replicasets", "pods"):
            self.list(resource, *objects.get(resource, ()))
        return self

    def sample(self, *pods: tuple[Any, str]) -> Story:
        """A process sample: (pod, node) pairs alive."""
        at = float(len(self.history.samples))
        procs = tuple(
            PodProcess(on, p.metadata.namespace, p.metadata.name, p.metadata.uid, 100 + i)
            for i, (p, on) in enumerate(pods)
        )
        self.history.samples.append(ProcessSample(at, procs))
        return self
