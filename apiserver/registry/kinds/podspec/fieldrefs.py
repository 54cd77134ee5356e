"""References from a container or a downward API volume to the pod's own fields,
its containers' resources, and ConfigMap / Secret keys."""

from __future__ import annotations

from pinnace.api.core.v1 import container_pb2, reference_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    invalid,
    is_dns1123_subdomain,
    is_qualified_name,
    not_supported,
    required,
)

from ..common import (
    quantity,
)
from .constants import RESOURCE_FIELD_REFS


def validate_object_field_selector(
    ref: reference_pb2.ObjectFieldSelector, supported: tuple[str, ...], path: FieldPath
) -> list[FieldError]:
    if not ref.api_version:
        return [required(path.child("apiVersion"), "")]
    if not ref.field_path:
        return [required(path.child("fieldPath"), "")]
    if ref.api_version != "v1":
        return [
            invalid(
                path.child("fieldPath"),
                ref.field_path,
                f"error converting fieldPath: unsupported pod version: {ref.api_version}",
            )
        ]
    field_path = ref.field_path
    if field_path.endswith("']") and "['" in field_path:
        base, _, rest = field_path.partition("['")
        subscript = rest[:-2]
        if base == "metadata.annotations":
            return [
                invalid(path, subscript.lower(), m) for m in is_qualified_name(subscript.lower())
            ]
        if base == "metadata.labels":
            return [invalid(path, subscript, m) for m in is_qualified_name(subscript)]
        return [invalid(path, base, "does not support subscript")]
    if field_path not in supported:
        return [not_supported(path.child("fieldPath"), field_path, sorted(supported))]
    return []


def validate_resource_field_selector(
    ref: reference_pb2.ResourceFieldSelector, path: FieldPath, *, volume: bool
) -> list[FieldError]:
    errs: list[FieldError] = []
    if volume and not ref.container_name:
        errs.append(required(path.child("containerName"), ""))
    elif not ref.resource:
        errs.append(required(path.child("resource"), ""))
    elif ref.resource not in RESOURCE_FIELD_REFS and not ref.resource.startswith(
        ("requests.hugepages-", "limits.hugepages-")
    ):
        errs.append(not_supported(path.child("resource"), ref.resource, RESOURCE_FIELD_REFS))
    if ref.divisor:
        value = quantity(ref.divisor)
        if value is None or value <= 0:
            errs.append(invalid(path.child("divisor"), ref.divisor, "must be greater than zero"))
    return errs


_CONFIG_KEY_CHARS = frozenset("-._abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def is_config_map_key(key: str) -> list[str]:
    """Kubernetes' IsConfigMapKey."""
    errs: list[str] = []
    if len(key) > 253:
        errs.append("must be no more than 253 characters")
    if not key or any(c not in _CONFIG_KEY_CHARS for c in key):
        errs.append(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
            "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
            "'[-._a-zA-Z0-9]+')"
        )
    if key == ".":
        errs.append("must not be '.'")
    elif key == "..":
        errs.append("must not be '..'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def validate_key_selector(
    ref: container_pb2.ConfigMapKeySelector | container_pb2.SecretKeySelector, path: FieldPath
) -> list[FieldError]:
    errs = (
        [invalid(path.child("name"), ref.name, m) for m in is_dns1123_subdomain(ref.name)]
        if ref.name
        else []
    )
    if not ref.key:
        errs.append(required(path.child("key"), ""))
    else:
        errs += [invalid(path.child("key"), ref.key, m) for m in is_config_map_key(ref.key)]
    return errs
