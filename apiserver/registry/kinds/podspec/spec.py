"""ValidatePodSpec and ValidatePodTemplateSpec: the whole spec, from the parts in the
sibling modules. Same rules, same field paths, same wording as Kubernetes;
every function returns all errors, never raises."""

from __future__ import annotations

from collections.abc import Iterable

from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    not_supported,
    required,
    validate_annotations,
    validate_labels,
    validate_nonnegative,
)

from ..common import (
    INT32_MAX,
    Shown,
    inclusive_range,
    opt,
)
from .constants import DNS_POLICIES, RESTART_POLICIES
from .containers import validate_containers, validate_init_containers
from .scheduling import validate_affinity, validate_tolerations, validate_topology_spread
from .volumes import validate_volumes


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
    volumes, errs = validate_volumes(spec.volumes, path.child("volumes"))
    volumes.update(extra_volumes)
    errs += validate_containers(spec, volumes, grace, path.child("containers"))
    errs += validate_init_containers(spec, volumes, grace, path.child("initContainers"))
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
        errs += validate_affinity(spec.affinity, path.child("affinity"))
    errs += validate_tolerations(spec.tolerations, path.child("tolerations"))
    errs += validate_topology_spread(spec.topology_spread_constraints, path)
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
