"""Which pod a command that needs one pod works on (kubectl's
``AttachablePodForObject``, used by port-forward).

* ``NAME`` or ``pod/NAME``: that pod.
* ``KIND/NAME`` of a Service, Deployment, ReplicaSet, ReplicationController,
  StatefulSet, DaemonSet or Job: the pods its selector matches (a Service
  without a selector is refused), and of those the most active one, by
  kubectl's ``ActivePods`` order, most active first:

  1. assigned to a node before not assigned;
  2. Running before Unknown before Pending (and the rest);
  3. ready before not ready;
  4. both ready: ready for longer first;
  5. fewer container restarts first;
  6. older first (no creation time last).

  With no pod yet the command waits up to ``--pod-running-timeout`` for
  the best pod to be Running.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.message import Message

from pinnace.api.core.v1 import pod_pb2
from pinnace.client import Client, object_meta
from pinnace.machinery import kinds
from pinnace.machinery.labels import selector_from_label_selector, selector_from_map
from pinnace.machinery.podutil import (
    is_pod_ready,
    less_active_by_state,
    max_container_restarts,
    parse_time,
    ready_since,
)

__all__ = ["attachable_pod", "less_active", "most_active", "selector_for_object", "target_object"]

_MAP_SELECTOR_KINDS = ("Service", "ReplicationController")
_LABEL_SELECTOR_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")
POLL_INTERVAL = 0.25


def target_object(client: Client, namespace: str, target: str) -> Message:
    """The object ``NAME`` (a pod) or ``KIND/NAME`` names."""
    kind, _, name = target.partition("/")
    if not name:
        if not kind:
            raise ValueError("pod name or resource type/name must be specified")
        return client.pods(namespace).get(kind)
    info = kinds.lookup(kind)
    return client.resource(info, namespace).get(name)


def selector_for_object(obj: Message) -> str:
    """The label selector text of obj's pods (kubectl's SelectorsForObject)."""
    info = kinds.by_message(obj)
    spec: Any = getattr(obj, "spec", None)
    name = object_meta(obj).name
    if info.kind in _MAP_SELECTOR_KINDS:
        if info.kind == "Service" and not spec.selector:
            raise ValueError(
                f"cannot attach to *v1.Service: invalid service '{name}': "
                "Service is defined without a selector"
            )
        return str(selector_from_map(dict(spec.selector)))
    if info.kind in _LABEL_SELECTOR_KINDS:
        return str(selector_from_label_selector(spec.selector))
    raise ValueError(
        f"cannot attach to *v1.{info.kind}: selector for *v1.{info.kind} not implemented "
        "(use a pod, or a Service, Deployment, ReplicaSet, ReplicationController, "
        "StatefulSet, DaemonSet or Job)"
    )


def less_active(a: pod_pb2.Pod, b: pod_pb2.Pod) -> bool:
    """Whether a is less active than b (kubectl's ActivePods.Less)."""
    by_state = less_active_by_state(a, b)
    if by_state is not None:
        return by_state
    if is_pod_ready(a):  # both ready
        since_a, since_b = ready_since(a), ready_since(b)
        if since_a != since_b:
            return _after_or_zero(since_a, since_b)
    restarts_a, restarts_b = max_container_restarts(a), max_container_restarts(b)
    if restarts_a != restarts_b:
        return restarts_a > restarts_b
    created_a = parse_time(a.metadata.creation_timestamp)
    created_b = parse_time(b.metadata.creation_timestamp)
    if created_a != created_b:
        return _after_or_zero(created_a, created_b)
    return False


def _after_or_zero(t_a: Any, t_b: Any) -> bool:
    if t_a is None or t_b is None:
        return t_a is None
    return bool(t_a > t_b)


def most_active(pods: Sequence[pod_pb2.Pod]) -> pod_pb2.Pod | None:
    def compare(a: pod_pb2.Pod, b: pod_pb2.Pod) -> int:
        return -1 if less_active(a, b) else 1 if less_active(b, a) else 0

    ordered = sorted(pods, key=functools.cmp_to_key(compare))
    return ordered[-1] if ordered else None


def attachable_pod(
    client: Client,
    namespace: str,
    obj: Message,
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> pod_pb2.Pod:
    """The pod obj names, or the most active of its pods once one is Running
    (within ``timeout`` seconds; after that the most active as it is)."""
    if isinstance(obj, pod_pb2.Pod):
        return obj
    selector = selector_for_object(obj)
    deadline = clock() + timeout
    while True:
        pods = client.pods(namespace).list(label_selector=selector).items
        best = most_active(pods)
        if best is not None and (best.status.phase == "Running" or clock() >= deadline):
            return best
        if clock() >= deadline:
            raise ValueError(
                f"timed out waiting for the condition: no pod of {kinds.by_message(obj).kind} "
                f"{object_meta(obj).name} (selector {selector or '<everything>'}) "
                f"appeared within {timeout:g}s"
            )
        sleep(POLL_INTERVAL)
