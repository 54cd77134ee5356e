"""Strategies of core/v1 kinds: Pod, Node, Namespace, Event, ReplicationController,
PersistentVolumeClaim, PersistentVolume."""

from __future__ import annotations

import ipaddress
import posixpath

from google.protobuf.message import Message

from apiserver.registry.config import RegistryConfig
from apiserver.registry.strategy import Strategy
from pinnace.api.core.v1 import pod_pb2, volume_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    not_supported,
    required,
    too_long,
    validate_label_selector,
    validate_labels,
    validate_nonnegative,
)
from pinnace.machinery.wellknown import TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE

from . import podspec
from .common import (
    Shown,
    immutable_opt,
    inclusive_range,
    opt,
    quantity,
    same,
    selector_mismatch,
    validate_quantity,
)
from .replicas import (
    validate_replica_status_update,
)

DEFAULT_TERMINATION_GRACE_SECONDS = podspec.DEFAULT_TERMINATION_GRACE_SECONDS
SPEC = FieldPath.root("spec")
STATUS = FieldPath.root("status")
POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
TERMINAL_PHASES = ("Succeeded", "Failed")
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_MODES = ("Block", "Filesystem")
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")
POD_UPDATABLE_FIELDS = ",".join(
    (
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    )
)


# ---- DefaultTolerationSeconds admission ------------------------------------------


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


class PodStrategy(Strategy):
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

    def field_values(self, obj: Message) -> dict[str, str]:
        spec, status = obj.spec, obj.status  # type: ignore[attr-defined]
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

    def prepare_for_create(self, obj: Message) -> None:
        super().prepare_for_create(obj)
        obj.status.phase = "Pending"  # type: ignore[attr-defined]
        obj.status.qos_class = ""  # type: ignore[attr-defined]
        add_default_tolerations(obj.spec, self.config)  # type: ignore[attr-defined]

    def grace_period(self, obj: Message, options: Message) -> int:
        """Kubernetes' pod graceful deletion: the option, else the pod's
        terminationGracePeriodSeconds; 0 for pods never scheduled or already
        finished."""
        spec, status = obj.spec, obj.status  # type: ignore[attr-defined]
        if not spec.node_name or status.phase in ("Succeeded", "Failed"):
            return 0
        if options.HasField("grace_period_seconds"):  # type: ignore[attr-defined]
            return int(options.grace_period_seconds)  # type: ignore[attr-defined]
        if spec.HasField("termination_grace_period_seconds"):
            return int(spec.termination_grace_period_seconds)
        return DEFAULT_TERMINATION_GRACE_SECONDS

    def default(self, obj: Message) -> None:
        podspec.default_pod(obj)  # type: ignore[arg-type]

    def validate(self, obj: Message) -> list[FieldError]:
        """Kubernetes' ValidatePodCreate: a valid spec, no ephemeral containers."""
        spec = obj.spec  # type: ignore[attr-defined]
        errs = podspec.validate_pod_spec(spec, SPEC)
        if spec.ephemeral_containers:
            errs.append(forbidden(SPEC.child("ephemeralContainers"), "cannot be set on create"))
        return errs

    def validate_update(self, new: Message, old: Message) -> list[FieldError]:
        """Kubernetes' ValidatePodUpdate: only images, activeDeadlineSeconds
        (set or lowered), added tolerations and a negative grace period
        raised to 1 may change."""
        return validate_pod_spec_update(new.spec, old.spec)  # type: ignore[attr-defined]

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        return validate_pod_status_update(new, old)  # type: ignore[arg-type]


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
        changed = _changed_fields(munged, old)
        errs.append(
            forbidden(
                SPEC,
                f"pod updates may not change fields other than {POD_UPDATABLE_FIELDS}\n"
                + "changed: "
                + ", ".join(f"spec.{name}" for name in changed),
            )
        )
    return errs


def _changed_fields(new: Message, old: Message) -> list[str]:
    """The JSON names of the top-level fields that differ."""
    names = []
    for fd in new.DESCRIPTOR.fields:
        a, b = getattr(new, fd.name), getattr(old, fd.name)
        if fd.has_presence and new.HasField(fd.name) != old.HasField(fd.name):
            names.append(fd.json_name)
        elif not same(a, b):
            names.append(fd.json_name)
    return names


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
    new_statuses, old_statuses, path: FieldPath, restart_policy: str
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


