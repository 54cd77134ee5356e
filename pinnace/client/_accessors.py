"""Per-kind shortcuts shared by Client and AsyncClient: ``client.pods("ns")``."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from pinnace.machinery import kinds
from pinnace.machinery.kinds import KindInfo


def kind_info(kind: type[Message] | KindInfo | str) -> KindInfo:
    """A KindInfo from a message class, a KindInfo, or a name ("pods", "deploy")."""
    if isinstance(kind, KindInfo):
        return kind
    if isinstance(kind, str):
        return kinds.lookup(kind)
    return kinds.by_message(kind.DESCRIPTOR.full_name)


class KindAccessors:
    """One method per served kind. Namespaced kinds take the namespace
    ("" means all namespaces, for list and watch)."""

    def resource(self, kind: Any, namespace: str = "default") -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get(self, resource: str, namespace: str = "") -> Any:
        return self.resource(kinds.by_resource(resource), namespace)

    def pods(self, namespace: str = "default") -> Any:
        return self._get("pods", namespace)

    def nodes(self) -> Any:
        return self._get("nodes")

    def namespaces(self) -> Any:
        return self._get("namespaces")

    def events(self, namespace: str = "default") -> Any:
        return self._get("events", namespace)

    def replication_controllers(self, namespace: str = "default") -> Any:
        return self._get("replicationcontrollers", namespace)

    def persistent_volume_claims(self, namespace: str = "default") -> Any:
        return self._get("persistentvolumeclaims", namespace)

    def persistent_volumes(self) -> Any:
        return self._get("persistentvolumes")

    def deployments(self, namespace: str = "default") -> Any:
        return self._get("deployments.apps", namespace)

    def replica_sets(self, namespace: str = "default") -> Any:
        return self._get("replicasets.apps", namespace)

    def stateful_sets(self, namespace: str = "default") -> Any:
        return self._get("statefulsets.apps", namespace)

    def daemon_sets(self, namespace: str = "default") -> Any:
        return self._get("daemonsets.apps", namespace)

    def controller_revisions(self, namespace: str = "default") -> Any:
        return self._get("controllerrevisions.apps", namespace)

    def jobs(self, namespace: str = "default") -> Any:
        return self._get("jobs.batch", namespace)

    def cron_jobs(self, namespace: str = "default") -> Any:
        return self._get("cronjobs.batch", namespace)

    def leases(self, namespace: str = "default") -> Any:
        return self._get("leases.coordination.k8s.io", namespace)
