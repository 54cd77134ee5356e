"""Strategy of coordination.k8s.io/v1 Lease (Kubernetes' ValidateLeaseSpec)."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.coordination.v1 import lease_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    not_supported,
    validate_rfc3339,
)

from .common import opt

SPEC = FieldPath.root("spec")
LEASE_STRATEGIES = ("OldestEmulationVersion",)


class LeaseStrategy(Strategy[lease_pb2.Lease]):
    def validate(self, obj: lease_pb2.Lease) -> list[FieldError]:
        spec = obj.spec
        errs: list[FieldError] = []
        duration = opt(spec, "lease_duration_seconds")
        if duration is not None and duration <= 0:
            errs.append(
                invalid(SPEC.child("leaseDurationSeconds"), duration, "must be greater than 0")
            )
        transitions = opt(spec, "lease_transitions")
        if transitions is not None and transitions < 0:
            errs.append(
                invalid(
                    SPEC.child("leaseTransitions"),
                    transitions,
                    "must be greater than or equal to 0",
                )
            )
        for field, json_name in (("acquire_time", "acquireTime"), ("renew_time", "renewTime")):
            value = opt(spec, field)
            if value:
                errs += validate_rfc3339(value, SPEC.child(json_name))
        strategy = opt(spec, "strategy")
        if strategy is not None and strategy not in LEASE_STRATEGIES:
            errs.append(not_supported(SPEC.child("strategy"), strategy, LEASE_STRATEGIES))
        if opt(spec, "preferred_holder") and not strategy:
            errs.append(
                forbidden(
                    SPEC.child("preferredHolder"), "may only be specified if `strategy` is defined"
                )
            )
        return errs


__all__ = ["LeaseStrategy"]
