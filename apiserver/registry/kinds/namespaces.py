"""The Namespace strategy (pkg/registry/core/namespace/strategy.go)."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.core.v1 import namespace_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    invalid,
    is_dns1123_label,
    is_qualified_name,
    not_supported,
)
from pinnace.machinery.wellknown import (
    FINALIZER_FOREGROUND_DELETION,
    FINALIZER_KUBERNETES,
    FINALIZER_ORPHAN,
)

SPEC = FieldPath.root("spec")
STATUS = FieldPath.root("status")
STANDARD_FINALIZERS = (FINALIZER_KUBERNETES, FINALIZER_ORPHAN, FINALIZER_FOREGROUND_DELETION)


class NamespaceStrategy(Strategy[namespace_pb2.Namespace]):
    field_labels = ("status.phase",)

    def validate_name(self, name: str) -> list[str]:
        return is_dns1123_label(name)

    def field_values(self, obj: namespace_pb2.Namespace) -> dict[str, str]:
        return {"status.phase": obj.status.phase}

    def default(self, obj: namespace_pb2.Namespace) -> None:
        if not obj.status.phase:
            obj.status.phase = "Active"

    def prepare_for_create(self, obj: namespace_pb2.Namespace) -> None:
        super().prepare_for_create(obj)
        obj.status.phase = "Active"
        spec = obj.spec
        if FINALIZER_KUBERNETES not in spec.finalizers:
            spec.finalizers.append(FINALIZER_KUBERNETES)

    def deletion_blocked(self, obj: namespace_pb2.Namespace) -> bool:
        return bool(obj.spec.finalizers)

    def prepare_for_delete(self, obj: namespace_pb2.Namespace) -> None:
        obj.status.phase = "Terminating"

    def validate(self, obj: namespace_pb2.Namespace) -> list[FieldError]:
        """spec.finalizers: qualified names; an unprefixed one must be standard."""
        errs: list[FieldError] = []
        path = SPEC.child("finalizers")
        for i, name in enumerate(obj.spec.finalizers):
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

    def validate_status_update(
        self, new: namespace_pb2.Namespace, old: namespace_pb2.Namespace
    ) -> list[FieldError]:
        phase = new.status.phase
        if phase and phase not in ("Active", "Terminating"):
            return [not_supported(STATUS.child("phase"), phase, ["Active", "Terminating"])]
        return []
