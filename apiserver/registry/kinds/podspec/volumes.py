"""Validation of a pod's volumes (Kubernetes' ValidateVolumes and the per-source rules)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from google.protobuf.message import Message

from pinnace.api.core.v1 import volume_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    not_supported,
    required,
    validate_labels,
)

from ..claims import validate_pvc_spec
from ..common import (
    one_of,
    opt,
    quantity,
)
from .constants import (
    HOST_PATH_TYPES,
    PULL_POLICIES,
    VOLUME_FIELD_PATHS,
    VOLUME_SOURCE_JSON,
    VOLUME_SOURCES,
)
from .fieldrefs import validate_object_field_selector, validate_resource_field_selector
from .paths import local_descending_path, no_backsteps

_ONE_VOLUME_MSG = "may not specify more than 1 volume type"


def validate_volumes(
    volumes: Iterable[volume_pb2.Volume], path: FieldPath
) -> tuple[set[str], list[FieldError]]:
    """Kubernetes' ValidateVolumes: the names of the valid volumes, and errors.
    A volume with any error is left out of the names (so mounts of it are
    reported as not found too, as Kubernetes does)."""
    names: set[str] = set()
    seen: set[str] = set()
    errs: list[FieldError] = []
    for i, vol in enumerate(volumes):
        p = path.index(i)
        el = _validate_volume_source(vol, p)
        name_path = p.child("name")
        if not vol.name:
            el.append(required(name_path, ""))
        else:
            el += [invalid(name_path, vol.name, m) for m in is_dns1123_label(vol.name)]
        if vol.name in seen:
            el.append(duplicate(name_path, vol.name))
        seen.add(vol.name)
        if el:
            errs += el
        else:
            names.add(vol.name)
    return names, errs


def _validate_volume_source(vol: volume_pb2.Volume, path: FieldPath) -> list[FieldError]:
    source, extra = one_of(vol, VOLUME_SOURCES, VOLUME_SOURCE_JSON, path, _ONE_VOLUME_MSG)
    if source is None:
        return [required(path, "must specify a volume type")]
    p = path.child(VOLUME_SOURCE_JSON[source])
    return _SOURCE_CHECKS[source](getattr(vol, source), p) + extra


def validate_host_path(src: volume_pb2.HostPathVolumeSource, path: FieldPath) -> list[FieldError]:
    if not src.path:
        return [required(path.child("path"), "")]
    errs = no_backsteps(src.path, path.child("path"))
    if src.HasField("type") and src.type not in HOST_PATH_TYPES:
        errs.append(not_supported(path.child("type"), src.type, HOST_PATH_TYPES))
    return errs


def _validate_empty_dir(src: volume_pb2.EmptyDirVolumeSource, path: FieldPath) -> list[FieldError]:
    if src.HasField("size_limit"):
        value = quantity(src.size_limit)
        if value is None or value < 0:
            return [
                forbidden(
                    path.child("sizeLimit"), "SizeLimit field must be a valid resource quantity"
                )
            ]
    return []


def _validate_mode(msg: Message, name: str, path: FieldPath) -> list[FieldError]:
    mode = opt(msg, name)
    if mode is not None and not 0 <= mode <= 0o777:
        return [invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive")]
    return []


def _validate_key_to_paths(
    items: Iterable[volume_pb2.KeyToPath], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, item in enumerate(items):
        p = path.index(i)
        if not item.key:
            errs.append(required(p.child("key"), ""))
        if not item.path:
            errs.append(required(p.child("path"), ""))
        else:
            errs += local_descending_path(item.path, p.child("path"))
        errs += _validate_mode(item, "mode", p.child("mode"))
    return errs


def _validate_secret(src: volume_pb2.SecretVolumeSource, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not src.secret_name:
        errs.append(required(path.child("secretName"), ""))
    errs += _validate_mode(src, "default_mode", path.child("defaultMode"))
    errs += _validate_key_to_paths(src.items, path.child("items"))
    return errs


def _validate_config_map(
    src: volume_pb2.ConfigMapVolumeSource, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    if not src.name:
        errs.append(required(path.child("name"), ""))
    else:
        errs += [invalid(path.child("name"), src.name, m) for m in is_dns1123_subdomain(src.name)]
    errs += _validate_mode(src, "default_mode", path.child("defaultMode"))
    errs += _validate_key_to_paths(src.items, path.child("items"))
    return errs


def validate_nfs(src: volume_pb2.NFSVolumeSource, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not src.server:
        errs.append(required(path.child("server"), ""))
    if not src.path:
        errs.append(required(path.child("path"), ""))
    elif not src.path.startswith("/"):
        errs.append(invalid(path.child("path"), src.path, "must be an absolute path"))
    return errs


def _validate_pvc_source(
    src: volume_pb2.PersistentVolumeClaimVolumeSource, path: FieldPath
) -> list[FieldError]:
    if not src.claim_name:
        return [required(path.child("claimName"), "")]
    return []


def _validate_downward_api(
    src: volume_pb2.DownwardAPIVolumeSource, path: FieldPath
) -> list[FieldError]:
    errs = _validate_mode(src, "default_mode", path.child("defaultMode"))
    for i, item in enumerate(src.items):
        p = path.child("items").index(i)
        if not item.path:
            errs.append(required(p.child("path"), ""))
        else:
            errs += local_descending_path(item.path, p.child("path"))
        errs += _validate_mode(item, "mode", p.child("mode"))
        has_field, has_res = item.HasField("field_ref"), item.HasField("resource_field_ref")
        if has_field and has_res:
            errs.append(
                invalid(
                    p,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                )
            )
        elif has_field:
            errs += validate_object_field_selector(
                item.field_ref, VOLUME_FIELD_PATHS, p.child("fieldRef")
            )
        elif has_res:
            errs += validate_resource_field_selector(
                item.resource_field_ref, p.child("resourceFieldRef"), volume=True
            )
        else:
            errs.append(required(p, "one of fieldRef and resourceFieldRef is required"))
    return errs


def _validate_projected(src: volume_pb2.ProjectedVolumeSource, path: FieldPath) -> list[FieldError]:
    errs = _validate_mode(src, "default_mode", path.child("defaultMode"))
    names = (
        "secret",
        "downward_api",
        "config_map",
        "service_account_token",
        "cluster_trust_bundle",
        "pod_certificate",
    )
    for i, proj in enumerate(src.sources):
        p = path.child("sources").index(i)
        set_names = [n for n in names if proj.HasField(n)]
        if len(set_names) != 1:
            errs.append(
                forbidden(p, "may not specify more than 1 volume type per source")
                if set_names
                else required(p, "must specify exactly 1 volume type")
            )
        if proj.HasField("service_account_token"):
            token = proj.service_account_token
            if not token.path:
                errs.append(required(p.child("serviceAccountToken", "path"), ""))
            seconds = opt(token, "expiration_seconds")
            if seconds is not None and seconds < 600:
                errs.append(
                    invalid(
                        p.child("serviceAccountToken", "expirationSeconds"),
                        seconds,
                        "may not specify a duration less than 10 minutes",
                    )
                )
    return errs


def _validate_csi(src: volume_pb2.CSIVolumeSource, path: FieldPath) -> list[FieldError]:
    if not src.driver:
        return [required(path.child("driver"), "")]
    return []


def _validate_ephemeral(src: volume_pb2.EphemeralVolumeSource, path: FieldPath) -> list[FieldError]:
    if not src.HasField("volume_claim_template"):
        return [required(path.child("volumeClaimTemplate"), "")]
    tpl = src.volume_claim_template
    p = path.child("volumeClaimTemplate")
    errs = validate_labels(tpl.metadata.labels, p.child("metadata", "labels"))
    errs += validate_pvc_spec(tpl.spec, p.child("spec"))
    return errs


def _validate_image(src: volume_pb2.ImageVolumeSource, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not src.reference:
        errs.append(required(path.child("reference"), ""))
    if src.pull_policy and src.pull_policy not in PULL_POLICIES:
        errs.append(not_supported(path.child("pullPolicy"), src.pull_policy, PULL_POLICIES))
    return errs


# A volume source's check takes that source's message (read by name from the
# Volume's oneof, so typed Any here: each check names its own message type).
_SOURCE_CHECKS: dict[str, Callable[[Any, FieldPath], list[FieldError]]] = {
    "host_path": validate_host_path,
    "empty_dir": _validate_empty_dir,
    "secret": _validate_secret,
    "nfs": validate_nfs,
    "persistent_volume_claim": _validate_pvc_source,
    "downward_api": _validate_downward_api,
    "config_map": _validate_config_map,
    "projected": _validate_projected,
    "csi": _validate_csi,
    "ephemeral": _validate_ephemeral,
    "image": _validate_image,
}
