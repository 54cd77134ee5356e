"""PodSpec and PodTemplateSpec: Kubernetes' defaults and validation.

Used by Pod and by the template of every workload kind (RC, ReplicaSet,
Deployment, StatefulSet, DaemonSet, Job, CronJob's job template).

Defaults follow `pkg/apis/core/v1/defaults.go`: `default_pod_spec` is
SetDefaults_PodSpec plus the defaults of everything inside a spec
(containers, ports, probes, handlers, env, volumes); `default_pod` adds what
Kubernetes applies to a Pod only, never to a template (requests copied from
limits, enableServiceLinks, host-network ports).

Validation follows `pkg/apis/core/validation/validation.go` (ValidatePodSpec
and ValidatePodTemplateSpec): same rules, same field paths, same wording.
Every function returns all errors, never raises.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from pinnace.api.core.v1 import affinity_pb2, container_pb2, pod_pb2, volume_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_qualified_name,
    is_valid_label_value,
    not_supported,
    required,
    validate_annotations,
    validate_label_selector,
    validate_labels,
    validate_nonnegative,
)

from .common import (
    INT32_MAX,
    Shown,
    inclusive_range,
    not_found,
    opt,
    quantity,
    validate_port_num_or_name,
    validate_quantity,
)

DEFAULT_TERMINATION_GRACE_SECONDS = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_VOLUME_MODE = 0o644  # 420

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("SCTP", "TCP", "UDP")
HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
VOLUME_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)
RESOURCE_FIELD_REFS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_NO_INIT_MSG = "may not be set for init containers without restartPolicy=Always"
_ONE_HANDLER_MSG = "may not specify more than 1 handler type"
_ONE_VOLUME_MSG = "may not specify more than 1 volume type"

# ============================================================================ defaults


def default_pod_template(template: pod_pb2.PodTemplateSpec) -> None:
    """The defaults Kubernetes applies to a PodTemplateSpec (its spec only)."""
    default_pod_spec(template.spec)


def default_pod(pod: pod_pb2.Pod) -> None:
    """SetDefaults_Pod (Pod only) plus SetDefaults_PodSpec."""
    spec = pod.spec
    for ctr in (*spec.init_containers, *spec.containers):
        res = ctr.resources
        for name, value in res.limits.items():
            if name not in res.requests:
                res.requests[name] = value
    if not spec.HasField("enable_service_links"):
        spec.enable_service_links = True
    if spec.host_network:
        _default_host_network_ports(spec)
    default_pod_spec(spec)


def _default_host_network_ports(spec: pod_pb2.PodSpec) -> None:
    for ctr in (*spec.init_containers, *spec.containers):
        for port in ctr.ports:
            if port.host_port == 0:
                port.host_port = port.container_port


def default_pod_spec(spec: pod_pb2.PodSpec) -> None:
    """SetDefaults_PodSpec and the defaults of every part of a PodSpec."""
    if not spec.dns_policy:
        spec.dns_policy = "ClusterFirst"
    if not spec.restart_policy:
        spec.restart_policy = "Always"
    if not spec.HasField("security_context"):
        spec.security_context.SetInParent()
    if not spec.HasField("termination_grace_period_seconds"):
        spec.termination_grace_period_seconds = DEFAULT_TERMINATION_GRACE_SECONDS
    if not spec.scheduler_name:
        spec.scheduler_name = DEFAULT_SCHEDULER_NAME
    for ctr in (*spec.init_containers, *spec.containers):
        _default_container(ctr)
    for vol in spec.volumes:
        _default_volume(vol)


def _default_container(ctr: container_pb2.Container) -> None:
    if not ctr.image_pull_policy:
        ctr.image_pull_policy = "Always" if image_tag(ctr.image) == "latest" else "IfNotPresent"
    if not ctr.termination_message_path:
        ctr.termination_message_path = TERMINATION_MESSAGE_PATH
    if not ctr.termination_message_policy:
        ctr.termination_message_policy = "File"
    for port in ctr.ports:
        if not port.protocol:
            port.protocol = "TCP"
    for env in ctr.env:
        if env.HasField("value_from") and env.value_from.HasField("field_ref"):
            if not env.value_from.field_ref.api_version:
                env.value_from.field_ref.api_version = "v1"
    for name in ("liveness_probe", "readiness_probe", "startup_probe"):
        if ctr.HasField(name):
            _default_probe(getattr(ctr, name))
    if ctr.HasField("lifecycle"):
        for name in ("post_start", "pre_stop"):
            if ctr.lifecycle.HasField(name):
                handler = getattr(ctr.lifecycle, name)
                if handler.HasField("http_get"):
                    _default_http_get(handler.http_get)


def _default_probe(probe: container_pb2.Probe) -> None:
    if probe.timeout_seconds == 0:
        probe.timeout_seconds = 1
    if probe.period_seconds == 0:
        probe.period_seconds = 10
    if probe.success_threshold == 0:
        probe.success_threshold = 1
    if probe.failure_threshold == 0:
        probe.failure_threshold = 3
    if probe.HasField("http_get"):
        _default_http_get(probe.http_get)


def _default_http_get(action: container_pb2.HTTPGetAction) -> None:
    if not action.path:
        action.path = "/"
    if not action.scheme:
        action.scheme = "HTTP"


_VOLUME_SOURCES = (
    "host_path",
    "empty_dir",
    "secret",
    "nfs",
    "persistent_volume_claim",
    "downward_api",
    "config_map",
    "projected",
    "csi",
    "ephemeral",
    "image",
)
_SOURCE_JSON = {
    "host_path": "hostPath",
    "empty_dir": "emptyDir",
    "secret": "secret",
    "nfs": "nfs",
    "persistent_volume_claim": "persistentVolumeClaim",
    "downward_api": "downwardAPI",
    "config_map": "configMap",
    "projected": "projected",
    "csi": "csi",
    "ephemeral": "ephemeral",
    "image": "image",
}


def _default_volume(vol: volume_pb2.Volume) -> None:
    if not any(vol.HasField(s) for s in _VOLUME_SOURCES):
        vol.empty_dir.SetInParent()
    if vol.HasField("host_path") and not vol.host_path.HasField("type"):
        vol.host_path.type = ""
    for name in ("secret", "config_map", "downward_api", "projected"):
        if vol.HasField(name):
            src = getattr(vol, name)
            if not src.HasField("default_mode"):
                src.default_mode = DEFAULT_VOLUME_MODE
    if vol.HasField("downward_api"):
        for item in vol.downward_api.items:
            if item.HasField("field_ref") and not item.field_ref.api_version:
                item.field_ref.api_version = "v1"
    if vol.HasField("projected"):
        for src in vol.projected.sources:
            if src.HasField("service_account_token"):
                token = src.service_account_token
                if not token.HasField("expiration_seconds"):
                    token.expiration_seconds = 3600


def image_tag(image: str) -> str:
    """The tag Kubernetes' ParseImageName finds: "latest" when neither a tag
    nor a digest is given; "" for a digest without a tag or an empty image."""
    if not image:
        return ""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    if not tag and not digest:
        return "latest"
    return tag


# ========================================================================== validation


def validate_pod_template(
    template: pod_pb2.PodTemplateSpec,
    path: FieldPath,
    *,
    extra_volumes: Iterable[str] = (),
) -> list[FieldError]:
    """Kubernetes' ValidatePodTemplateSpec. Its metadata is reported at
    ``<path>.labels`` / ``<path>.annotations``, as Kubernetes does."""
    meta = template.metadata
    errs = validate_labels(meta.labels, path.child("labels"))
    errs += validate_annotations(meta.annotations, path.child("annotations"))
    errs += validate_pod_spec(template.spec, path.child("spec"), extra_volumes=extra_volumes)
    if template.spec.ephemeral_containers:
        errs.append(
            forbidden(
                path.child("spec", "ephemeralContainers"),
                "ephemeral containers not allowed in pod template",
            )
        )
    return errs


def validate_pod_spec(
    spec: pod_pb2.PodSpec, path: FieldPath, *, extra_volumes: Iterable[str] = ()
) -> list[FieldError]:
    """Kubernetes' ValidatePodSpec."""
    grace = opt(spec, "termination_grace_period_seconds")
    volumes, errs = _validate_volumes(spec.volumes, path.child("volumes"))
    volumes.update(extra_volumes)
    errs += _validate_containers(spec, volumes, grace, path.child("containers"))
    errs += _validate_init_containers(spec, volumes, grace, path.child("initContainers"))
    errs += _validate_restart_policy(spec.restart_policy, path.child("restartPolicy"))
    errs += _validate_dns_policy(spec, path)
    errs += validate_labels(spec.node_selector, path.child("nodeSelector"))
    if spec.service_account_name:
        errs += [
            invalid(path.child("serviceAccountName"), spec.service_account_name, m)
            for m in is_dns1123_subdomain(spec.service_account_name)
        ]
    if spec.node_name:
        errs += [
            invalid(path.child("nodeName"), spec.node_name, m)
            for m in is_dns1123_subdomain(spec.node_name)
        ]
    if spec.HasField("active_deadline_seconds"):
        value = spec.active_deadline_seconds
        if not 1 <= value <= INT32_MAX:
            errs.append(
                invalid(path.child("activeDeadlineSeconds"), value, inclusive_range(1, INT32_MAX))
            )
    if grace is not None:
        errs += validate_nonnegative(grace, path.child("terminationGracePeriodSeconds"))
    for name in ("hostname", "subdomain"):
        value = getattr(spec, name)
        if value:
            errs += [invalid(path.child(name), value, m) for m in is_dns1123_label(value)]
    if spec.HasField("affinity"):
        errs += _validate_affinity(spec.affinity, path.child("affinity"))
    errs += validate_tolerations(spec.tolerations, path.child("tolerations"))
    errs += _validate_topology_spread(spec.topology_spread_constraints, path)
    for i, gate in enumerate(spec.readiness_gates):
        p = path.child("readinessGates").index(i).child("conditionType")
        errs += [invalid(p, gate.condition_type, m) for m in is_qualified_name(gate.condition_type)]
    if spec.host_network:
        errs += _validate_host_network_ports(spec, path)
    return errs


