"""The ControllerRevision strategy (apps/validation ValidateControllerRevision)."""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.registry.strategy import Strategy
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    required,
    validate_nonnegative,
)

from .common import (
    immutable,
    opt,
)


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
