"""A PersistentVolumeClaim's spec: defaults and validation, used by the PVC kind,
by StatefulSet claim templates and by ephemeral volumes
(core/validation ValidatePersistentVolumeClaimSpec)."""

from __future__ import annotations

from collections.abc import Iterable

from pinnace.api.core.v1 import volume_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_dns1123_subdomain,
    not_supported,
    required,
    validate_label_selector,
)

from .common import (
    opt,
    validate_quantity,
)

ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_MODES = ("Block", "Filesystem")


def validate_pvc_spec(
    spec: volume_pb2.PersistentVolumeClaimSpec, path: FieldPath
) -> list[FieldError]:
    """Kubernetes' ValidatePersistentVolumeClaimSpec."""
    errs: list[FieldError] = []
    modes_path = path.child("accessModes")
    if not spec.access_modes:
        errs.append(required(modes_path, "at least 1 access mode is required"))
    errs += validate_access_modes(spec.access_modes, modes_path)
    if spec.HasField("selector"):
        errs += validate_label_selector(spec.selector, path.child("selector"))
    storage_path = path.child("resources").key("storage")
    if "storage" not in spec.resources.requests:
        errs.append(required(storage_path, ""))
    else:
        errs += validate_quantity(spec.resources.requests["storage"], storage_path, positive=True)
    class_name = opt(spec, "storage_class_name")
    if class_name:
        errs += [
            invalid(path.child("storageClassName"), class_name, m)
            for m in is_dns1123_subdomain(class_name)
        ]
    mode = opt(spec, "volume_mode")
    if mode is not None and mode not in VOLUME_MODES:
        errs.append(not_supported(path.child("volumeMode"), mode, VOLUME_MODES))
    return errs


def validate_access_modes(modes: Iterable[str], path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    rwop = other = False
    for mode in modes:
        if mode not in ACCESS_MODES:
            errs.append(not_supported(path, mode, ACCESS_MODES))
        elif mode == "ReadWriteOncePod":
            rwop = True
        else:
            other = True
    if rwop and other:
        errs.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs


def default_pvc(pvc: volume_pb2.PersistentVolumeClaim) -> None:
    """SetDefaults_PersistentVolumeClaim(Spec): volumeMode Filesystem, phase Pending."""
    if not pvc.spec.HasField("volume_mode"):
        pvc.spec.volume_mode = "Filesystem"
    if not pvc.status.phase:
        pvc.status.phase = "Pending"