def _validate_restart_policy(policy: str, path: FieldPath) -> list[FieldError]:
    if policy in RESTART_POLICIES:
        return []
    if not policy:
        return [required(path, "")]
    return [not_supported(path, policy, RESTART_POLICIES)]


def _validate_dns_policy(spec: pod_pb2.PodSpec, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    policy = spec.dns_policy
    if not policy:
        errs.append(required(path.child("dnsPolicy"), ""))
    elif policy not in DNS_POLICIES:
        errs.append(not_supported(path.child("dnsPolicy"), policy, DNS_POLICIES))
    if policy == "None" and not spec.HasField("dns_config"):
        errs.append(
            required(path.child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None")
        )
    if spec.HasField("dns_config"):
        cfg = spec.dns_config
        if len(cfg.nameservers) > 3:
            errs.append(
                invalid(
                    path.child("dnsConfig", "nameservers"),
                    Shown(list(cfg.nameservers)),
                    "must not have more than 3 nameservers",
                )
            )
        if policy == "None" and not cfg.nameservers:
            errs.append(
                required(
                    path.child("dnsConfig", "nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                )
            )
    return errs


def _validate_host_network_ports(spec: pod_pb2.PodSpec, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for field, ctrs in (("initContainers", spec.init_containers), ("containers", spec.containers)):
        for i, ctr in enumerate(ctrs):
            for j, port in enumerate(ctr.ports):
                if port.host_port != port.container_port:
                    errs.append(
                        invalid(
                            path.child(field).index(i).child("ports").index(j).child("hostPort"),
                            port.host_port,
                            "must match `containerPort` when `hostNetwork` is true",
                        )
                    )
    return errs


# ------------------------------------------------------------------------- volumes


def _validate_volumes(
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
    errs: list[FieldError] = []
    count = 0
    for source in _VOLUME_SOURCES:
        if not vol.HasField(source):
            continue
        p = path.child(_SOURCE_JSON[source])
        if count:
            errs.append(forbidden(p, _ONE_VOLUME_MSG))
            continue
        count += 1
        errs += _SOURCE_CHECKS[source](getattr(vol, source), p)
    if count == 0:
        errs.append(required(path, "must specify a volume type"))
    return errs


def validate_host_path(src: volume_pb2.HostPathVolumeSource, path: FieldPath) -> list[FieldError]:
    if not src.path:
        return [required(path.child("path"), "")]
    errs = _no_backsteps(src.path, path.child("path"))
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


def _validate_mode(msg, name: str, path: FieldPath) -> list[FieldError]:
    mode = opt(msg, name)
    if mode is not None and not 0 <= mode <= 0o777:
        return [invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive")]
    return []


def _validate_key_to_paths(items, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, item in enumerate(items):
        p = path.index(i)
        if not item.key:
            errs.append(required(p.child("key"), ""))
        if not item.path:
            errs.append(required(p.child("path"), ""))
        else:
            errs += _local_descending_path(item.path, p.child("path"))
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
            errs += _local_descending_path(item.path, p.child("path"))
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
            errs += _validate_object_field_selector(
                item.field_ref, VOLUME_FIELD_PATHS, p.child("fieldRef")
            )
        elif has_res:
            errs += _validate_resource_field_selector(
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
    from .core import validate_pvc_spec  # the PVC rules live with the PVC kind

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


_SOURCE_CHECKS = {
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


def _no_backsteps(target: str, path: FieldPath) -> list[FieldError]:
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def _local_descending_path(target: str, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if posixpath.isabs(target):
        errs.append(invalid(path, target, "must be a relative path"))
    errs += _no_backsteps(target, path)
    return errs


# ---------------------------------------------------------------------- containers


def _validate_containers(
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
            errs += _validate_lifecycle(ctr.lifecycle, grace, p.child("lifecycle"))
        errs += _validate_probes(ctr, p)
        if ctr.HasField("restart_policy"):
            errs.append(
                forbidden(p.child("restartPolicy"), "may not be set for non-init containers")
            )
    return errs


def _validate_init_containers(
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
                errs += _validate_lifecycle(ctr.lifecycle, grace, p.child("lifecycle"))
            errs += _validate_probes(ctr, p)
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
    from .common import is_valid_port_name

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
        errs += _validate_object_field_selector(
            src.field_ref, ENV_FIELD_PATHS, path.child("fieldRef")
        )
    if src.HasField("resource_field_ref"):
        count += 1
        errs += _validate_resource_field_selector(
            src.resource_field_ref, path.child("resourceFieldRef"), volume=False
        )
    for field, json_name in (
        ("config_map_key_ref", "configMapKeyRef"),
        ("secret_key_ref", "secretKeyRef"),
    ):
        if src.HasField(field):
            count += 1
            errs += _validate_key_selector(getattr(src, field), path.child(json_name))
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


def _validate_object_field_selector(
    ref, supported: tuple[str, ...], path: FieldPath
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


def _validate_resource_field_selector(ref, path: FieldPath, *, volume: bool) -> list[FieldError]:
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


def _validate_key_selector(ref, path: FieldPath) -> list[FieldError]:
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
            errs += _local_descending_path(mnt.sub_path, p.child("subPath"))
        if mnt.sub_path_expr:
            if mnt.sub_path:
                errs.append(
                    invalid(
                        p.child("subPathExpr"),
                        mnt.sub_path_expr,
                        "subPathExpr and subPath are mutually exclusive",
                    )
                )
            errs += _local_descending_path(mnt.sub_path_expr, p.child("subPathExpr"))
        if mnt.HasField("mount_propagation"):
            allowed = ("Bidirectional", "HostToContainer", "None")
            if mnt.mount_propagation not in allowed:
                errs.append(
                    not_supported(p.child("mountPropagation"), mnt.mount_propagation, allowed)
                )
    return errs


# ------------------------------------------------------------------------ resources


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
    if errs:
        return errs
    value = quantity(text)
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


# --------------------------------------------------------------- probes, handlers


def _validate_probes(ctr: container_pb2.Container, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for field, json_name, must_be_one in (
        ("liveness_probe", "livenessProbe", True),
        ("readiness_probe", "readinessProbe", False),
        ("startup_probe", "startupProbe", True),
    ):
        if not ctr.HasField(field):
            continue
        probe = getattr(ctr, field)
        p = path.child(json_name)
        errs += validate_probe(probe, p)
        if must_be_one and probe.success_threshold != 1:
            errs.append(invalid(p.child("successThreshold"), probe.success_threshold, "must be 1"))
    return errs


def validate_probe(probe: container_pb2.Probe, path: FieldPath) -> list[FieldError]:
    """Kubernetes' validateProbe: exactly one handler, non-negative timings."""
    errs = _validate_handler(probe, ("exec", "http_get", "tcp_socket", "grpc"), None, path)
    for field, json_name in (
        ("initial_delay_seconds", "initialDelaySeconds"),
        ("timeout_seconds", "timeoutSeconds"),
        ("period_seconds", "periodSeconds"),
        ("success_threshold", "successThreshold"),
        ("failure_threshold", "failureThreshold"),
    ):
        errs += validate_nonnegative(getattr(probe, field), path.child(json_name))
    grace = opt(probe, "termination_grace_period_seconds")
    if grace is not None and grace <= 0:
        errs.append(
            invalid(path.child("terminationGracePeriodSeconds"), grace, "must be greater than 0")
        )
    return errs


_HANDLER_JSON = {
    "exec": "exec",
    "http_get": "httpGet",
    "tcp_socket": "tcpSocket",
    "grpc": "grpc",
    "sleep": "sleep",
}


def _validate_handler(
    handler, kinds: tuple[str, ...], grace: int | None, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for kind in kinds:
        if not handler.HasField(kind):
            continue
        p = path.child(_HANDLER_JSON[kind])
        if count:
            errs.append(forbidden(p, _ONE_HANDLER_MSG))
            continue
        count += 1
        action = getattr(handler, kind)
        if kind == "exec":
            if not action.command:
                errs.append(required(p.child("command"), ""))
        elif kind == "http_get":
            errs += _validate_http_get(action, p)
        elif kind == "tcp_socket":
            errs += validate_port_num_or_name(opt(action, "port"), p.child("port"))
        elif kind == "grpc":
            if not 1 <= action.port <= 65535:
                errs.append(invalid(p.child("port"), action.port, inclusive_range(1, 65535)))
        elif kind == "sleep" and grace is not None and not 0 <= action.seconds <= grace:
            errs.append(
                invalid(
                    p,
                    action.seconds,
                    f"must be non-negative and less than terminationGracePeriodSeconds ({grace})",
                )
            )
    if count == 0:
        errs.append(required(path, "must specify a handler type"))
    return errs


def _validate_http_get(action: container_pb2.HTTPGetAction, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not action.path:
        errs.append(required(path.child("path"), ""))
    errs += validate_port_num_or_name(opt(action, "port"), path.child("port"))
    if action.scheme not in ("HTTP", "HTTPS"):
        errs.append(not_supported(path.child("scheme"), action.scheme, ["HTTP", "HTTPS"]))
    for i, header in enumerate(action.http_headers):
        name = header.name
        if not name or any(not (c.isascii() and (c.isalnum() or c == "-")) for c in name):
            errs.append(
                invalid(
                    path.child("httpHeaders").index(i).child("name"),
                    name,
                    "a valid HTTP header must consist of alphanumeric characters or '-' "
                    "(e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')",
                )
            )
    return errs


def _validate_lifecycle(
    lifecycle: container_pb2.Lifecycle, grace: int | None, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    kinds = ("exec", "http_get", "tcp_socket", "sleep")
    if lifecycle.HasField("post_start"):
        errs += _validate_handler(lifecycle.post_start, kinds, grace, path.child("postStart"))
    if lifecycle.HasField("pre_stop"):
        errs += _validate_handler(lifecycle.pre_stop, kinds, grace, path.child("preStop"))
    return errs


# ------------------------------------------------------------- scheduling constraints


def validate_tolerations(
    tolerations: Iterable[affinity_pb2.Toleration], path: FieldPath
) -> list[FieldError]:
    """Kubernetes' ValidateTolerations."""
    errs: list[FieldError] = []
    for i, tol in enumerate(tolerations):
        p = path.index(i)
        if tol.key:
            errs += [invalid(p.child("key"), tol.key, m) for m in is_qualified_name(tol.key)]
        if not tol.key and tol.operator != "Exists":
            errs.append(
                invalid(
                    p.child("operator"),
                    tol.operator,
                    'operator must be Exists when `key` is empty, which means "match all values and all keys"',
                )
            )
        if tol.HasField("toleration_seconds") and tol.effect != "NoExecute":
            errs.append(
                invalid(
                    p.child("effect"),
                    tol.effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
        if tol.operator in ("Equal", ""):
            errs += [
                invalid(p.child("operator"), tol.value, m) for m in is_valid_label_value(tol.value)
            ]
        elif tol.operator == "Exists":
            if tol.value:
                errs.append(
                    invalid(
                        p.child("operator"),
                        tol.value,
                        "value must be empty when `operator` is 'Exists'",
                    )
                )
        else:
            errs.append(not_supported(p.child("operator"), tol.operator, ["Equal", "Exists"]))
        if tol.effect and tol.effect not in TAINT_EFFECTS:
            errs.append(not_supported(p.child("effect"), tol.effect, TAINT_EFFECTS))
    return errs


def validate_node_selector(
    selector: affinity_pb2.NodeSelector, path: FieldPath
) -> list[FieldError]:
    """Kubernetes' ValidateNodeSelector (required terms)."""
    terms_path = path.child("nodeSelectorTerms")
    if not selector.node_selector_terms:
        return [required(terms_path, "must have at least one node selector term")]
    errs: list[FieldError] = []
    for i, term in enumerate(selector.node_selector_terms):
        errs += _validate_node_selector_term(term, terms_path.index(i))
    return errs


def _validate_node_selector_term(
    term: affinity_pb2.NodeSelectorTerm, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    for j, req in enumerate(term.match_expressions):
        errs += _validate_node_selector_requirement(req, path.child("matchExpressions").index(j))
    for j, req in enumerate(term.match_fields):
        errs += _validate_node_field_requirement(req, path.child("matchFields").index(j))
    return errs


def _validate_node_selector_requirement(
    req: affinity_pb2.NodeSelectorRequirement, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    values_path = path.child("values")
    op = req.operator
    if op in ("In", "NotIn"):
        if not req.values:
            errs.append(
                required(values_path, "must be specified when `operator` is 'In' or 'NotIn'")
            )
    elif op in ("Exists", "DoesNotExist"):
        if req.values:
            errs.append(
                forbidden(
                    values_path,
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
    elif op in ("Gt", "Lt"):
        if len(req.values) != 1:
            errs.append(
                required(
                    values_path, "must be specified single value when `operator` is 'Lt' or 'Gt'"
                )
            )
    else:
        errs.append(invalid(path.child("operator"), op, "not a valid selector operator"))
    errs += [invalid(path.child("key"), req.key, m) for m in is_qualified_name(req.key)]
    for k, value in enumerate(req.values):
        errs += [invalid(values_path.index(k), value, m) for m in is_valid_label_value(value)]
    return errs


def _validate_node_field_requirement(
    req: affinity_pb2.NodeSelectorRequirement, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    if req.operator in ("In", "NotIn"):
        if len(req.values) != 1:
            errs.append(
                required(
                    path.child("values"),
                    "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                )
            )
    else:
        errs.append(invalid(path.child("operator"), req.operator, "not a valid selector operator"))
    if req.key != "metadata.name":
        errs.append(invalid(path.child("key"), req.key, "not a valid field selector key"))
    else:
        for k, value in enumerate(req.values):
            errs += [
                invalid(path.child("values").index(k), value, m)
                for m in is_dns1123_subdomain(value)
            ]
    return errs


def _validate_weight(weight: int, path: FieldPath) -> list[FieldError]:
    if 1 <= weight <= 100:
        return []
    return [invalid(path, weight, "must be in the range 1-100")]


def _validate_pod_affinity_term(
    term: affinity_pb2.PodAffinityTerm, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    if term.HasField("label_selector"):
        errs += validate_label_selector(term.label_selector, path.child("labelSelector"))
    if term.HasField("namespace_selector"):
        errs += validate_label_selector(term.namespace_selector, path.child("namespaceSelector"))
    for k, ns in enumerate(term.namespaces):
        errs += [invalid(path.child("namespaces").index(k), ns, m) for m in is_dns1123_label(ns)]
    if not term.topology_key:
        errs.append(required(path.child("topologyKey"), "can not be empty"))
    else:
        errs += [
            invalid(path.child("topologyKey"), term.topology_key, m)
            for m in is_qualified_name(term.topology_key)
        ]
    return errs


def _validate_affinity(aff: affinity_pb2.Affinity, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if aff.HasField("node_affinity"):
        na = aff.node_affinity
        p = path.child("nodeAffinity")
        if na.HasField("required_during_scheduling_ignored_during_execution"):
            errs += validate_node_selector(
                na.required_during_scheduling_ignored_during_execution,
                p.child("requiredDuringSchedulingIgnoredDuringExecution"),
            )
        for i, term in enumerate(na.preferred_during_scheduling_ignored_during_execution):
            tp = p.child("preferredDuringSchedulingIgnoredDuringExecution").index(i)
            errs += _validate_weight(term.weight, tp.child("weight"))
            errs += _validate_node_selector_term(term.preference, tp.child("preference"))
    for field, json_name in (
        ("pod_affinity", "podAffinity"),
        ("pod_anti_affinity", "podAntiAffinity"),
    ):
        if not aff.HasField(field):
            continue
        pa = getattr(aff, field)
        p = path.child(json_name)
        for i, term in enumerate(pa.required_during_scheduling_ignored_during_execution):
            errs += _validate_pod_affinity_term(
                term, p.child("requiredDuringSchedulingIgnoredDuringExecution").index(i)
            )
        for i, wterm in enumerate(pa.preferred_during_scheduling_ignored_during_execution):
            tp = p.child("preferredDuringSchedulingIgnoredDuringExecution").index(i)
            errs += _validate_weight(wterm.weight, tp.child("weight"))
            errs += _validate_pod_affinity_term(
                wterm.pod_affinity_term, tp.child("podAffinityTerm")
            )
    return errs


def _validate_topology_spread(constraints, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, c in enumerate(constraints):
        p = path.child("topologySpreadConstraints").index(i)
        if c.max_skew <= 0:
            errs.append(invalid(p.child("maxSkew"), c.max_skew, "must be greater than zero"))
        if not c.topology_key:
            errs.append(required(p.child("topologyKey"), "can not be empty"))
        else:
            errs += [
                invalid(p.child("topologyKey"), c.topology_key, m)
                for m in is_qualified_name(c.topology_key)
            ]
        allowed = ("DoNotSchedule", "ScheduleAnyway")
        if c.when_unsatisfiable not in allowed:
            errs.append(not_supported(p.child("whenUnsatisfiable"), c.when_unsatisfiable, allowed))
        key = (c.topology_key, c.when_unsatisfiable)
        if key in seen:
            errs.append(duplicate(p, f"{{{c.topology_key}, {c.when_unsatisfiable}}}"))
        seen.add(key)
        if c.HasField("label_selector"):
            errs += validate_label_selector(c.label_selector, p.child("labelSelector"))
    return errs


__all__ = [
    "DEFAULT_SCHEDULER_NAME",
    "DEFAULT_TERMINATION_GRACE_SECONDS",
    "default_pod",
    "default_pod_spec",
    "default_pod_template",
    "image_tag",
    "is_config_map_key",
    "validate_host_path",
    "validate_nfs",
    "validate_node_selector",
    "validate_pod_spec",
    "validate_pod_template",
    "validate_probe",
    "validate_resource_requirements",
    "validate_tolerations",
]
