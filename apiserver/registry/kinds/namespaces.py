"""The Namespace strategy (pkg/registry/core/namespace/strategy.go)."""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.registry.strategy import Strategy
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
        if FINALIZER_KUBERNETES not in spec.finalizers:
            spec.finalizers.append(FINALIZER_KUBERNETES)

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