# ------------------------------------------------------------------------------- Node


class NodeStrategy(Strategy):
    field_labels = ("spec.unschedulable",)

    def field_values(self, obj: Message) -> dict[str, str]:
        return {"spec.unschedulable": "true" if obj.spec.unschedulable else "false"}  # type: ignore[attr-defined]

    def prepare_for_create(self, obj: Message) -> None:
        """Unlike most kinds, a Node keeps the status it is created with: the
        kubelet registers its node with capacity and conditions (Kubernetes'
        node strategy does not clear it)."""

    def default(self, obj: Message) -> None:
        """SetDefaults_NodeStatus: allocatable defaults to capacity."""
        status = obj.status  # type: ignore[attr-defined]
        if not status.allocatable and status.capacity:
            status.allocatable.update(status.capacity)

    def validate(self, obj: Message) -> list[FieldError]:
        spec = obj.spec  # type: ignore[attr-defined]
        errs = _validate_taints(spec.taints, SPEC.child("taints"))
        if spec.pod_cidr:
            errs += _validate_cidr(spec.pod_cidr, SPEC.child("podCIDR"))
        cidrs_path = SPEC.child("podCIDRs")
        for i, cidr in enumerate(spec.pod_cidrs):
            errs += _validate_cidr(cidr, cidrs_path.index(i))
        if len(spec.pod_cidrs) > 1:
            families = set()
            for cidr in spec.pod_cidrs:
                try:
                    families.add(ipaddress.ip_network(cidr, strict=False).version)
                except ValueError:
                    pass
            if len(spec.pod_cidrs) > 2 or len(families) != 2:
                errs.append(
                    invalid(
                        cidrs_path,
                        Shown(list(spec.pod_cidrs)),
                        "may specify no more than one CIDR for each IP family",
                    )
                )
        errs += _validate_resource_list(obj.status.capacity, STATUS.child("capacity"))  # type: ignore[attr-defined]
        errs += _validate_resource_list(obj.status.allocatable, STATUS.child("allocatable"))  # type: ignore[attr-defined]
        return errs

    def validate_update(self, new: Message, old: Message) -> list[FieldError]:
        errs = self.validate(new)
        ns, os_ = new.spec, old.spec  # type: ignore[attr-defined]
        if os_.pod_cidrs and list(ns.pod_cidrs) != list(os_.pod_cidrs):
            errs.append(
                forbidden(
                    SPEC.child("podCIDRs"),
                    'node updates may not change podCIDR except from "" to valid',
                )
            )
        if os_.pod_cidr and ns.pod_cidr != os_.pod_cidr:
            errs.append(
                forbidden(
                    SPEC.child("podCIDR"),
                    'node updates may not change podCIDR except from "" to valid',
                )
            )
        if os_.provider_id and ns.provider_id != os_.provider_id:
            errs.append(
                forbidden(
                    SPEC.child("providerID"),
                    'node updates may not change providerID except from "" to valid',
                )
            )
        return errs

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        return self.validate(new)


def _validate_cidr(value: str, path: FieldPath) -> list[FieldError]:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return [
            invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
        ]
    if "/" not in value:
        return [
            invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
        ]
    return []


