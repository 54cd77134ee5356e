"""Rules shared by the replicated workload kinds (RC, ReplicaSet, Deployment,
StatefulSet, DaemonSet): the pod template rules of Kubernetes'
ValidatePodTemplateSpecForReplicaSet / ForRC and the status counters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from google.protobuf.message import Message

from pinnace.api.apps.v1 import daemonset_pb2, deployment_pb2, replicaset_pb2
from pinnace.api.core.v1 import pod_pb2, replicationcontroller_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    not_supported,
    validate_nonnegative,
)

from .common import immutable_opt, opt, selector_mismatch
from .podspec import validate_pod_template

STATUS = FieldPath.root("status")
GREATER_THAN_REPLICAS = "cannot be greater than status.replicas"


def validate_replicated_template(
    template: pod_pb2.PodTemplateSpec,
    path: FieldPath,
    *,
    kind: str,
    forbid_deadline: bool,
    extra_volumes: Iterable[str] = (),
) -> list[FieldError]:
    """The template of a kind whose pods run forever: a valid template,
    restartPolicy Always, no activeDeadlineSeconds. `forbid_deadline` picks
    Kubernetes' wording for the latter (Forbidden for RC and StatefulSet,
    Invalid for ReplicaSet, Deployment and DaemonSet)."""
    errs = validate_pod_template(template, path, extra_volumes=extra_volumes)
    spec = template.spec
    if spec.restart_policy != "Always":
        errs.append(
            not_supported(path.child("spec", "restartPolicy"), spec.restart_policy, ["Always"])
        )
    if spec.HasField("active_deadline_seconds"):
        p = path.child("spec", "activeDeadlineSeconds")
        msg = f"activeDeadlineSeconds in {kind} is not Supported"
        if forbid_deadline:
            errs.append(forbidden(p, msg))
        else:
            errs.append(invalid(p, spec.active_deadline_seconds, msg))
    return errs


def validate_counters(
    status: Message, names: Iterable[tuple[str, str]], path: FieldPath = STATUS
) -> list[FieldError]:
    """Every named counter (proto name, JSON name) is >= 0 (optional ones when set)."""
    errs: list[FieldError] = []
    for field, json_name in names:
        value = opt(status, field) if _is_optional(status, field) else getattr(status, field)
        if value is not None:
            errs += validate_nonnegative(value, path.child(json_name))
    return errs


def _is_optional(msg: Message, field: str) -> bool:
    fd = msg.DESCRIPTOR.fields_by_name[field]
    return fd.has_presence


ReplicaSetLikeStatus = (
    replicaset_pb2.ReplicaSetStatus | replicationcontroller_pb2.ReplicationControllerStatus
)


class ReplicaCounts(Protocol):
    """A status with replica counters (ReplicaSet, RC, Deployment, StatefulSet)."""

    @property
    def replicas(self) -> int: ...

    @property
    def ready_replicas(self) -> int: ...

    @property
    def available_replicas(self) -> int: ...


def validate_replica_status(status: ReplicaSetLikeStatus) -> list[FieldError]:
    """Kubernetes' ValidateReplicaSetStatus / ValidateReplicationControllerStatus."""
    names = [
        ("replicas", "replicas"),
        ("fully_labeled_replicas", "fullyLabeledReplicas"),
        ("ready_replicas", "readyReplicas"),
        ("available_replicas", "availableReplicas"),
        ("observed_generation", "observedGeneration"),
    ]
    if "terminating_replicas" in status.DESCRIPTOR.fields_by_name:
        names.append(("terminating_replicas", "terminatingReplicas"))
    errs = validate_counters(status, names)
    errs += counts_within_replicas(
        status,
        [
            ("fully_labeled_replicas", "fullyLabeledReplicas"),
            ("ready_replicas", "readyReplicas"),
            ("available_replicas", "availableReplicas"),
        ],
        ready_detail="cannot be greater than readyReplicas",
    )
    return errs


def counts_within_replicas(
    status: ReplicaCounts, fields: list[tuple[str, str]], *, ready_detail: str
) -> list[FieldError]:
    """Each of ``fields`` (proto name, JSON name) is at most status.replicas,
    and availableReplicas at most readyReplicas (worded ``ready_detail``)."""
    errs: list[FieldError] = []
    for field, json_name in fields:
        value = getattr(status, field)
        if value > status.replicas:
            errs.append(invalid(STATUS.child(json_name), value, GREATER_THAN_REPLICAS))
    if status.available_replicas > status.ready_replicas:
        errs.append(
            invalid(
                STATUS.child("availableReplicas"),
                status.available_replicas,
                ready_detail,
            )
        )
    return errs


def collision_count_decremented(new_status: Message, old_status: Message) -> list[FieldError]:
    """status.collisionCount may not go down."""
    new, old = opt(new_status, "collision_count"), opt(old_status, "collision_count")
    if old is not None and (new is None or new < old):
        return [invalid(STATUS.child("collisionCount"), new or 0, "cannot be decremented")]
    return []


__all__ = [
    "GREATER_THAN_REPLICAS",
    "STATUS",
    "ReplicaCounts",
    "ReplicaSetLikeStatus",
    "collision_count_decremented",
    "counts_within_replicas",
    "validate_counters",
    "validate_replica_status",
    "validate_replicated_template",
]


SPEC = FieldPath.root("spec")
DEFAULT_REVISION_HISTORY_LIMIT = 10


class _WithSpec(Protocol):
    @property
    def spec(self) -> Message: ...


def selector_immutable(new: _WithSpec, old: _WithSpec) -> list[FieldError]:
    return immutable_opt(new.spec, old.spec, "selector", SPEC.child("selector"))


def template_checks(
    spec: deployment_pb2.DeploymentSpec
    | daemonset_pb2.DaemonSetSpec
    | replicaset_pb2.ReplicaSetSpec,
    kind: str,
    *,
    forbid_deadline: bool,
    extra_volumes: Iterable[str] = (),
) -> list[FieldError]:
    """Selector-vs-labels and the replicated-template rules, skipped (as in
    Kubernetes) for the mismatch when the selector is missing or empty."""
    tpath = SPEC.child("template")
    errs: list[FieldError] = []
    if spec.HasField("selector"):
        errs += selector_mismatch(spec.selector, spec.template.metadata.labels, tpath)
    errs += validate_replicated_template(
        spec.template,
        tpath,
        kind=kind,
        forbid_deadline=forbid_deadline,
        extra_volumes=extra_volumes,
    )
    return errs
