"""Kubernetes' defaults of a PodSpec and PodTemplateSpec (`pkg/apis/core/v1/defaults.go`).

`default_pod_spec` is SetDefaults_PodSpec plus the defaults of everything inside a
spec (containers, ports, probes, handlers, env, volumes); `default_pod` adds what
Kubernetes applies to a Pod only, never to a template (requests copied from
limits, enableServiceLinks, host-network ports).
"""

from __future__ import annotations

from pinnace.api.core.v1 import container_pb2, pod_pb2, volume_pb2

from .constants import (
    DEFAULT_SCHEDULER_NAME,
    DEFAULT_TERMINATION_GRACE_SECONDS,
    DEFAULT_VOLUME_MODE,
    TERMINATION_MESSAGE_PATH,
    VOLUME_SOURCES,
)


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


def _default_volume(vol: volume_pb2.Volume) -> None:
    if not any(vol.HasField(s) for s in VOLUME_SOURCES):
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
