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
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.message import Message

from pinnace.api.apps.v1 import replicaset_pb2
from pinnace.api.core.v1 import pod_pb2, replicationcontroller_pb2
from pinnace.client.aio import AsyncClient
from pinnace.machinery.conditions import find_condition, is_true
from pinnace.machinery.labels import Selector, selector_from_label_selector, selector_from_map
from pinnace.machinery.timeutil import parse_rfc3339
from pinnace.machinery.wellknown import ANNOTATION_POD_DELETION_COST, POD_READY

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


# ---- pods --------------------------------------------------------------------------


def is_pod_terminal(pod: pod_pb2.Pod) -> bool:
    return pod.status.phase in ("Succeeded", "Failed")


def is_pod_active(pod: pod_pb2.Pod) -> bool:
    """Counts as a replica: not terminal and not being deleted."""
    return not is_pod_terminal(pod) and not pod.metadata.deletion_timestamp


def is_pod_terminating(pod: pod_pb2.Pod) -> bool:
    """Being deleted but still running (status.terminatingReplicas)."""
    return not is_pod_terminal(pod) and bool(pod.metadata.deletion_timestamp)


def ready_condition(pod: pod_pb2.Pod) -> pod_pb2.PodCondition | None:
    return find_condition(pod.status.conditions, POD_READY)


def is_pod_ready(pod: pod_pb2.Pod) -> bool:
    return is_true(pod.status.conditions, POD_READY)


def ready_since(pod: pod_pb2.Pod) -> datetime | None:
    """When a ready pod became ready (its Ready condition's transition time)."""
    cond = ready_condition(pod)
    if cond is None or cond.status != "True":
        return None
    return parse_time(cond.last_transition_time)


def is_pod_available(pod: pod_pb2.Pod, min_ready_seconds: int, now: datetime) -> bool:
    """Ready for at least min_ready_seconds (Kubernetes' IsPodAvailable)."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    since = ready_since(pod)
    return since is not None and since + timedelta(seconds=min_ready_seconds) < now


def available_in(pod: pod_pb2.Pod, min_ready_seconds: int, now: datetime) -> float | None:
    """Seconds until a ready, not yet available pod becomes available; None
    if it is not ready, already available, or has no transition time."""
    if min_ready_seconds == 0 or not is_pod_ready(pod):
        return None
    since = ready_since(pod)
    if since is None:
        return None
    left = (since + timedelta(seconds=min_ready_seconds) - now).total_seconds()
    return left if left >= 0 else None


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time, or None when empty or malformed (a zero time)."""
    if not text:
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


def deletion_cost(pod: pod_pb2.Pod) -> int:
    """The pod-deletion-cost annotation; 0 when absent or not an int32."""
    text = pod.metadata.annotations.get(ANNOTATION_POD_DELETION_COST)
    if text is None or not _INT.fullmatch(text):
        return 0
    value = int(text, 10)
    return value if -(2**31) <= value < 2**31 else 0


def max_container_restarts(pod: pod_pb2.Pod) -> int:
    """The most restarts of any container (sidecar init containers included)."""
    sidecars = {c.name for c in pod.spec.init_containers if c.restart_policy == "Always"}
    counts = [c.restart_count for c in pod.status.container_statuses]
    counts += [c.restart_count for c in pod.status.init_container_statuses if c.name in sidecars]
    return max(counts, default=0)


def pod_key(pod: Any) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"
