"""Validation of a pod's containers and init containers: image, ports, env, volume
mounts, resources, probes and hooks (Kubernetes' validateContainers,
validateInitContainers)."""

from __future__ import annotations

from collections.abc import Iterable

from pinnace.api.core.v1 import container_pb2, pod_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    not_supported,
    required,
)

from ..common import (
    Shown,
    inclusive_range,
    is_valid_port_name,
    not_found,
)
from .constants import ENV_FIELD_PATHS, PROTOCOLS, PULL_POLICIES
from .fieldrefs import (
    validate_key_selector,
    validate_object_field_selector,
    validate_resource_field_selector,
)
from .paths import local_descending_path
from .probes import validate_lifecycle, validate_probes
from .resources import validate_resource_requirements

_NO_INIT_MSG = "may not be set for init containers without restartPolicy=Always"


def validate_containers(
    spec: pod_pb2.PodSpec, volumes: set[str], grace: int | None, path: FieldPath
) -> list[FieldError]:
    if not spec.containers:
        return [required(path, "")]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, ctr in enumerate(spec.containers):
        p = path.index(i)
        errs += _validate_container_common(ctr, volumes, p)
        if ctr.name in names:
            errs.append(duplicate(p.child("name"), ctr.name))
        names.add(ctr.name)
        if ctr.HasField("lifecycle"):
            errs += validate_lifecycle(ctr.lifecycle, grace, p.child("lifecycle"))
        errs += validate_probes(ctr, p)
        if ctr.HasField("restart_policy"):
            errs.append(
                forbidden(p.child("restartPolicy"), "may not be set for non-init containers")
            )
    return errs