def _validate_resource_list(resources, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for name, text in sorted(resources.items()):
        p = path.key(name)
        errs += [invalid(p, name, m) for m in is_qualified_name(name)]
        errs += validate_quantity(text, p)
    return errs


def _validate_taints(taints, path: FieldPath) -> list[FieldError]:
    """Kubernetes' validateNodeTaints: valid key/value, a known effect, unique
    by key and effect."""
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(taints):
        p = path.index(i)
        errs += [invalid(p.child("key"), taint.key, m) for m in is_qualified_name(taint.key)]
        msgs = is_valid_label_value(taint.value)
        if msgs:
            errs.append(invalid(p.child("value"), taint.value, ";".join(msgs)))
        if not taint.effect:
            errs.append(required(p.child("effect"), ""))
        elif taint.effect not in podspec.TAINT_EFFECTS:
            errs.append(not_supported(p.child("effect"), taint.effect, podspec.TAINT_EFFECTS))
        key = (taint.key, taint.effect)
        if key in seen:
            err = duplicate(p, f"{taint.key}:{taint.effect}")
            errs.append(
                type(err)(
                    err.type, err.field, err.value, "taints must be unique by key and effect pair"
                )
            )
            continue
        seen.add(key)
    return errs


# -------------------------------------------------------------------------- Namespace


class NamespaceStrategy(Strategy):
    field_labels = ("status.phase",)

    def validate_name(self, name: str) -> list[str]:
        return is_dns1123_label(name)

    def field_values(self, obj: Message) -> dict[str, str]:
        return {"status.phase": obj.status.phase}  # type: ignore[attr-defined]

    def default(self, obj: Message) -> None:
        if not obj.status.phase:  # type: ignore[attr-defined]
            obj.status.phase = "Active"  # type: ignore[attr-defined]

    def prepare_for_create(self, obj: Message) -> None:
        super().prepare_for_create(obj)
        obj.status.phase = "Active"  # type: ignore[attr-defined]
        spec = obj.spec  # type: ignore[attr-defined]
        if "kubernetes" not in spec.finalizers:
            spec.finalizers.append("kubernetes")

    def deletion_blocked(self, obj: Message) -> bool:
        return bool(obj.spec.finalizers)  # type: ignore[attr-defined]

    def prepare_for_delete(self, obj: Message) -> None:
        obj.status.phase = "Terminating"  # type: ignore[attr-defined]

    def validate(self, obj: Message) -> list[FieldError]:
        """spec.finalizers: qualified names; an unprefixed one must be standard."""
        errs: list[FieldError] = []
        path = SPEC.child("finalizers")
        for i, name in enumerate(obj.spec.finalizers):  # type: ignore[attr-defined]
            p = path.index(i)
            msgs = is_qualified_name(name)
            errs += [invalid(p, name, m) for m in msgs]
            if not msgs and "/" not in name and name not in STANDARD_FINALIZERS:
                errs.append(
                    invalid(
                        p,
                        name,
                        "name is neither a standard finalizer name nor is it fully qualified",
                    )
                )
        return errs

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        phase = new.status.phase  # type: ignore[attr-defined]
        if phase and phase not in ("Active", "Terminating"):
            return [not_supported(STATUS.child("phase"), phase, ["Active", "Terminating"])]
        return []


# ------------------------------------------------------------------------------ Event


class EventStrategy(Strategy):
    field_labels = (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    )

    def field_values(self, obj: Message) -> dict[str, str]:
        io = obj.involved_object  # type: ignore[attr-defined]
        return {
            "involvedObject.kind": io.kind,
            "involvedObject.namespace": io.namespace,
            "involvedObject.name": io.name,
            "involvedObject.uid": io.uid,
            "involvedObject.apiVersion": io.api_version,
            "involvedObject.resourceVersion": io.resource_version,
            "involvedObject.fieldPath": io.field_path,
            "reason": obj.reason,  # type: ignore[attr-defined]
            "reportingComponent": obj.reporting_component,  # type: ignore[attr-defined]
            "source": obj.source.component,  # type: ignore[attr-defined]
            "type": obj.type,  # type: ignore[attr-defined]
        }

    def validate(self, obj: Message) -> list[FieldError]:
        """Kubernetes' legacy (core/v1) event validation, plus: the involved
        object is required and type is Normal or Warning."""
        errs: list[FieldError] = []
        ev = obj
        io = ev.involved_object  # type: ignore[attr-defined]
        ns = ev.metadata.namespace  # type: ignore[attr-defined]
        io_ns_path = FieldPath.root("involvedObject", "namespace")
        if not ev.HasField("involved_object") or not (io.kind or io.name):
            errs.append(required(FieldPath.root("involvedObject"), ""))
        # Kubernetes also rejects an involved object without a namespace in a
        # namespace other than "default"; Pinnace accepts it (events about
        # cluster-scoped objects may live in any namespace).
        if io.namespace and ns != io.namespace:
            errs.append(invalid(io_ns_path, io.namespace, "does not match event.namespace"))
        if ev.event_time:  # type: ignore[attr-defined]
            rc = ev.reporting_component  # type: ignore[attr-defined]
            if not rc:
                errs.append(required(FieldPath.root("reportingComponent"), ""))
            else:
                errs += [
                    invalid(FieldPath.root("reportingComponent"), rc, m)
                    for m in is_qualified_name(rc)
                ]
            for field, json_name, limit in (
                ("reporting_instance", "reportingInstance", 128),
                ("action", "action", 128),
                ("reason", "reason", 128),
            ):
                value = getattr(ev, field)
                if not value:
                    errs.append(required(FieldPath.root(json_name), ""))
                elif len(value) > limit:
                    errs.append(too_long(FieldPath.root(json_name), "", limit))
            if len(ev.message) > 1024:  # type: ignore[attr-defined]
                errs.append(too_long(FieldPath.root("message"), "", 1024))
        if ev.type and ev.type not in ("Normal", "Warning"):  # type: ignore[attr-defined]
            errs.append(not_supported(FieldPath.root("type"), ev.type, ["Normal", "Warning"]))  # type: ignore[attr-defined]
        if ns:
            errs += [invalid(FieldPath.root("namespace"), ns, m) for m in is_dns1123_subdomain(ns)]
        return errs


# -------------------------------------------------------------- ReplicationController


class ReplicationControllerStrategy(Strategy):
    # Kubernetes' v1 RC orphans its pods when a delete names no policy.
    default_delete_policy = "Orphan"

    def default(self, obj: Message) -> None:
        """SetDefaults_ReplicationController."""
        spec = obj.spec  # type: ignore[attr-defined]
        meta = obj.metadata  # type: ignore[attr-defined]
        if spec.HasField("template"):
            labels = spec.template.metadata.labels
            if labels:
                if not spec.selector:
                    spec.selector.update(labels)
                if not meta.labels:
                    meta.labels.update(labels)
            podspec.default_pod_template(spec.template)
        if not spec.HasField("replicas"):
            spec.replicas = 1

    def validate(self, obj: Message) -> list[FieldError]:
        """Kubernetes' ValidateReplicationControllerSpec."""
        from .replicas import validate_replicated_template

        spec = obj.spec  # type: ignore[attr-defined]
        errs = validate_nonnegative(spec.min_ready_seconds, SPEC.child("minReadySeconds"))
        sel_path = SPEC.child("selector")
        if not spec.selector:
            errs.append(required(sel_path, ""))
        errs += validate_labels(spec.selector, sel_path)
        errs += validate_nonnegative(spec.replicas, SPEC.child("replicas"))
        tpath = SPEC.child("template")
        if not spec.HasField("template"):
            errs.append(required(tpath, ""))
        else:
            errs += selector_mismatch(spec.selector, spec.template.metadata.labels, tpath)
            errs += validate_replicated_template(
                spec.template, tpath, kind="ReplicationController", forbid_deadline=True
            )
        return errs

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        return validate_replica_status_update(new, old)


# ----------------------------------------------------------------------------- PVCs


def validate_pvc_spec(
    spec: volume_pb2.PersistentVolumeClaimSpec, path: FieldPath
) -> list[FieldError]:
    """Kubernetes' ValidatePersistentVolumeClaimSpec."""
    errs: list[FieldError] = []
    modes_path = path.child("accessModes")
    if not spec.access_modes:
        errs.append(required(modes_path, "at least 1 access mode is required"))
    errs += _validate_access_modes(spec.access_modes, modes_path)
    if spec.HasField("selector"):
        errs += validate_label_selector(spec.selector, path.child("selector"))
    storage_path = path.child("resources").key("storage")
    if "storage" not in spec.resources.requests:
        errs.append(required(storage_path, ""))
    else:
        errs += validate_quantity(spec.resources.requests["storage"], storage_path, positive=True)
    class_name = opt(spec, "storage_class_name")
    if class_name:
        errs += [
            invalid(path.child("storageClassName"), class_name, m)
            for m in is_dns1123_subdomain(class_name)
        ]
    mode = opt(spec, "volume_mode")
    if mode is not None and mode not in VOLUME_MODES:
        errs.append(not_supported(path.child("volumeMode"), mode, VOLUME_MODES))
    return errs


def _validate_access_modes(modes, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    rwop = other = False
    for mode in modes:
        if mode not in ACCESS_MODES:
            errs.append(not_supported(path, mode, ACCESS_MODES))
        elif mode == "ReadWriteOncePod":
            rwop = True
        else:
            other = True
    if rwop and other:
        errs.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs


def default_pvc(pvc: volume_pb2.PersistentVolumeClaim) -> None:
    """SetDefaults_PersistentVolumeClaim(Spec): volumeMode Filesystem, phase Pending."""
    if not pvc.spec.HasField("volume_mode"):
        pvc.spec.volume_mode = "Filesystem"
    if not pvc.status.phase:
        pvc.status.phase = "Pending"


class PersistentVolumeClaimStrategy(Strategy):
    def default(self, obj: Message) -> None:
        default_pvc(obj)  # type: ignore[arg-type]

    def validate(self, obj: Message) -> list[FieldError]:
        return validate_pvc_spec(obj.spec, SPEC)  # type: ignore[attr-defined]

    def validate_update(self, new: Message, old: Message) -> list[FieldError]:
        """Kubernetes' ValidatePersistentVolumeClaimUpdate: the spec is
        immutable, except volumeName once and, for a bound claim,
        resources.requests.storage (never below the previous value)."""
        errs = self.validate(new)
        ns, os_ = new.spec, old.spec  # type: ignore[attr-defined]
        new_clone, old_clone = type(ns)(), type(os_)()
        new_clone.CopyFrom(ns)
        old_clone.CopyFrom(os_)
        if not os_.volume_name:
            old_clone.volume_name = ns.volume_name
        if new.status.phase == "Bound" and "storage" in os_.resources.requests:  # type: ignore[attr-defined]
            new_clone.resources.requests["storage"] = os_.resources.requests["storage"]
        if not same(new_clone, old_clone):
            changed = _changed_fields(new_clone, old_clone)
            errs.append(
                forbidden(
                    SPEC,
                    "spec is immutable after creation except resources.requests and "
                    "volumeAttributesClassName for bound claims\nchanged: "
                    + ", ".join(f"spec.{c}" for c in changed),
                )
            )
        new_size = quantity(ns.resources.requests.get("storage", ""))
        old_size = quantity(os_.resources.requests.get("storage", ""))
        if new_size is not None and old_size is not None and new_size < old_size:
            errs.append(
                forbidden(
                    SPEC.child("resources", "requests", "storage"),
                    "field can not be less than previous value",
                )
            )
        errs += immutable_opt(ns, os_, "volume_mode", FieldPath.root("volumeMode"))
        return errs

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        status = new.status  # type: ignore[attr-defined]
        errs: list[FieldError] = []
        if status.phase and status.phase not in ("Pending", "Bound", "Lost"):
            errs.append(
                not_supported(STATUS.child("phase"), status.phase, ["Pending", "Bound", "Lost"])
            )
        errs += _validate_access_modes(status.access_modes, STATUS.child("accessModes"))
        errs += _validate_resource_list(status.capacity, STATUS.child("capacity"))
        return errs


# ------------------------------------------------------------------------------ PVs

_PV_SOURCES = (("host_path", "hostPath"), ("nfs", "nfs"), ("local", "local"), ("csi", "csi"))


class PersistentVolumeStrategy(Strategy):
    def default(self, obj: Message) -> None:
        """SetDefaults_PersistentVolume: reclaim Retain, volumeMode
        Filesystem, phase Pending, hostPath type ""."""
        spec, status = obj.spec, obj.status  # type: ignore[attr-defined]
        if not spec.persistent_volume_reclaim_policy:
            spec.persistent_volume_reclaim_policy = "Retain"
        if not spec.HasField("volume_mode"):
            spec.volume_mode = "Filesystem"
        if not status.phase:
            status.phase = "Pending"
        if spec.HasField("host_path") and not spec.host_path.HasField("type"):
            spec.host_path.type = ""

    def validate(self, obj: Message) -> list[FieldError]:
        """Kubernetes' ValidatePersistentVolumeSpec."""
        spec = obj.spec  # type: ignore[attr-defined]
        errs: list[FieldError] = []
        modes_path = SPEC.child("accessModes")
        if not spec.access_modes:
            errs.append(required(modes_path, ""))
        cap_path = SPEC.child("capacity")
        if not spec.capacity:
            errs.append(required(cap_path, ""))
        if "storage" not in spec.capacity or len(spec.capacity) > 1:
            errs.append(not_supported(cap_path, Shown(spec.capacity), ["storage"]))
        for name, text in sorted(spec.capacity.items()):
            errs += validate_quantity(text, cap_path.key(name), positive=True)
        errs += _validate_access_modes(spec.access_modes, modes_path)
        policy = spec.persistent_volume_reclaim_policy
        if policy and policy not in RECLAIM_POLICIES:
            errs.append(
                not_supported(SPEC.child("persistentVolumeReclaimPolicy"), policy, RECLAIM_POLICIES)
            )
        if spec.storage_class_name:
            errs += [
                invalid(SPEC.child("storageClassName"), spec.storage_class_name, m)
                for m in is_dns1123_subdomain(spec.storage_class_name)
            ]
        count = 0
        for field, json_name in _PV_SOURCES:
            if not spec.HasField(field):
                continue
            p = SPEC.child(json_name)
            if count:
                errs.append(forbidden(p, "may not specify more than 1 volume type"))
                continue
            count += 1
            src = getattr(spec, field)
            if field == "host_path":
                errs += podspec.validate_host_path(src, p)
            elif field == "nfs":
                errs += podspec.validate_nfs(src, p)
            elif field == "local":
                if not src.path:
                    errs.append(required(p.child("path"), ""))
                if not spec.HasField("node_affinity"):
                    errs.append(
                        required(SPEC.child("nodeAffinity"), "Local volume requires node affinity")
                    )
            elif field == "csi":
                if not src.driver:
                    errs.append(required(p.child("driver"), ""))
                if not src.volume_handle:
                    errs.append(required(p.child("volumeHandle"), ""))
        if count == 0:
            errs.append(required(SPEC, "must specify a volume type"))
        if (
            spec.HasField("host_path")
            and posixpath.normpath(spec.host_path.path or ".") == "/"
            and policy == "Recycle"
        ):
            errs.append(
                forbidden(
                    SPEC.child("persistentVolumeReclaimPolicy"),
                    "may not be 'recycle' for a hostPath mount of '/'",
                )
            )
        mode = opt(spec, "volume_mode")
        if mode is not None and mode not in VOLUME_MODES:
            errs.append(not_supported(SPEC.child("volumeMode"), mode, VOLUME_MODES))
        if spec.HasField("node_affinity") and spec.node_affinity.HasField("required"):
            errs += podspec.validate_node_selector(
                spec.node_affinity.required, SPEC.child("nodeAffinity", "required")
            )
        return errs

    def validate_update(self, new: Message, old: Message) -> list[FieldError]:
        """The volume source and volumeMode are immutable; nodeAffinity may
        only be set when it was unset."""
        errs = self.validate(new)
        ns, os_ = new.spec, old.spec  # type: ignore[attr-defined]
        changed = [json for field, json in _PV_SOURCES if not same(opt(ns, field), opt(os_, field))]
        if changed:
            errs.append(
                forbidden(
                    SPEC.child("persistentvolumesource"),
                    "spec.persistentvolumesource is immutable after creation\nchanged: "
                    + ", ".join(f"spec.{c}" for c in changed),
                )
            )
        errs += immutable_opt(ns, os_, "volume_mode", FieldPath.root("volumeMode"))
        if os_.HasField("node_affinity"):
            errs += immutable_opt(ns, os_, "node_affinity", FieldPath.root("nodeAffinity"))
        return errs

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        phase = new.status.phase  # type: ignore[attr-defined]
        allowed = ("Pending", "Available", "Bound", "Released", "Failed")
        if phase and phase not in allowed:
            return [not_supported(STATUS.child("phase"), phase, allowed)]
        return []


__all__ = [
    "EventStrategy",
    "NamespaceStrategy",
    "NodeStrategy",
    "PersistentVolumeClaimStrategy",
    "PersistentVolumeStrategy",
    "PodStrategy",
    "ReplicationControllerStrategy",
    "default_pvc",
    "validate_pod_spec_update",
    "validate_pvc_spec",
]
