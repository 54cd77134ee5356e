"""The Pod strategy: defaults, DefaultTolerationSeconds admission, create and
update validation, the status rules and graceful deletion
(pkg/registry/core/pod/strategy.go, core/validation ValidatePod*)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from apiserver.registry.config import RegistryConfig
from apiserver.registry.strategy import Strategy
from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_dns1123_subdomain,
    is_qualified_name,
    not_supported,
    required,
)
from pinnace.machinery.wellknown import TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE

from . import podspec
from .common import (
    changed_fields,
    inclusive_range,
    opt,
    same,
)

SPEC = FieldPath.root("spec")
STATUS = FieldPath.root("status")
DEFAULT_TERMINATION_GRACE_SECONDS = podspec.DEFAULT_TERMINATION_GRACE_SECONDS
POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
TERMINAL_PHASES = ("Succeeded", "Failed")
POD_UPDATABLE_FIELDS = ",".join(
    (
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    )
)


def add_default_tolerations(spec: pod_pb2.PodSpec, config: RegistryConfig) -> None:
    """Kubernetes' DefaultTolerationSeconds admission: a pod that does not
    already tolerate the not-ready (unreachable) NoExecute taint (a
    toleration with that key or no key, and effect NoExecute or none) gets
    ``{key, operator: Exists, effect: NoExecute, tolerationSeconds}``, so it
    is evicted that long after its node stops being ready. The seconds come
    from ``config`` (the apiserver's flags)."""
    for key, seconds in (
        (TAINT_NODE_NOT_READY, config.not_ready_toleration_seconds),
        (TAINT_NODE_UNREACHABLE, config.unreachable_toleration_seconds),
    ):
        if any(t.key in (key, "") and t.effect in ("NoExecute", "") for t in spec.tolerations):
            continue
        spec.tolerations.add(
            key=key, operator="Exists", effect="NoExecute", toleration_seconds=seconds
        )


class PodStrategy(Strategy[pod_pb2.Pod]):
    field_labels = (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    )

    def field_values(self, obj: pod_pb2.Pod) -> dict[str, str]:
        spec, status = obj.spec, obj.status
        return {
            "spec.nodeName": spec.node_name,
            "spec.restartPolicy": spec.restart_policy,
            "spec.schedulerName": spec.scheduler_name,
            "spec.serviceAccountName": spec.service_account_name,
            "spec.hostNetwork": "true" if spec.host_network else "false",
            "status.phase": status.phase,
            "status.podIP": status.pod_ip,
            "status.nominatedNodeName": status.nominated_node_name,
        }

    def prepare_for_create(self, obj: pod_pb2.Pod) -> None:
        super().prepare_for_create(obj)
        obj.status.phase = "Pending"
        obj.status.qos_class = ""
        add_default_tolerations(obj.spec, self.config)

    def grace_period(self, obj: pod_pb2.Pod, options: meta_pb2.DeleteOptions) -> int:
        """Kubernetes' pod graceful deletion: the option, else the pod's
        terminationGracePeriodSeconds; 0 for pods never scheduled or already
        finished."""
        spec, status = obj.spec, obj.status
        if not spec.node_name or status.phase in ("Succeeded", "Failed"):
            return 0
        if options.HasField("grace_period_seconds"):
            return int(options.grace_period_seconds)
        if spec.HasField("termination_grace_period_seconds"):
            return int(spec.termination_grace_period_seconds)
        return DEFAULT_TERMINATION_GRACE_SECONDS

    def default(self, obj: pod_pb2.Pod) -> None:
        podspec.default_pod(obj)

    def validate(self, obj: pod_pb2.Pod) -> list[FieldError]:
        """Kubernetes' ValidatePodCreate: a valid spec, no ephemeral containers."""
        spec = obj.spec
        errs = podspec.validate_pod_spec(spec, SPEC)
        if spec.ephemeral_containers:
            errs.append(forbidden(SPEC.child("ephemeralContainers"), "cannot be set on create"))
        return errs

    def validate_update(self, new: pod_pb2.Pod, old: pod_pb2.Pod) -> list[FieldError]:
        """Kubernetes' ValidatePodUpdate: only images, activeDeadlineSeconds
        (set or lowered), added tolerations and a negative grace period
        raised to 1 may change."""
        return validate_pod_spec_update(new.spec, old.spec)

    def validate_status_update(self, new: pod_pb2.Pod, old: pod_pb2.Pod) -> list[FieldError]:
        return validate_pod_status_update(new, old)


def validate_pod_spec_update(new: pod_pb2.PodSpec, old: pod_pb2.PodSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    for field, json_name in (("containers", "containers"), ("init_containers", "initContainers")):
        new_ctrs, old_ctrs = getattr(new, field), getattr(old, field)
        path = SPEC.child(json_name)
        if len(new_ctrs) != len(old_ctrs):
            return [forbidden(path, "pod updates may not add or remove containers")]
        for i, ctr in enumerate(new_ctrs):
            if not ctr.image:
                errs.append(required(path.index(i).child("image"), ""))
            elif ctr.image.strip() != ctr.image:
                errs.append(
                    invalid(
                        path.index(i).child("image"),
                        ctr.image,
                        "must not have leading or trailing whitespace",
                    )
                )
    deadline_path = SPEC.child("activeDeadlineSeconds")
    new_ads, old_ads = opt(new, "active_deadline_seconds"), opt(old, "active_deadline_seconds")
    if new_ads is not None:
        if not 0 <= new_ads <= 2**31 - 1:
            return [*errs, invalid(deadline_path, new_ads, inclusive_range(0, 2**31 - 1))]
        if old_ads is not None and old_ads < new_ads:
            return [
                *errs,
                invalid(deadline_path, new_ads, "must be less than or equal to previous value"),
            ]
    elif old_ads is not None:
        errs.append(
            invalid(deadline_path, None, "must not update from a positive integer to nil value")
        )
    errs += _validate_only_added_tolerations(new, old)

    munged = pod_pb2.PodSpec()
    munged.CopyFrom(new)
    for field in ("containers", "init_containers"):
        for ctr, old_ctr in zip(getattr(munged, field), getattr(old, field), strict=True):
            ctr.image = old_ctr.image
    munged.ClearField("active_deadline_seconds")
    if old_ads is not None:
        munged.active_deadline_seconds = old_ads
    del munged.tolerations[:]
    munged.tolerations.extend(old.tolerations)
    del munged.scheduling_gates[:]
    munged.scheduling_gates.extend(old.scheduling_gates)
    old_grace = opt(old, "termination_grace_period_seconds")
    if (
        old_grace is not None
        and old_grace < 0
        and opt(munged, "termination_grace_period_seconds") == 1
    ):
        munged.termination_grace_period_seconds = old_grace
    if not same(munged, old):
        changed = changed_fields(munged, old)
        errs.append(
            forbidden(
                SPEC,
                f"pod updates may not change fields other than {POD_UPDATABLE_FIELDS}\n"
                + "changed: "
                + ", ".join(f"spec.{name}" for name in changed),
            )
        )
    return errs


def _validate_only_added_tolerations(
    new: pod_pb2.PodSpec, old: pod_pb2.PodSpec
) -> list[FieldError]:
    path = SPEC.child("tolerations")
    for old_tol in old.tolerations:
        found = False
        for new_tol in new.tolerations:
            probe = type(old_tol)()
            probe.CopyFrom(old_tol)
            probe.ClearField("toleration_seconds")
            if new_tol.HasField("toleration_seconds"):
                probe.toleration_seconds = new_tol.toleration_seconds
            if same(probe, new_tol):
                found = True
                break
        if not found:
            return [
                forbidden(
                    path, "existing toleration can not be modified except its tolerationSeconds"
                )
            ]
    return podspec.validate_tolerations(new.tolerations, path)


def validate_pod_status_update(new: pod_pb2.Pod, old: pod_pb2.Pod) -> list[FieldError]:
    """Pod status writes: a known phase; a terminal phase is final; with
    restartPolicy Never a terminated container stays terminated; condition
    types and statuses are valid; nominatedNodeName is a node name."""
    errs: list[FieldError] = []
    status, old_status = new.status, old.status
    phase_path = STATUS.child("phase")
    if not status.phase:
        errs.append(required(phase_path, ""))
    elif status.phase not in POD_PHASES:
        errs.append(not_supported(phase_path, status.phase, POD_PHASES))
    elif old_status.phase in TERMINAL_PHASES and status.phase != old_status.phase:
        errs.append(
            forbidden(
                phase_path,
                f'may not be changed from terminal phase "{old_status.phase}" to "{status.phase}"',
            )
        )
    for i, cond in enumerate(status.conditions):
        p = STATUS.child("conditions").index(i)
        errs += [invalid(p.child("type"), cond.type, m) for m in is_qualified_name(cond.type)]
        if cond.status not in ("True", "False", "Unknown"):
            errs.append(not_supported(p.child("status"), cond.status, ["True", "False", "Unknown"]))
    nominated = status.nominated_node_name
    if nominated and nominated != old_status.nominated_node_name:
        errs += [
            invalid(STATUS.child("nominatedNodeName"), nominated, m)
            for m in is_dns1123_subdomain(nominated)
        ]
    for field, json_name in (
        ("container_statuses", "containerStatuses"),
        ("init_container_statuses", "initContainerStatuses"),
    ):
        errs += _container_state_transitions(
            getattr(status, field),
            getattr(old_status, field),
            STATUS.child(json_name),
            old.spec.restart_policy,
        )
    for i, ip in enumerate(status.pod_ips):
        try:
            ipaddress.ip_address(ip.ip)
        except ValueError:
            errs.append(
                invalid(
                    STATUS.child("podIPs").index(i).child("ip"), ip.ip, "must be a valid IP address"
                )
            )
    return errs


def _container_state_transitions(
    new_statuses: Sequence[container_pb2.ContainerStatus],
    old_statuses: Sequence[container_pb2.ContainerStatus],
    path: FieldPath,
    restart_policy: str,
) -> list[FieldError]:
    if restart_policy != "Never":
        return []
    errs: list[FieldError] = []
    for i, old_status in enumerate(old_statuses):
        if not old_status.state.HasField("terminated"):
            continue
        for new_status in new_statuses:
            if new_status.name == old_status.name and not new_status.state.HasField("terminated"):
                errs.append(
                    forbidden(
                        path.index(i).child("state"),
                        "may not be transitioned to non-terminated state",
                    )
                )
    return errs
