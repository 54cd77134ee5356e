"""Strategies of apps/v1 kinds: Deployment, ReplicaSet, StatefulSet, DaemonSet,
ControllerRevision.

Defaults follow `pkg/apis/apps/v1/defaults.go`, validation
`pkg/apis/apps/validation/validation.go`; the selector of every apps/v1
workload is immutable (the registry strategies' ValidateUpdate).
"""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.registry.strategy import Strategy
from pinnace.api.apps.v1 import statefulset_pb2
from pinnace.machinery.intstr import intstr
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_dns1123_label,
    not_supported,
    required,
    validate_labels,
    validate_nonnegative,
)

from . import podspec
from .common import (
    Shown,
    immutable,
    immutable_opt,
    int_or_percent_value,
    nonnegative_opt,
    not_more_than_100_percent,
    opt,
    same,
    selector_mismatch,
    validate_positive_int_or_percent,
    validate_workload_selector,
)
from .core import default_pvc, validate_pvc_spec
from .replicas import (
    collision_count_decremented,
    counts_within_replicas,
    validate_counters,
    validate_replica_status,
    validate_replicated_template,
)

SPEC = FieldPath.root("spec")
DEFAULT_REVISION_HISTORY_LIMIT = 10


def _selector_immutable(new: Message, old: Message) -> list[FieldError]:
    return immutable_opt(new.spec, old.spec, "selector", SPEC.child("selector"))  # type: ignore[attr-defined]


