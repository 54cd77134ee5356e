"""The ReplicaSet (apps/v1) and ReplicationController (core/v1) strategies: the
same workload, two selector shapes."""

from __future__ import annotations

from apiserver.registry.strategy import ReplicasScale, Strategy
from pinnace.api.apps.v1 import replicaset_pb2
from pinnace.api.core.v1 import replicationcontroller_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    required,
    validate_labels,
    validate_nonnegative,
)

from . import podspec
from .common import (
    selector_mismatch,
    validate_workload_selector,
)
from .replicas import (
    selector_immutable,
    template_checks,
    validate_replica_status,
    validate_replicated_template,
)

SPEC = FieldPath.root("spec")
# ------------------------------------------------------------------------- ReplicaSet


class ReplicaSetStrategy(
    ReplicasScale[replicaset_pb2.ReplicaSet], Strategy[replicaset_pb2.ReplicaSet]
):
    def default(self, obj: replicaset_pb2.ReplicaSet) -> None:
        """SetDefaults_ReplicaSet."""
        spec = obj.spec
        if not spec.HasField("replicas"):
            spec.replicas = 1
        podspec.default_pod_template(spec.template)

    def validate(self, obj: replicaset_pb2.ReplicaSet) -> list[FieldError]:
        """Kubernetes' ValidateReplicaSetSpec (its empty-selector message says
        "deployment", as Kubernetes' does)."""
        spec = obj.spec
        errs = validate_nonnegative(spec.replicas, SPEC.child("replicas"))
        errs += validate_nonnegative(spec.min_ready_seconds, SPEC.child("minReadySeconds"))
        errs += validate_workload_selector(spec, SPEC, "deployment")
        errs += template_checks(spec, "ReplicaSet", forbid_deadline=False)
        return errs

    def validate_update(
        self, new: replicaset_pb2.ReplicaSet, old: replicaset_pb2.ReplicaSet
    ) -> list[FieldError]:
        return self.validate(new) + selector_immutable(new, old)

    def validate_status_update(
        self, new: replicaset_pb2.ReplicaSet, old: replicaset_pb2.ReplicaSet
    ) -> list[FieldError]:
        return validate_replica_status(new.status)


# -------------------------------------------------------------- ReplicationController


class ReplicationControllerStrategy(
    ReplicasScale[replicationcontroller_pb2.ReplicationController],
    Strategy[replicationcontroller_pb2.ReplicationController],
):
    # Kubernetes' v1 RC orphans its pods when a delete names no policy.
    default_delete_policy = "Orphan"

    def default(self, obj: replicationcontroller_pb2.ReplicationController) -> None:
        """SetDefaults_ReplicationController."""
        spec = obj.spec
        meta = obj.metadata
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

    def validate(self, obj: replicationcontroller_pb2.ReplicationController) -> list[FieldError]:
        """Kubernetes' ValidateReplicationControllerSpec."""

        spec = obj.spec
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

    def validate_status_update(
        self,
        new: replicationcontroller_pb2.ReplicationController,
        old: replicationcontroller_pb2.ReplicationController,
    ) -> list[FieldError]:
        return validate_replica_status(new.status)
