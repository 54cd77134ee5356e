"""Validation of a container's probes and lifecycle hooks (validateProbe, validateHandler)."""

from __future__ import annotations

from google.protobuf.message import Message

from pinnace.api.core.v1 import container_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    invalid,
    not_supported,
    required,
    validate_nonnegative,
)

from ..common import (
    inclusive_range,
    one_of,
    opt,
    validate_port_num_or_name,
)

_ONE_HANDLER_MSG = "may not specify more than 1 handler type"


def validate_probes(ctr: container_pb2.Container, path: FieldPath) -> list[FieldError]:
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
    handler: Message, kinds: tuple[str, ...], grace: int | None, path: FieldPath
) -> list[FieldError]:
    kind, extra = one_of(handler, kinds, _HANDLER_JSON, path, _ONE_HANDLER_MSG)
    if kind is None:
        return [required(path, "must specify a handler type")]
    p = path.child(_HANDLER_JSON[kind])
    errs: list[FieldError] = []
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
    return errs + extra


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


def validate_lifecycle(
    lifecycle: container_pb2.Lifecycle, grace: int | None, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    kinds = ("exec", "http_get", "tcp_socket", "sleep")
    if lifecycle.HasField("post_start"):
        errs += _validate_handler(lifecycle.post_start, kinds, grace, path.child("postStart"))
    if lifecycle.HasField("pre_stop"):
        errs += _validate_handler(lifecycle.pre_stop, kinds, grace, path.child("preStop"))
    return errs
