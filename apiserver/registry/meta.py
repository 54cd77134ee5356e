"""Validation of ObjectMeta, common to every kind (Kubernetes' ValidateObjectMeta)."""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategy import Strategy
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_qualified_name,
    not_supported,
    required,
    validate_annotations,
    validate_generate_name,
    validate_labels,
)
from pinnace.machinery.wellknown import FINALIZER_FOREGROUND_DELETION, FINALIZER_ORPHAN

META = FieldPath.root("metadata")

__all__ = [
    "invalid_value",
    "not_supported",
    "required",
    "validate_meta_update",
    "validate_object_meta",
]


def invalid_value(field: str, value: object, detail: str) -> FieldError:
    return invalid(field, value, detail)


def validate_object_meta(
    meta: meta_pb2.ObjectMeta, strategy: Strategy[Any], *, create: bool
) -> list[FieldError]:
    """Name (per the kind's rule), generateName, labels, annotations, owner
    references and finalizers."""
    errs: list[FieldError] = []
    kind = strategy.info.kind
    if not meta.name:
        errs.append(required(META.child("name"), "name or generateName is required"))
    else:
        for msg in strategy.validate_name(meta.name):
            errs.append(invalid(META.child("name"), meta.name, msg))
    if create:
        errs += validate_generate_name(meta.generate_name, META.child("generateName"), kind)
    errs += validate_labels(meta.labels, META.child("labels"))
    errs += validate_annotations(meta.annotations, META.child("annotations"))
    errs += _validate_owner_references(meta, strategy)
    errs += _validate_finalizers(meta)
    return errs


def _validate_owner_references(
    meta: meta_pb2.ObjectMeta, strategy: Strategy[Any]
) -> list[FieldError]:
    errs: list[FieldError] = []
    path = META.child("ownerReferences")
    controllers = []
    for i, ref in enumerate(meta.owner_references):
        p = path.index(i)
        if not ref.api_version:
            errs.append(required(p.child("apiVersion"), "apiVersion must not be empty"))
        if not ref.kind:
            errs.append(required(p.child("kind"), "kind must not be empty"))
        if not ref.name:
            errs.append(required(p.child("name"), "name must not be empty"))
        if not ref.uid:
            errs.append(required(p.child("uid"), "uid must not be empty"))
        if ref.uid and ref.uid == meta.uid:
            errs.append(invalid(p.child("uid"), ref.uid, "an object cannot own itself"))
        if ref.HasField("controller") and ref.controller:
            controllers.append(f"{ref.kind}/{ref.name}")
    if len(controllers) > 1:
        errs.append(
            invalid(
                path,
                ", ".join(controllers),
                'Only one reference can have Controller set to true. Found "true" in references for '
                + " and ".join(controllers),
            )
        )
    return errs


def _validate_finalizers(meta: meta_pb2.ObjectMeta) -> list[FieldError]:
    errs: list[FieldError] = []
    path = META.child("finalizers")
    seen: set[str] = set()
    for i, f in enumerate(meta.finalizers):
        p = path.index(i)
        for msg in is_qualified_name(f):
            errs.append(invalid(p, f, msg))
        if f in seen:
            errs.append(invalid(p, f, "duplicate finalizer"))
        seen.add(f)
    if FINALIZER_ORPHAN in seen and FINALIZER_FOREGROUND_DELETION in seen:
        errs.append(
            invalid(
                path,
                list(meta.finalizers),
                "finalizers orphan and foregroundDeletion cannot be both set",
            )
        )
    return errs


def validate_meta_update(new: meta_pb2.ObjectMeta, old: meta_pb2.ObjectMeta) -> list[FieldError]:
    """What an update may not change: name and namespace; a deleting object
    may not gain new finalizers."""
    errs: list[FieldError] = []
    if new.name != old.name:
        errs.append(invalid(META.child("name"), new.name, "field is immutable"))
    if new.namespace != old.namespace:
        errs.append(invalid(META.child("namespace"), new.namespace, "field is immutable"))
    if old.deletion_timestamp:
        added = [f for f in new.finalizers if f not in old.finalizers]
        if added:
            errs.append(
                forbidden(
                    META.child("finalizers"),
                    f"no new finalizers can be added if the object is being deleted, found new finalizers {added}",
                )
            )
    return errs