def validate_init_containers(
    spec: pod_pb2.PodSpec, volumes: set[str], grace: int | None, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    names = {c.name for c in spec.containers}
    for i, ctr in enumerate(spec.init_containers):
        p = path.index(i)
        errs += _validate_container_common(ctr, volumes, p)
        sidecar = False
        if ctr.HasField("restart_policy"):
            if ctr.restart_policy == "Always":
                sidecar = True
            else:
                errs.append(not_supported(p.child("restartPolicy"), ctr.restart_policy, ["Always"]))
        if ctr.name in names:
            errs.append(duplicate(p.child("name"), ctr.name))
        elif ctr.name:
            names.add(ctr.name)
        if sidecar:
            if ctr.HasField("lifecycle"):
                errs += validate_lifecycle(ctr.lifecycle, grace, p.child("lifecycle"))
            errs += validate_probes(ctr, p)
        else:
            for field, json_name in (
                ("lifecycle", "lifecycle"),
                ("liveness_probe", "livenessProbe"),
                ("readiness_probe", "readinessProbe"),
                ("startup_probe", "startupProbe"),
            ):
                if ctr.HasField(field):
                    errs.append(forbidden(p.child(json_name), _NO_INIT_MSG))
        if ctr.resize_policy:
            errs.append(
                invalid(
                    p.child("resizePolicy"),
                    Shown(list(ctr.resize_policy)),
                    "must not be set for init containers",
                )
            )
    return errs


def _validate_container_common(
    ctr: container_pb2.Container, volumes: set[str], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    if not ctr.name:
        errs.append(required(path.child("name"), ""))
    else:
        errs += [invalid(path.child("name"), ctr.name, m) for m in is_dns1123_label(ctr.name)]
    if not ctr.image:
        errs.append(required(path.child("image"), ""))
    elif ctr.image != ctr.image.strip():
        errs.append(
            invalid(path.child("image"), ctr.image, "must not have leading or trailing whitespace")
        )
    tmp = ctr.termination_message_policy
    if not tmp:
        errs.append(
            required(
                path.child("terminationMessagePolicy"), "must be 'File' or 'FallbackToLogsOnError'"
            )
        )
    elif tmp not in ("File", "FallbackToLogsOnError"):
        errs.append(
            invalid(
                path.child("terminationMessagePolicy"),
                tmp,
                "must be 'File' or 'FallbackToLogsOnError'",
            )
        )
    errs += _validate_ports(ctr.ports, path.child("ports"))
    errs += _validate_env(ctr.env, path.child("env"))
    errs += _validate_env_from(ctr.env_from, path.child("envFrom"))
    errs += _validate_volume_mounts(ctr.volume_mounts, volumes, path.child("volumeMounts"))
    pull = ctr.image_pull_policy
    if not pull:
        errs.append(required(path.child("imagePullPolicy"), ""))
    elif pull not in PULL_POLICIES:
        errs.append(not_supported(path.child("imagePullPolicy"), pull, PULL_POLICIES))
    errs += validate_resource_requirements(ctr.resources, path.child("resources"))
    return errs


def _validate_ports(
    ports: Iterable[container_pb2.ContainerPort], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        p = path.index(i)
        if port.name:
            msgs = is_valid_port_name(port.name)
            if msgs:
                errs += [invalid(p.child("name"), port.name, m) for m in msgs]
            elif port.name in names:
                errs.append(duplicate(p.child("name"), port.name))
            else:
                names.add(port.name)
        if port.container_port == 0:
            errs.append(required(p.child("containerPort"), ""))
        elif not 1 <= port.container_port <= 65535:
            errs.append(
                invalid(p.child("containerPort"), port.container_port, inclusive_range(1, 65535))
            )
        if port.host_port != 0 and not 1 <= port.host_port <= 65535:
            errs.append(invalid(p.child("hostPort"), port.host_port, inclusive_range(1, 65535)))
        if not port.protocol:
            errs.append(required(p.child("protocol"), ""))
        elif port.protocol not in PROTOCOLS:
            errs.append(not_supported(p.child("protocol"), port.protocol, PROTOCOLS))
    return errs


def _validate_env(env: Iterable[container_pb2.EnvVar], path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, var in enumerate(env):
        p = path.index(i)
        if not var.name:
            errs.append(required(p.child("name"), ""))
        else:
            errs += [invalid(p.child("name"), var.name, m) for m in is_env_var_name(var.name)]
        if var.HasField("value_from"):
            errs += _validate_env_value_from(var, p.child("valueFrom"))
    return errs


def _validate_env_value_from(var: container_pb2.EnvVar, path: FieldPath) -> list[FieldError]:
    src = var.value_from
    errs: list[FieldError] = []
    count = 0
    if src.HasField("field_ref"):
        count += 1
        errs += validate_object_field_selector(
            src.field_ref, ENV_FIELD_PATHS, path.child("fieldRef")
        )
    if src.HasField("resource_field_ref"):
        count += 1
        errs += validate_resource_field_selector(
            src.resource_field_ref, path.child("resourceFieldRef"), volume=False
        )
    for field, json_name in (
        ("config_map_key_ref", "configMapKeyRef"),
        ("secret_key_ref", "secretKeyRef"),
    ):
        if src.HasField(field):
            count += 1
            errs += validate_key_selector(getattr(src, field), path.child(json_name))
    if src.HasField("file_key_ref"):
        count += 1
        ref = src.file_key_ref
        for field, json_name in (("volume_name", "volumeName"), ("path", "path"), ("key", "key")):
            if not getattr(ref, field):
                errs.append(required(path.child("fileKeyRef", json_name), ""))
    if count == 0:
        errs.append(
            invalid(
                path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            )
        )
    elif var.value:
        errs.append(invalid(path, "", "may not be specified when `value` is not empty"))
    elif count > 1:
        errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs


def _validate_env_from(
    sources: Iterable[container_pb2.EnvFromSource], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, src in enumerate(sources):
        p = path.index(i)
        if src.prefix:
            errs += [invalid(p.child("prefix"), src.prefix, m) for m in is_env_var_name(src.prefix)]
        count = 0
        for field, json_name in (("config_map_ref", "configMapRef"), ("secret_ref", "secretRef")):
            if src.HasField(field):
                count += 1
                ref = getattr(src, field)
                rp = p.child(json_name, "name")
                if not ref.name:
                    errs.append(required(rp, ""))
                else:
                    errs += [invalid(rp, ref.name, m) for m in is_dns1123_subdomain(ref.name)]
        if count == 0:
            errs.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs


def _validate_volume_mounts(
    mounts: Iterable[container_pb2.VolumeMount], volumes: set[str], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    mount_points: set[str] = set()
    for i, mnt in enumerate(mounts):
        p = path.index(i)
        if not mnt.name:
            errs.append(required(p.child("name"), ""))
        if mnt.name not in volumes:
            errs.append(not_found(p.child("name"), mnt.name))
        if not mnt.mount_path:
            errs.append(required(p.child("mountPath"), ""))
        if mnt.mount_path in mount_points:
            errs.append(invalid(p.child("mountPath"), mnt.mount_path, "must be unique"))
        mount_points.add(mnt.mount_path)
        if mnt.sub_path:
            errs += local_descending_path(mnt.sub_path, p.child("subPath"))
        if mnt.sub_path_expr:
            if mnt.sub_path:
                errs.append(
                    invalid(
                        p.child("subPathExpr"),
                        mnt.sub_path_expr,
                        "subPathExpr and subPath are mutually exclusive",
                    )
                )
            errs += local_descending_path(mnt.sub_path_expr, p.child("subPathExpr"))
        if mnt.HasField("mount_propagation"):
            allowed = ("Bidirectional", "HostToContainer", "None")
            if mnt.mount_propagation not in allowed:
                errs.append(
                    not_supported(p.child("mountPropagation"), mnt.mount_propagation, allowed)
                )
    return errs
