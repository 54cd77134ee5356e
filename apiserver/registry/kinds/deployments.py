"""The Deployment strategy (apps/v1 defaults, apps/validation ValidateDeployment)."""

from __future__ import annotations

from apiserver.registry.strategy import ReplicasScale, Strategy
from pinnace.api.apps.v1 import deployment_pb2
from pinnace.machinery.intstr import intstr, intstr_value
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    forbidden,
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
    counts_within_replicas,
    selector_immutable,
    template_checks,
    validate_counters,
)

SPEC = FieldPath.root("spec")
# ------------------------------------------------------------------------- Deployment


class DeploymentStrategy(
    ReplicasScale[deployment_pb2.Deployment], Strategy[deployment_pb2.Deployment]
):
    def default(self, obj: deployment_pb2.Deployment) -> None:
        """SetDefaults_Deployment."""
        spec = obj.spec
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

    def validate(self, obj: deployment_pb2.Deployment) -> list[FieldError]:
        """Kubernetes' ValidateDeploymentSpec."""
        spec = obj.spec
        errs = validate_nonnegative(spec.replicas, SPEC.child("replicas"))
        errs += validate_workload_selector(spec, SPEC, "deployment")
        errs += template_checks(spec, "ReplicaSet", forbid_deadline=False)
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

    def validate_update(
        self, new: deployment_pb2.Deployment, old: deployment_pb2.Deployment
    ) -> list[FieldError]:
        return self.validate(new) + selector_immutable(new, old)

    def validate_status_update(
        self, new: deployment_pb2.Deployment, old: deployment_pb2.Deployment
    ) -> list[FieldError]:
        """Kubernetes' ValidateDeploymentStatus(Update)."""
        status = new.status
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
        errs += collision_count_decremented(status, old.status)
        return errs


def _validate_deployment_strategy(
    strategy: deployment_pb2.DeploymentStrategy, path: FieldPath
) -> list[FieldError]:
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
                        rp.child("maxUnavailable"),
                        intstr_value(mu),
                        "may not be 0 when `maxSurge` is 0",
                    )
                )
            errs += not_more_than_100_percent(mu, rp.child("maxUnavailable"))
    else:
        errs.append(not_supported(path.child("type"), strategy.type, ["Recreate", "RollingUpdate"]))
    return errs
