"""What a DaemonSet should do on each node, computed from cached state
(Kubernetes' daemon_controller.go manage / podsShouldBeOnNode and
update.go rollingUpdate). Pure: the controller carries the plans out.

``plan_nodes`` keeps exactly one daemon pod on every node that should run
one:

* a node that should run the pod and has none (not even a terminating
  one) gets one;
* failed pods are deleted (and replaced on the next sync), but no more
  often than the per-node backoff allows;
* of several running pods on a node the oldest stays (with maxSurge, the
  oldest updated and the oldest old pod stay: the rolling update retires
  the old one once the new one is available);
* a node that may no longer run it (selector or affinity no longer match,
  an untolerated NoExecute taint) loses its pods; an untolerated NoSchedule
  taint only stops new ones;
* pods not yet bound whose target node is gone are deleted (pods bound to a
  deleted node are the pod GC's).

``plan_rolling_update`` then replaces old pods node by node, only when
``plan_nodes`` had nothing to do. Without surge (worked example, 5 nodes,
maxUnavailable 2, all old and available): 2 old pods are deleted; while
their nodes have no available pod they count as unavailable, so nothing
else is deleted; once their new pods are available the next 2 go. An old
pod that is unavailable anyway is replaced at once, without using the
budget. With maxSurge the new pod is created first on up to maxSurge nodes
and the old pod is deleted when the new one is available.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from controllers.daemonset.util import (
    DaemonSet,
    Eligibility,
    available,
    creation_order,
    is_updated,
    surge_and_unavailable,
)
from pinnace.api.apps.v1 import daemonset_pb2
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery.conditions import is_true
from pinnace.machinery.intstr import IntOrStringError
from pinnace.machinery.podutil import is_pod_terminal
from pinnace.machinery.wellknown import POD_READY

Pod = pod_pb2.Pod


@dataclass
class Plan:
    create_on: list[str] = field(default_factory=list)
    delete: list[Pod] = field(default_factory=list)
    failed: list[Pod] = field(default_factory=list)  # also in delete: for events and backoff
    requeue: float | None = None  # a failed pod waits out its backoff

    def __bool__(self) -> bool:
        return bool(self.create_on or self.delete)

    def wait(self, seconds: float) -> None:
        self.requeue = seconds if self.requeue is None else min(self.requeue, seconds)


def _terminating(pod: Pod) -> bool:
    return bool(pod.metadata.deletion_timestamp)


def plan_nodes(
    ds: DaemonSet,
    nodes: Sequence[node_pb2.Node],
    pods_by_node: Mapping[str, Sequence[Pod]],
    *,
    hash_value: str,
    eligibility: Callable[[node_pb2.Node], Eligibility],
    backoff_remaining: Callable[[str], float],
) -> Plan:
    plan = Plan()
    surge = _max_surge(ds, len(nodes)) > 0
    for node in sorted(nodes, key=lambda n: n.metadata.name):
        name = node.metadata.name
        pods = sorted(pods_by_node.get(name, ()), key=creation_order)
        want = eligibility(node)
        if not want.should_continue_running:
            plan.delete.extend(p for p in pods if not _terminating(p))
            continue
        running: list[Pod] = []
        for pod in pods:
            if _terminating(pod):
                continue
            if is_pod_terminal(pod):
                wait = backoff_remaining(name)
                if wait > 0:
                    plan.wait(wait)
                    continue
                plan.delete.append(pod)
                plan.failed.append(pod)
                continue
            running.append(pod)
        plan.delete.extend(_excess(running, hash_value, surge=surge))
        if want.should_run and not pods:
            plan.create_on.append(name)
    known = {n.metadata.name for n in nodes}
    for name, left in pods_by_node.items():
        if name not in known:
            plan.delete.extend(p for p in left if not p.spec.node_name and not _terminating(p))
    return plan


def _excess(running: list[Pod], hash_value: str, *, surge: bool) -> list[Pod]:
    """Pods beyond one per node (``running`` oldest first)."""
    if not surge:
        return running[1:]
    keep_new = keep_old = None
    extra = []
    for pod in running:
        if is_updated(pod, hash_value):
            if keep_new is None:
                keep_new = pod
                continue
        elif keep_old is None:
            keep_old = pod
            continue
        extra.append(pod)
    return extra


def _max_surge(ds: DaemonSet, desired: int) -> int:
    try:
        return surge_and_unavailable(ds, desired)[0]
    except IntOrStringError:
        return 0


def _updated_and_old(pods: Sequence[Pod], hash_value: str) -> tuple[Pod | None, Pod | None, bool]:
    """(new pod, old pod, ok) among a node's live pods; not ok when there
    are two of either (the node plan cleans that up first)."""
    new = old = None
    for pod in pods:
        if _terminating(pod) or is_pod_terminal(pod):
            continue
        if is_updated(pod, hash_value):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def plan_rolling_update(
    ds: DaemonSet,
    pods_by_node: Mapping[str, Sequence[Pod]],
    *,
    hash_value: str,
    desired: int,
    should_run: Callable[[str], bool],
    now: datetime,
) -> Plan:
    plan = Plan()
    max_surge, max_unavailable = surge_and_unavailable(ds, desired)
    names = sorted(pods_by_node)
    if max_surge == 0:
        unavailable = 0
        replace: list[Pod] = []
        candidates: list[Pod] = []
        for name in names:
            new, old, ok = _updated_and_old(pods_by_node[name], hash_value)
            if not ok or (new is None) == (old is None):
                unavailable += 1  # nothing, or both: the node plan deals with it
            elif new is not None:
                if not available(new, ds, now):
                    unavailable += 1
            elif old is not None and not available(old, ds, now):
                replace.append(old)
            elif old is not None and unavailable < max_unavailable:
                candidates.append(old)
        budget = max(0, min(max_unavailable - unavailable, len(candidates)))
        plan.delete = replace + candidates[:budget]
        return plan
    surging = 0
    allowed: list[str] = []
    candidate_nodes: list[str] = []
    for name in names:
        new, old, ok = _updated_and_old(pods_by_node[name], hash_value)
        if not ok:
            surging += 1
        elif old is None:
            continue
        elif new is None:
            if not should_run(name):
                continue
            if not available(old, ds, now):
                allowed.append(name)
            elif surging < max_surge:
                candidate_nodes.append(name)
        elif not available(new, ds, now):
            surging += 1
        else:
            plan.delete.append(old)
    budget = max(0, min(max_surge - surging, len(candidate_nodes)))
    plan.create_on = allowed + candidate_nodes[:budget]
    return plan


def calculate_status(
    ds: DaemonSet,
    nodes: Sequence[node_pb2.Node],
    pods_by_node: Mapping[str, Sequence[Pod]],
    *,
    hash_value: str,
    eligibility: Callable[[node_pb2.Node], Eligibility],
    now: datetime,
) -> daemonset_pb2.DaemonSetStatus:
    """The status a sync writes (Kubernetes' updateDaemonSetStatus); live
    pods only (not terminating, not terminal)."""
    st = daemonset_pb2.DaemonSetStatus()
    st.CopyFrom(ds.status)
    desired = current = ready = avail = updated = misscheduled = 0
    for node in nodes:
        pods = sorted(
            (
                p
                for p in pods_by_node.get(node.metadata.name, ())
                if not _terminating(p) and not is_pod_terminal(p)
            ),
            key=creation_order,
        )
        if eligibility(node).should_run:
            desired += 1
            if not pods:
                continue
            current += 1
            pod = pods[0]
            if is_true(pod.status.conditions, POD_READY):
                ready += 1
                if available(pod, ds, now):
                    avail += 1
            if is_updated(pod, hash_value):
                updated += 1
        elif pods:
            misscheduled += 1
    st.desired_number_scheduled = desired
    st.current_number_scheduled = current
    st.number_ready = ready
    st.number_available = avail
    st.updated_number_scheduled = updated
    st.number_misscheduled = misscheduled
    st.number_unavailable = max(0, desired - avail)
    st.observed_generation = ds.metadata.generation
    return st
