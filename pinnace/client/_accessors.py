"""Per-kind shortcuts shared by Client and AsyncClient: ``client.pods("ns")``.

Each shortcut is declared once, as a descriptor carrying the kind's message
class, and typed by the client it is read from: on a ``Client`` (a
``SyncKinds``) ``deployments`` gives ``ResourceClient[Deployment]``, on an
``AsyncClient`` (an ``AsyncKinds``) ``AsyncResourceClient[Deployment]``, so
``client.deployments(ns).get(name)`` is a ``Deployment`` to a type checker.
On any other ``KindAccessors`` (a test fake) the handle is whatever its
``resource`` returns. At run time every shortcut is
``client.resource(<KindInfo>, namespace)``.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, Self, TypeVar, overload

from google.protobuf.message import Message

from pinnace.api.apps.v1 import (
    controllerrevision_pb2,
    daemonset_pb2,
    deployment_pb2,
    replicaset_pb2,
    statefulset_pb2,
)
from pinnace.api.batch.v1 import cronjob_pb2, job_pb2
from pinnace.api.coordination.v1 import lease_pb2
from pinnace.api.core.v1 import (
    event_pb2,
    namespace_pb2,
    node_pb2,
    pod_pb2,
    replicationcontroller_pb2,
    service_pb2,
    volume_pb2,
)
from pinnace.api.discovery.v1 import endpointslice_pb2
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.client.handles import AsyncResourceClient, ResourceClient
from pinnace.machinery import kinds
from pinnace.machinery.kinds import KindInfo

T = TypeVar("T", bound=Message)
H_co = TypeVar("H_co", covariant=True)


def kind_info(kind: type[Message] | KindInfo | str) -> KindInfo:
    """A KindInfo from a message class, a KindInfo, or a name ("pods", "deploy")."""
    if isinstance(kind, KindInfo):
        return kind
    if isinstance(kind, str):
        return kinds.lookup(kind)
    return kinds.by_message(kind.DESCRIPTOR.full_name)


class NamespacedGetter(Protocol[H_co]):
    """``client.pods`` itself: call it with a namespace ("" means all
    namespaces, for list and watch)."""

    def __call__(self, namespace: str = "default") -> H_co: ...


class ClusterGetter(Protocol[H_co]):
    """``client.nodes`` itself: a cluster-scoped kind takes no namespace."""

    def __call__(self) -> H_co: ...


class _Shortcut(Generic[T]):
    def __init__(self, message: type[T]) -> None:
        self.message = message

    def _info(self) -> KindInfo:
        return kind_info(self.message)


class Namespaced(_Shortcut[T]):
    """The shortcut of a namespaced kind (see the module doc)."""

    @overload
    def __get__(self, host: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, host: SyncKinds, owner: type[Any]) -> NamespacedGetter[ResourceClient[T]]: ...
    @overload
    def __get__(
        self, host: AsyncKinds, owner: type[Any]
    ) -> NamespacedGetter[AsyncResourceClient[T]]: ...
    @overload
    def __get__(self, host: KindAccessors, owner: type[Any]) -> NamespacedGetter[Any]: ...
    def __get__(self, host: KindAccessors | None, owner: type[Any]) -> Any:
        if host is None:
            return self

        def handle(namespace: str = "default") -> Any:
            return host.resource(self._info(), namespace)

        return handle


class Cluster(_Shortcut[T]):
    """The shortcut of a cluster-scoped kind (see the module doc)."""

    @overload
    def __get__(self, host: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, host: SyncKinds, owner: type[Any]) -> ClusterGetter[ResourceClient[T]]: ...
    @overload
    def __get__(
        self, host: AsyncKinds, owner: type[Any]
    ) -> ClusterGetter[AsyncResourceClient[T]]: ...
    @overload
    def __get__(self, host: KindAccessors, owner: type[Any]) -> ClusterGetter[Any]: ...
    def __get__(self, host: KindAccessors | None, owner: type[Any]) -> Any:
        if host is None:
            return self

        def handle() -> Any:
            return host.resource(self._info(), "")

        return handle


class KindAccessors:
    """One shortcut per served kind, each ``self.resource(info, namespace)``."""

    def resource(self, kind: Any, namespace: str = "default") -> Any:  # pragma: no cover
        raise NotImplementedError

    pods = Namespaced(pod_pb2.Pod)
    nodes = Cluster(node_pb2.Node)
    namespaces = Cluster(namespace_pb2.Namespace)
    events = Namespaced(event_pb2.Event)
    replication_controllers = Namespaced(replicationcontroller_pb2.ReplicationController)
    persistent_volume_claims = Namespaced(volume_pb2.PersistentVolumeClaim)
    persistent_volumes = Cluster(volume_pb2.PersistentVolume)
    deployments = Namespaced(deployment_pb2.Deployment)
    replica_sets = Namespaced(replicaset_pb2.ReplicaSet)
    stateful_sets = Namespaced(statefulset_pb2.StatefulSet)
    daemon_sets = Namespaced(daemonset_pb2.DaemonSet)
    controller_revisions = Namespaced(controllerrevision_pb2.ControllerRevision)
    jobs = Namespaced(job_pb2.Job)
    cron_jobs = Namespaced(cronjob_pb2.CronJob)
    leases = Namespaced(lease_pb2.Lease)
    services = Namespaced(service_pb2.Service)
    endpoint_slices = Namespaced(endpointslice_pb2.EndpointSlice)
    roles = Namespaced(rbac_pb2.Role)
    role_bindings = Namespaced(rbac_pb2.RoleBinding)
    cluster_roles = Cluster(rbac_pb2.ClusterRole)
    cluster_role_bindings = Cluster(rbac_pb2.ClusterRoleBinding)


class SyncKinds(KindAccessors):
    """The shortcuts of a blocking client: ``ResourceClient`` handles."""


class AsyncKinds(KindAccessors):
    """The shortcuts of an asyncio client: ``AsyncResourceClient`` handles."""
