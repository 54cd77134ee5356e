"""Validation of a container's resource requests and limits (ValidateResourceRequirements)."""

from __future__ import annotations

from pinnace.api.core.v1 import container_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    invalid,
    is_qualified_name,
    required,
)

from ..common import (
    quantity,
    validate_quantity,
)
from .constants import STANDARD_CONTAINER_RESOURCES


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _overcommit_allowed(name: str) -> bool:
    return _is_native(name) and not name.startswith("hugepages-")


def _validate_container_resource_name(name: str, path: FieldPath) -> list[FieldError]:
    errs = [invalid(path, name, m) for m in is_qualified_name(name)]
    if errs:
        return errs
    if "/" not in name:
        if name not in STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            return [invalid(path, name, "must be a standard resource for containers")]
    elif not _is_native(name) and name.startswith("requests."):
        return [invalid(path, name, "doesn't follow extended resource name standard")]
    return []


def _validate_resource_value(name: str, text: str, path: FieldPath) -> list[FieldError]:
    errs = validate_quantity(text, path)
    value = quantity(text)
    if errs or value is None:  # validate_quantity reported a None value
        return errs
    integer_resource = not _overcommit_allowed(name) and not name.startswith("hugepages-")
    if integer_resource and value != value.to_integral_value():
        return [invalid(path, text, "must be an integer")]
    return []


def validate_resource_requirements(
    res: container_pb2.ResourceRequirements, path: FieldPath
) -> list[FieldError]:
    """Kubernetes' ValidateResourceRequirements: resource names, quantities,
    requests <= limits (== for resources that cannot be overcommitted)."""
    errs: list[FieldError] = []
    lim_path, req_path = path.child("limits"), path.child("requests")
    for name, text in sorted(res.limits.items()):
        p = lim_path.key(name)
        errs += _validate_container_resource_name(name, p)
        errs += _validate_resource_value(name, text, p)
    for name, text in sorted(res.requests.items()):
        p = req_path.key(name)
        errs += _validate_container_resource_name(name, p)
        errs += _validate_resource_value(name, text, p)
        if name in res.limits:
            req_q, lim_q = quantity(text), quantity(res.limits[name])
            if req_q is None or lim_q is None:
                continue
            if req_q != lim_q and not _overcommit_allowed(name):
                errs.append(
                    invalid(req_path, text, f"must be equal to {name} limit of {res.limits[name]}")
                )
            elif req_q > lim_q:
                errs.append(
                    invalid(
                        req_path,
                        text,
                        f"must be less than or equal to {name} limit of {res.limits[name]}",
                    )
                )
        elif not _overcommit_allowed(name):
            errs.append(required(lim_path, "Limit must be set for non overcommitable resources"))
    return errs
