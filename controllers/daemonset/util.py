"""Pure helpers of the DaemonSet controller (Kubernetes'
pkg/controller/daemon/util and NodeShouldRunDaemonPod).

* ``daemon_pod_template`` is the template a daemon pod is made from: the
  DaemonSet's, plus the tolerations every daemon pod gets (so it survives
  node problems a normal pod would be evicted for) and the
  ``controller-revision-hash`` label.
* ``pin_to_node`` replaces the template's required node affinity with one
  term ``matchFields metadata.name In [node]``: the controller has already
  checked the template's own affinity against the node, and the scheduler
  binds the pod (Kubernetes' ScheduleDaemonSetPods).
* ``should_run`` says whether a node should run the daemon pod and whether
  a pod already there may stay: a node that does not match the selector or
  affinity does neither; an untolerated NoSchedule taint blocks new pods
  only; an untolerated NoExecute taint blocks both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from controllers import nodeutil
from pinnace.api.apps.v1 import daemonset_pb2
from pinnace.api.core.v1 import affinity_pb2, node_pb2, pod_pb2
from pinnace.machinery.intstr import scaled_value
from pinnace.machinery.podutil import is_pod_available, parse_time
from pinnace.machinery.wellknown import (
    LABEL_CONTROLLER_REVISION_HASH,
    TAINT_EFFECT_NO_EXECUTE,
    TAINT_EFFECT_NO_SCHEDULE,
    TAINT_NODE_DISK_PRESSURE,
    TAINT_NODE_MEMORY_PRESSURE,
    TAINT_NODE_NETWORK_UNAVAILABLE,
    TAINT_NODE_NOT_READY,
    TAINT_NODE_PID_PRESSURE,
    TAINT_NODE_UNREACHABLE,
    TAINT_NODE_UNSCHEDULABLE,
)

DaemonSet = daemonset_pb2.DaemonSet

GENERATION_LABEL = "pod-template-generation"
ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"


def daemon_tolerations(spec: pod_pb2.PodSpec) -> None:
    """Add the tolerations Kubernetes gives every daemon pod (AddOrUpdateDaemonPodTolerations)."""
    tols = spec.tolerations
    for key in (TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE):
        nodeutil.add_toleration(tols, key=key, effect=TAINT_EFFECT_NO_EXECUTE)
    for key in (
        TAINT_NODE_DISK_PRESSURE,
        TAINT_NODE_MEMORY_PRESSURE,
        TAINT_NODE_PID_PRESSURE,
        TAINT_NODE_UNSCHEDULABLE,
    ):
        nodeutil.add_toleration(tols, key=key, effect=TAINT_EFFECT_NO_SCHEDULE)
    if spec.host_network:
        nodeutil.add_toleration(
            tols, key=TAINT_NODE_NETWORK_UNAVAILABLE, effect=TAINT_EFFECT_NO_SCHEDULE
        )


def daemon_pod_template(ds: DaemonSet, hash_value: str) -> pod_pb2.PodTemplateSpec:
    """The template daemon pods are created from (a copy; ds is untouched)."""
    template = pod_pb2.PodTemplateSpec()
    template.CopyFrom(ds.spec.template)
    daemon_tolerations(template.spec)
    if hash_value:
        template.metadata.labels[LABEL_CONTROLLER_REVISION_HASH] = hash_value
    template.metadata.labels[GENERATION_LABEL] = str(ds.metadata.generation)
    return template


def pin_to_node(spec: pod_pb2.PodSpec, node_name: str) -> None:
    """Require the node by name (replacing any required node affinity terms)."""
    required = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    del required.node_selector_terms[:]
    term = required.node_selector_terms.add()
    term.match_fields.append(
        affinity_pb2.NodeSelectorRequirement(key="metadata.name", operator="In", values=[node_name])
    )


def pinned_node(pod: pod_pb2.Pod) -> str:
    """The node a daemon pod is for: its nodeName, else the node its
    required affinity names (a pod not yet bound)."""
    if pod.spec.node_name:
        return pod.spec.node_name
    spec = pod.spec
    if not spec.HasField("affinity") or not spec.affinity.HasField("node_affinity"):
        return ""
    required = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    for term in required.node_selector_terms:
        for req in term.match_fields:
            if req.key == "metadata.name" and req.operator == "In" and len(req.values) == 1:
                return req.values[0]
    return ""


@dataclass(frozen=True)
class Eligibility:
    should_run: bool
    should_continue_running: bool


def should_run(ds: DaemonSet, node: node_pb2.Node) -> Eligibility:
    """Whether node should run ds's pod, and whether a pod there may stay."""
    template = daemon_pod_template(ds, "")
    if not nodeutil.pod_matches_node(template.spec, node):
        return Eligibility(False, False)
    taints = node.spec.taints
    tols = template.spec.tolerations
    if nodeutil.untolerated(taints, tols, (TAINT_EFFECT_NO_EXECUTE,)):
        return Eligibility(False, False)
    if nodeutil.untolerated(taints, tols, (TAINT_EFFECT_NO_SCHEDULE,)):
        return Eligibility(False, True)
    return Eligibility(True, True)


def pod_hash(pod: pod_pb2.Pod) -> str:
    return pod.metadata.labels.get(LABEL_CONTROLLER_REVISION_HASH, "")


def is_updated(pod: pod_pb2.Pod, hash_value: str) -> bool:
    """Whether a pod runs the current revision (Kubernetes' IsPodUpdated:
    the hash label, else the deprecated template generation label)."""
    return bool(hash_value) and pod_hash(pod) == hash_value


def creation_order(pod: pod_pb2.Pod) -> tuple[datetime | str, str]:
    """Oldest first, ties by name."""
    created = parse_time(pod.metadata.creation_timestamp)
    return (created.isoformat() if created is not None else "", pod.metadata.name)


def is_rolling_update(ds: DaemonSet) -> bool:
    return (ds.spec.update_strategy.type or ROLLING_UPDATE) == ROLLING_UPDATE


def surge_and_unavailable(ds: DaemonSet, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as numbers of nodes for ``desired`` nodes.
    Percentages round up; both 0 (only possible through a percentage of a
    small number) means maxUnavailable 1, so a rollout can proceed
    (Kubernetes' updatedDesiredNodeCounts)."""
    ru = ds.spec.update_strategy.rolling_update
    surge = 0
    unavailable = 1
    if ru.HasField("max_surge") and ru.max_surge.WhichOneof("value"):
        surge = scaled_value(ru.max_surge, desired, round_up=True)
    if ru.HasField("max_unavailable") and ru.max_unavailable.WhichOneof("value"):
        unavailable = scaled_value(ru.max_unavailable, desired, round_up=True)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def available(pod: pod_pb2.Pod, ds: DaemonSet, now: datetime) -> bool:
    return is_pod_available(pod, ds.spec.min_ready_seconds, now)


def is_daemon_set_pod(pod: Any) -> bool:
    """Whether a pod's controller is a DaemonSet."""
    for ref in pod.metadata.owner_references:
        if ref.HasField("controller") and ref.controller and ref.kind == "DaemonSet":
            return True
    return False
