"""The ControllerRevision strategy (apps/validation ValidateControllerRevision)."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.apps.v1 import controllerrevision_pb2
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


class ControllerRevisionStrategy(Strategy[controllerrevision_pb2.ControllerRevision]):
    def validate(self, obj: controllerrevision_pb2.ControllerRevision) -> list[FieldError]:
        """Kubernetes' ValidateControllerRevision."""
        errs: list[FieldError] = []
        if not obj.HasField("data"):
            errs.append(required(FieldPath.root("data"), "data is mandatory"))
        errs += validate_nonnegative(obj.revision, FieldPath.root("revision"))
        return errs

    def validate_update(
        self,
        new: controllerrevision_pb2.ControllerRevision,
        old: controllerrevision_pb2.ControllerRevision,
    ) -> list[FieldError]:
        return self.validate(new) + immutable(
            opt(new, "data"), opt(old, "data"), FieldPath.root("data")
        )
