"""Pure helpers shared by the ReplicaSet and ReplicationController controller.

One implementation serves both kinds, as in Kubernetes, where the
ReplicationController manager is the ReplicaSet controller behind an
adapter (pkg/controller/replication). ``ReplicaKind`` is that adapter: how
to read the selector, the desired replicas and the status of one kind, and
how to reach it through the API. Everything else only sees ``ReplicaKind``.

The pod predicates follow pkg/controller/controller_utils.go and
pkg/api/v1/pod (IsPodActive, IsPodTerminating, IsPodReady, IsPodAvailable).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from pinnace.api.apps.v1 import replicaset_pb2
from pinnace.api.core.v1 import pod_pb2, replicationcontroller_pb2
from pinnace.client.aio import AsyncClient
from pinnace.machinery.labels import Selector, selector_from_label_selector, selector_from_map
from pinnace.machinery.wellknown import ANNOTATION_POD_DELETION_COST

# Kubernetes' burstReplicas: at most this many pods created or deleted per sync.
BURST_REPLICAS = 500

FAILED_CREATE = "FailedCreate"
FAILED_DELETE = "FailedDelete"

_INT = re.compile(r"[+-]?[0-9]+")  # what Go's strconv.ParseInt(s, 10, 32) accepts


@dataclass(frozen=True)
class ReplicaKind:
    """What differs between ReplicaSet and ReplicationController."""

    kind: str
    message: type[Message]
    # Whether the status has terminatingReplicas (ReplicaSet only).
    has_terminating_replicas: bool
    _selector: Callable[[Any], Selector]
    _resource: Callable[[AsyncClient, str], Any]

    def selector(self, owner: Any) -> Selector:
        """The owner's pod selector (raises SelectorError if it is malformed)."""
        return self._selector(owner)

    def resource(self, client: AsyncClient, namespace: str) -> Any:
        """The client handle on this kind in namespace."""
        return self._resource(client, namespace)


def _rs_selector(rs: replicaset_pb2.ReplicaSet) -> Selector:
    return selector_from_label_selector(rs.spec.selector if rs.spec.HasField("selector") else None)


def _rc_selector(rc: replicationcontroller_pb2.ReplicationController) -> Selector:
    # Kubernetes converts an RC's map into matchLabels; the apiserver defaults
    # an empty map to the template's labels, so it is never empty in practice.
    return selector_from_map(rc.spec.selector)


REPLICA_SET = ReplicaKind(
    kind="ReplicaSet",
    message=replicaset_pb2.ReplicaSet,
    has_terminating_replicas=True,
    _selector=_rs_selector,
    _resource=lambda client, ns: client.replica_sets(ns),
)

REPLICATION_CONTROLLER = ReplicaKind(
    kind="ReplicationController",
    message=replicationcontroller_pb2.ReplicationController,
    has_terminating_replicas=False,
    _selector=_rc_selector,
    _resource=lambda client, ns: client.replication_controllers(ns),
)


def desired_replicas(owner: Any) -> int:
    """spec.replicas, or its default 1 when unset."""
    return owner.spec.replicas if owner.spec.HasField("replicas") else 1


def deletion_cost(pod: pod_pb2.Pod) -> int:
    """The pod-deletion-cost annotation; 0 when absent or not an int32."""
    text = pod.metadata.annotations.get(ANNOTATION_POD_DELETION_COST)
    if text is None or not _INT.fullmatch(text):
        return 0
    value = int(text, 10)
    return value if -(2**31) <= value < 2**31 else 0


def pod_key(pod: Any) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"
