"""The DaemonSet strategy (apps/v1 defaults, apps/validation ValidateDaemonSet)."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.apps.v1 import daemonset_pb2
from pinnace.machinery.intstr import intstr, intstr_value
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    invalid,
    not_supported,
    required,
    validate_nonnegative,
)

from . import podspec
from .common import (
    int_or_percent_value,
    nonnegative_opt,
    not_more_than_100_percent,
    opt,
    validate_positive_int_or_percent,
    validate_workload_selector,
)
from .replicas import (
    DEFAULT_REVISION_HISTORY_LIMIT,
    collision_count_decremented,
    selector_immutable,
    template_checks,
    validate_counters,
)

SPEC = FieldPath.root("spec")
# -------------------------------------------------------------------------- DaemonSet


class DaemonSetStrategy(Strategy[daemonset_pb2.DaemonSet]):
    def default(self, obj: daemonset_pb2.DaemonSet) -> None:
        """SetDefaults_DaemonSet: RollingUpdate, maxUnavailable 1, maxSurge 0."""
        spec = obj.spec
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

    def validate(self, obj: daemonset_pb2.DaemonSet) -> list[FieldError]:
        """Kubernetes' ValidateDaemonSetSpec."""
        spec = obj.spec
        errs = validate_workload_selector(spec, SPEC, "daemonset")
        errs += template_checks(spec, "DaemonSet", forbid_deadline=False)
        errs += validate_nonnegative(spec.min_ready_seconds, SPEC.child("minReadySeconds"))
        errs += _validate_ds_update_strategy(spec.update_strategy, SPEC.child("updateStrategy"))
        errs += nonnegative_opt(spec, "revision_history_limit", SPEC.child("revisionHistoryLimit"))
        return errs

    def validate_update(
        self, new: daemonset_pb2.DaemonSet, old: daemonset_pb2.DaemonSet
    ) -> list[FieldError]:
        return self.validate(new) + selector_immutable(new, old)

    def validate_status_update(
        self, new: daemonset_pb2.DaemonSet, old: daemonset_pb2.DaemonSet
    ) -> list[FieldError]:
        """Kubernetes' ValidateDaemonSetStatusUpdate."""
        status = new.status
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
        errs += collision_count_decremented(status, old.status)
        return errs


def _validate_ds_update_strategy(
    us: daemonset_pb2.DaemonSetUpdateStrategy, path: FieldPath
) -> list[FieldError]:
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
                rp.child("maxSurge"),
                intstr_value(ms),
                "may not be set when maxUnavailable is non-zero",
            )
        )
    elif not has_unavailable and not has_surge:
        errs.append(required(rp.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
    return errs
