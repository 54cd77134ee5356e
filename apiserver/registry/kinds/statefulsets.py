"""The StatefulSet strategy (apps/v1 defaults, apps/validation ValidateStatefulSet)."""

from __future__ import annotations

from collections.abc import Iterable

from apiserver.registry.strategy import ReplicasScale, Strategy
from pinnace.api.apps.v1 import statefulset_pb2
from pinnace.api.core.v1 import volume_pb2
from pinnace.machinery.intstr import intstr, intstr_value
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
from .claims import default_pvc, validate_pvc_spec
from .common import (
    Shown,
    int_or_percent_value,
    nonnegative_opt,
    not_more_than_100_percent,
    opt,
    same,
    selector_mismatch,
    validate_positive_int_or_percent,
    validate_workload_selector,
)
from .replicas import (
    DEFAULT_REVISION_HISTORY_LIMIT,
    collision_count_decremented,
    counts_within_replicas,
    validate_counters,
)

SPEC = FieldPath.root("spec")
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


class StatefulSetStrategy(
    ReplicasScale[statefulset_pb2.StatefulSet], Strategy[statefulset_pb2.StatefulSet]
):
    def validate_name(self, name: str) -> list[str]:
        """Kubernetes' ValidateStatefulSetName: a DNS label (pod names add "-<ordinal>")."""
        return is_dns1123_label(name)

    def default(self, obj: statefulset_pb2.StatefulSet) -> None:
        """SetDefaults_StatefulSet (maxUnavailable 1: the MaxUnavailableStatefulSet
        gate is on by default)."""
        spec = obj.spec
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

    def validate(self, obj: statefulset_pb2.StatefulSet) -> list[FieldError]:
        """Kubernetes' ValidateStatefulSetSpec; the template's volume mounts may
        name volumeClaimTemplates."""
        spec = obj.spec
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

    def validate_update(
        self, new: statefulset_pb2.StatefulSet, old: statefulset_pb2.StatefulSet
    ) -> list[FieldError]:
        """Kubernetes' ValidateStatefulSetUpdate: only the listed fields may change."""
        errs = self.validate(new)
        clone = statefulset_pb2.StatefulSetSpec()
        clone.CopyFrom(new.spec)
        old_spec = old.spec
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

    def validate_status_update(
        self, new: statefulset_pb2.StatefulSet, old: statefulset_pb2.StatefulSet
    ) -> list[FieldError]:
        """Kubernetes' ValidateStatefulSetStatus(Update)."""
        status = new.status
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
        errs += collision_count_decremented(status, old.status)
        return errs


def _validate_sts_update_strategy(
    us: statefulset_pb2.StatefulSetUpdateStrategy, path: FieldPath
) -> list[FieldError]:
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
                    errs.append(invalid(mp, intstr_value(mu), "cannot be 0"))
                errs += not_more_than_100_percent(mu, mp)
    else:
        errs.append(invalid(path, us.type, "must be 'RollingUpdate' or 'OnDelete'"))
    return errs


def _validate_claim_templates(
    templates: Iterable[volume_pb2.PersistentVolumeClaim],
) -> tuple[set[str], list[FieldError]]:
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