def _template_checks(
    spec: Message, kind: str, *, forbid_deadline: bool, extra_volumes=()
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


# ------------------------------------------------------------------------- Deployment


class DeploymentStrategy(Strategy):
    def default(self, obj: Message) -> None:
        """SetDefaults_Deployment."""
        spec = obj.spec  # type: ignore[attr-defined]
        if not spec.HasField("replicas"):
            spec.replicas = 1
        strategy = spec.strategy
        if not strategy.type:
            strategy.type = "RollingUpdate"
        if strategy.type == "RollingUpdate":
            ru = strategy.rolling_update
            if not ru.HasField("max_unavailable"):
                ru.max_unavailable.CopyFrom(intstr("25%"))
            if not ru.HasField("max_surge"):
                ru.max_surge.CopyFrom(intstr("25%"))
        if not spec.HasField("revision_history_limit"):
            spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
        if not spec.HasField("progress_deadline_seconds"):
            spec.progress_deadline_seconds = 600
        podspec.default_pod_template(spec.template)

    def validate(self, obj: Message) -> list[FieldError]:
        """Kubernetes' ValidateDeploymentSpec."""
        spec = obj.spec  # type: ignore[attr-defined]
        errs = validate_nonnegative(spec.replicas, SPEC.child("replicas"))
        errs += validate_workload_selector(spec, SPEC, "deployment")
        errs += _template_checks(spec, "ReplicaSet", forbid_deadline=False)
        errs += _validate_deployment_strategy(spec.strategy, SPEC.child("strategy"))
        errs += validate_nonnegative(spec.min_ready_seconds, SPEC.child("minReadySeconds"))
        errs += nonnegative_opt(spec, "revision_history_limit", SPEC.child("revisionHistoryLimit"))
        pds = opt(spec, "progress_deadline_seconds")
        if pds is not None:
            errs += validate_nonnegative(pds, SPEC.child("progressDeadlineSeconds"))
            if pds <= spec.min_ready_seconds:
                errs.append(
                    invalid(
                        SPEC.child("progressDeadlineSeconds"),
                        pds,
                        "must be greater than minReadySeconds",
                    )
                )
        return errs

    def validate_update(self, new: Message, old: Message) -> list[FieldError]:
        return self.validate(new) + _selector_immutable(new, old)

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        """Kubernetes' ValidateDeploymentStatus(Update)."""
        status = new.status  # type: ignore[attr-defined]
        errs = validate_counters(
            status,
            (
                ("observed_generation", "observedGeneration"),
                ("replicas", "replicas"),
                ("updated_replicas", "updatedReplicas"),
                ("ready_replicas", "readyReplicas"),
                ("available_replicas", "availableReplicas"),
                ("unavailable_replicas", "unavailableReplicas"),
                ("terminating_replicas", "terminatingReplicas"),
                ("collision_count", "collisionCount"),
            ),
        )
        errs += counts_within_replicas(
            status,
            [
                ("updated_replicas", "updatedReplicas"),
                ("ready_replicas", "readyReplicas"),
                ("available_replicas", "availableReplicas"),
            ],
            ready_detail="cannot be greater than readyReplicas",
        )
        errs += collision_count_decremented(status, old.status)  # type: ignore[attr-defined]
        return errs


def _validate_deployment_strategy(strategy: Message, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if strategy.type == "Recreate":
        if strategy.HasField("rolling_update"):
            errs.append(
                forbidden(
                    path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            )
    elif strategy.type == "RollingUpdate":
        if not strategy.HasField("rolling_update"):
            errs.append(
                required(path.child("rollingUpdate"), "this should be defaulted and never be nil")
            )
        else:
            ru = strategy.rolling_update
            rp = path.child("rollingUpdate")
            mu, ms = opt(ru, "max_unavailable"), opt(ru, "max_surge")
            errs += validate_positive_int_or_percent(mu, rp.child("maxUnavailable"))
            errs += validate_positive_int_or_percent(ms, rp.child("maxSurge"))
            if int_or_percent_value(mu) == 0 and int_or_percent_value(ms) == 0:
                errs.append(
                    invalid(
                        rp.child("maxUnavailable"), _raw(mu), "may not be 0 when `maxSurge` is 0"
                    )
                )
            errs += not_more_than_100_percent(mu, rp.child("maxUnavailable"))
    else:
        errs.append(not_supported(path.child("type"), strategy.type, ["Recreate", "RollingUpdate"]))
    return errs


def _raw(value):
    from pinnace.machinery.intstr import intstr_value

    return intstr_value(value)


# ------------------------------------------------------------------------- ReplicaSet


class ReplicaSetStrategy(Strategy):
    def default(self, obj: Message) -> None:
        """SetDefaults_ReplicaSet."""
        spec = obj.spec  # type: ignore[attr-defined]
        if not spec.HasField("replicas"):
            spec.replicas = 1
        podspec.default_pod_template(spec.template)

    def validate(self, obj: Message) -> list[FieldError]:
        """Kubernetes' ValidateReplicaSetSpec (its empty-selector message says
        "deployment", as Kubernetes' does)."""
        spec = obj.spec  # type: ignore[attr-defined]
        errs = validate_nonnegative(spec.replicas, SPEC.child("replicas"))
        errs += validate_nonnegative(spec.min_ready_seconds, SPEC.child("minReadySeconds"))
        errs += validate_workload_selector(spec, SPEC, "deployment")
        errs += _template_checks(spec, "ReplicaSet", forbid_deadline=False)
        return errs

    def validate_update(self, new: Message, old: Message) -> list[FieldError]:
        return self.validate(new) + _selector_immutable(new, old)

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        return validate_replica_status(new.status)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------ StatefulSet

_STS_UPDATABLE = (
    "replicas",
    "template",
    "update_strategy",
    "min_ready_seconds",
    "ordinals",
    "revision_history_limit",
    "persistent_volume_claim_retention_policy",
)
_STS_FORBIDDEN_MSG = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
    "'minReadySeconds' are forbidden"
)


class StatefulSetStrategy(Strategy):
    def validate_name(self, name: str) -> list[str]:
        """Kubernetes' ValidateStatefulSetName: a DNS label (pod names add "-<ordinal>")."""
        return is_dns1123_label(name)

    def default(self, obj: Message) -> None:
        """SetDefaults_StatefulSet (maxUnavailable 1: the MaxUnavailableStatefulSet
        gate is on by default)."""
        spec = obj.spec  # type: ignore[attr-defined]
        if not spec.pod_management_policy:
            spec.pod_management_policy = "OrderedReady"
        us = spec.update_strategy
        if not us.type:
            us.type = "RollingUpdate"
            us.rolling_update.SetInParent()
        if us.type == "RollingUpdate" and us.HasField("rolling_update"):
            if not us.rolling_update.HasField("partition"):
                us.rolling_update.partition = 0
            if not us.rolling_update.HasField("max_unavailable"):
                us.rolling_update.max_unavailable.CopyFrom(intstr(1))
        policy = spec.persistent_volume_claim_retention_policy
        if not policy.when_deleted:
            policy.when_deleted = "Retain"
        if not policy.when_scaled:
            policy.when_scaled = "Retain"
        if not spec.HasField("replicas"):
            spec.replicas = 1
        if not spec.HasField("revision_history_limit"):
            spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
        podspec.default_pod_template(spec.template)
        for pvc in spec.volume_claim_templates:
            default_pvc(pvc)

    def validate(self, obj: Message) -> list[FieldError]:
        """Kubernetes' ValidateStatefulSetSpec; the template's volume mounts may
        name volumeClaimTemplates."""
        spec = obj.spec  # type: ignore[attr-defined]
        errs: list[FieldError] = []
        pmp = spec.pod_management_policy
        if not pmp:
            errs.append(required(SPEC.child("podManagementPolicy"), ""))
        elif pmp not in ("OrderedReady", "Parallel"):
            errs.append(
                invalid(
                    SPEC.child("podManagementPolicy"), pmp, "must be 'OrderedReady' or 'Parallel'"
                )
            )
        errs += _validate_sts_update_strategy(spec.update_strategy, SPEC.child("updateStrategy"))
        policy = spec.persistent_volume_claim_retention_policy
        ppath = SPEC.child("persistentVolumeClaimRetentionPolicy")
        for field, json_name in (("when_deleted", "whenDeleted"), ("when_scaled", "whenScaled")):
            value = getattr(policy, field)
            if value not in ("Retain", "Delete"):
                errs.append(not_supported(ppath.child(json_name), value, ["Retain", "Delete"]))
        errs += validate_nonnegative(spec.replicas, SPEC.child("replicas"))
        errs += validate_nonnegative(spec.min_ready_seconds, SPEC.child("minReadySeconds"))
        if spec.HasField("ordinals"):
            errs += validate_nonnegative(spec.ordinals.start, SPEC.child("ordinals", "start"))
        errs += nonnegative_opt(spec, "revision_history_limit", SPEC.child("revisionHistoryLimit"))
        errs += validate_workload_selector(spec, SPEC, "statefulset")
        claim_names, claim_errs = _validate_claim_templates(spec.volume_claim_templates)
        errs += claim_errs
        tpath = SPEC.child("template")
        if spec.HasField("selector"):
            errs += selector_mismatch(spec.selector, spec.template.metadata.labels, tpath)
        errs += podspec.validate_pod_template(spec.template, tpath, extra_volumes=claim_names)
        tspec = spec.template.spec
        if tspec.restart_policy != "Always":
            errs.append(
                not_supported(
                    tpath.child("spec", "restartPolicy"), tspec.restart_policy, ["Always"]
                )
            )
        if tspec.HasField("active_deadline_seconds"):
            errs.append(
                forbidden(
                    tpath.child("spec", "activeDeadlineSeconds"),
                    "activeDeadlineSeconds in StatefulSet is not Supported",
                )
            )
        return errs

    def validate_update(self, new: Message, old: Message) -> list[FieldError]:
        """Kubernetes' ValidateStatefulSetUpdate: only the listed fields may change."""
        errs = self.validate(new)
        clone = statefulset_pb2.StatefulSetSpec()
        clone.CopyFrom(new.spec)  # type: ignore[attr-defined]
        old_spec = old.spec  # type: ignore[attr-defined]
        for field in _STS_UPDATABLE:
            fd = clone.DESCRIPTOR.fields_by_name[field]
            clone.ClearField(field)
            if not fd.has_presence:
                setattr(clone, field, getattr(old_spec, field))
            elif old_spec.HasField(field):
                if fd.message_type is not None:
                    getattr(clone, field).CopyFrom(getattr(old_spec, field))
                else:
                    setattr(clone, field, getattr(old_spec, field))
        if not same(clone, old_spec):
            errs.append(forbidden(SPEC, _STS_FORBIDDEN_MSG))
        return errs

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        """Kubernetes' ValidateStatefulSetStatus(Update)."""
        status = new.status  # type: ignore[attr-defined]
        errs = validate_counters(
            status,
            (
                ("replicas", "replicas"),
                ("ready_replicas", "readyReplicas"),
                ("current_replicas", "currentReplicas"),
                ("updated_replicas", "updatedReplicas"),
                ("available_replicas", "availableReplicas"),
                ("observed_generation", "observedGeneration"),
                ("collision_count", "collisionCount"),
            ),
        )
        errs += counts_within_replicas(
            status,
            [
                ("ready_replicas", "readyReplicas"),
                ("current_replicas", "currentReplicas"),
                ("updated_replicas", "updatedReplicas"),
                ("available_replicas", "availableReplicas"),
            ],
            ready_detail="cannot be greater than status.readyReplicas",
        )
        errs += collision_count_decremented(status, old.status)  # type: ignore[attr-defined]
        return errs


def _validate_sts_update_strategy(us: Message, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not us.type:
        errs.append(required(path, ""))
    elif us.type == "OnDelete":
        if us.HasField("rolling_update"):
            errs.append(
                invalid(
                    path.child("rollingUpdate"),
                    Shown(us.rolling_update),
                    "only allowed for updateStrategy 'RollingUpdate'",
                )
            )
    elif us.type == "RollingUpdate":
        if us.HasField("rolling_update"):
            ru = us.rolling_update
            rp = path.child("rollingUpdate")
            errs += nonnegative_opt(ru, "partition", rp.child("partition"))
            mu = opt(ru, "max_unavailable")
            if mu is not None:
                mp = rp.child("maxUnavailable")
                errs += validate_positive_int_or_percent(mu, mp)
                if int_or_percent_value(mu) == 0:
                    errs.append(invalid(mp, _raw(mu), "cannot be 0"))
                errs += not_more_than_100_percent(mu, mp)
    else:
        errs.append(invalid(path, us.type, "must be 'RollingUpdate' or 'OnDelete'"))
    return errs


def _validate_claim_templates(templates) -> tuple[set[str], list[FieldError]]:
    names: set[str] = set()
    errs: list[FieldError] = []
    path = SPEC.child("volumeClaimTemplates")
    for i, pvc in enumerate(templates):
        p = path.index(i)
        name = pvc.metadata.name
        if not name:
            errs.append(required(p.child("metadata", "name"), ""))
        else:
            errs += [invalid(p.child("metadata", "name"), name, m) for m in is_dns1123_label(name)]
            names.add(name)
        errs += validate_labels(pvc.metadata.labels, p.child("metadata", "labels"))
        errs += validate_pvc_spec(pvc.spec, p.child("spec"))
    return names, errs


# -------------------------------------------------------------------------- DaemonSet


class DaemonSetStrategy(Strategy):
    def default(self, obj: Message) -> None:
        """SetDefaults_DaemonSet: RollingUpdate, maxUnavailable 1, maxSurge 0."""
        spec = obj.spec  # type: ignore[attr-defined]
        us = spec.update_strategy
        if not us.type:
            us.type = "RollingUpdate"
        if us.type == "RollingUpdate":
            ru = us.rolling_update
            if not ru.HasField("max_unavailable"):
                ru.max_unavailable.CopyFrom(intstr(1))
            if not ru.HasField("max_surge"):
                ru.max_surge.CopyFrom(intstr(0))
        if not spec.HasField("revision_history_limit"):
            spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
        podspec.default_pod_template(spec.template)

    def validate(self, obj: Message) -> list[FieldError]:
        """Kubernetes' ValidateDaemonSetSpec."""
        spec = obj.spec  # type: ignore[attr-defined]
        errs = validate_workload_selector(spec, SPEC, "daemonset")
        errs += _template_checks(spec, "DaemonSet", forbid_deadline=False)
        errs += validate_nonnegative(spec.min_ready_seconds, SPEC.child("minReadySeconds"))
        errs += _validate_ds_update_strategy(spec.update_strategy, SPEC.child("updateStrategy"))
        errs += nonnegative_opt(spec, "revision_history_limit", SPEC.child("revisionHistoryLimit"))
        return errs

    def validate_update(self, new: Message, old: Message) -> list[FieldError]:
        return self.validate(new) + _selector_immutable(new, old)

    def validate_status_update(self, new: Message, old: Message) -> list[FieldError]:
        """Kubernetes' ValidateDaemonSetStatusUpdate."""
        status = new.status  # type: ignore[attr-defined]
        errs = validate_counters(
            status,
            (
                ("current_number_scheduled", "currentNumberScheduled"),
                ("number_misscheduled", "numberMisscheduled"),
                ("desired_number_scheduled", "desiredNumberScheduled"),
                ("number_ready", "numberReady"),
                ("observed_generation", "observedGeneration"),
                ("updated_number_scheduled", "updatedNumberScheduled"),
                ("number_available", "numberAvailable"),
                ("number_unavailable", "numberUnavailable"),
                ("collision_count", "collisionCount"),
            ),
        )
        errs += collision_count_decremented(status, old.status)  # type: ignore[attr-defined]
        return errs


def _validate_ds_update_strategy(us: Message, path: FieldPath) -> list[FieldError]:
    if us.type == "OnDelete":
        return []
    if us.type != "RollingUpdate":
        return [not_supported(path, us.type, ["RollingUpdate", "OnDelete"])]
    if not us.HasField("rolling_update"):
        return [required(path.child("rollingUpdate"), "")]
    ru = us.rolling_update
    rp = path.child("rollingUpdate")
    mu, ms = opt(ru, "max_unavailable"), opt(ru, "max_surge")
    errs = validate_positive_int_or_percent(mu, rp.child("maxUnavailable"))
    errs += validate_positive_int_or_percent(ms, rp.child("maxSurge"))
    errs += not_more_than_100_percent(mu, rp.child("maxUnavailable"))
    errs += not_more_than_100_percent(ms, rp.child("maxSurge"))
    has_unavailable = int_or_percent_value(mu) != 0
    has_surge = int_or_percent_value(ms) != 0
    if has_unavailable and has_surge:
        errs.append(
            invalid(
                rp.child("maxSurge"), _raw(ms), "may not be set when maxUnavailable is non-zero"
            )
        )
    elif not has_unavailable and not has_surge:
        errs.append(required(rp.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
    return errs


# ----------------------------------------------------------------- ControllerRevision


class ControllerRevisionStrategy(Strategy):
    def validate(self, obj: Message) -> list[FieldError]:
        """Kubernetes' ValidateControllerRevision."""
        errs: list[FieldError] = []
        if not obj.HasField("data"):
            errs.append(required(FieldPath.root("data"), "data is mandatory"))
        errs += validate_nonnegative(obj.revision, FieldPath.root("revision"))  # type: ignore[attr-defined]
        return errs

    def validate_update(self, new: Message, old: Message) -> list[FieldError]:
        return self.validate(new) + immutable(
            opt(new, "data"), opt(old, "data"), FieldPath.root("data")
        )


__all__ = [
    "ControllerRevisionStrategy",
    "DaemonSetStrategy",
    "DeploymentStrategy",
    "ReplicaSetStrategy",
    "StatefulSetStrategy",
]
