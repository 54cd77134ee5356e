"""The Node strategy (core/validation ValidateNode, ValidateNodeUpdate)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from apiserver.registry.strategy import Strategy
from pinnace.api.core.v1 import affinity_pb2, node_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_qualified_name,
    is_valid_label_value,
    not_supported,
    required,
)

from . import podspec
from .common import (
    Shown,
    validate_resource_list,
)

SPEC = FieldPath.root("spec")
STATUS = FieldPath.root("status")
POD_CIDR_SET_ONCE = 'node updates may not change podCIDR except from "" to valid'


class NodeStrategy(Strategy[node_pb2.Node]):
    field_labels = ("spec.unschedulable",)

    def field_values(self, obj: node_pb2.Node) -> dict[str, str]:
        return {"spec.unschedulable": "true" if obj.spec.unschedulable else "false"}

    def prepare_for_create(self, obj: node_pb2.Node) -> None:
        """Unlike most kinds, a Node keeps the status it is created with: the
        kubelet registers its node with capacity and conditions (Kubernetes'
        node strategy does not clear it)."""

    def default(self, obj: node_pb2.Node) -> None:
        """SetDefaults_NodeStatus: allocatable defaults to capacity."""
        status = obj.status
        if not status.allocatable and status.capacity:
            status.allocatable.update(status.capacity)

    def validate(self, obj: node_pb2.Node) -> list[FieldError]:
        spec = obj.spec
        errs = _validate_taints(spec.taints, SPEC.child("taints"))
        if spec.pod_cidr:
            errs += _validate_cidr(spec.pod_cidr, SPEC.child("podCIDR"))
        cidrs_path = SPEC.child("podCIDRs")
        for i, cidr in enumerate(spec.pod_cidrs):
            errs += _validate_cidr(cidr, cidrs_path.index(i))
        if len(spec.pod_cidrs) > 1:
            families = set()
            for cidr in spec.pod_cidrs:
                try:
                    families.add(ipaddress.ip_network(cidr, strict=False).version)
                except ValueError:
                    pass
            if len(spec.pod_cidrs) > 2 or len(families) != 2:
                errs.append(
                    invalid(
                        cidrs_path,
                        Shown(list(spec.pod_cidrs)),
                        "may specify no more than one CIDR for each IP family",
                    )
                )
        errs += validate_resource_list(obj.status.capacity, STATUS.child("capacity"))
        errs += validate_resource_list(obj.status.allocatable, STATUS.child("allocatable"))
        return errs

    def validate_update(self, new: node_pb2.Node, old: node_pb2.Node) -> list[FieldError]:
        errs = self.validate(new)
        ns, os_ = new.spec, old.spec
        if os_.pod_cidr and ns.pod_cidr != os_.pod_cidr:
            errs.append(forbidden(SPEC.child("podCIDR"), POD_CIDR_SET_ONCE))
        elif _pod_cidrs(os_) and _pod_cidrs(ns) != _pod_cidrs(os_):
            errs.append(forbidden(SPEC.child("podCIDRs"), POD_CIDR_SET_ONCE))
        if os_.provider_id and ns.provider_id != os_.provider_id:
            errs.append(
                forbidden(
                    SPEC.child("providerID"),
                    'node updates may not change providerID except from "" to valid',
                )
            )
        return errs

    def validate_status_update(self, new: node_pb2.Node, old: node_pb2.Node) -> list[FieldError]:
        return self.validate(new)


def _pod_cidrs(spec: node_pb2.NodeSpec) -> list[str]:
    """The node's podCIDRs as Kubernetes stores them: a lone v1 ``podCIDR``
    is ``podCIDRs: [podCIDR]`` (Convert_v1_NodeSpec_To_core_NodeSpec), so
    a Node created with only ``podCIDR`` cannot get other podCIDRs later."""
    if spec.pod_cidrs:
        return list(spec.pod_cidrs)
    return [spec.pod_cidr] if spec.pod_cidr else []


def _validate_cidr(value: str, path: FieldPath) -> list[FieldError]:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return [
            invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
        ]
    if "/" not in value:
        return [
            invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
        ]
    return []


def _validate_taints(taints: Iterable[affinity_pb2.Taint], path: FieldPath) -> list[FieldError]:
    """Kubernetes' validateNodeTaints: valid key/value, a known effect, unique
    by key and effect."""
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(taints):
        p = path.index(i)
        errs += [invalid(p.child("key"), taint.key, m) for m in is_qualified_name(taint.key)]
        msgs = is_valid_label_value(taint.value)
        if msgs:
            errs.append(invalid(p.child("value"), taint.value, ";".join(msgs)))
        if not taint.effect:
            errs.append(required(p.child("effect"), ""))
        elif taint.effect not in podspec.TAINT_EFFECTS:
            errs.append(not_supported(p.child("effect"), taint.effect, podspec.TAINT_EFFECTS))
        key = (taint.key, taint.effect)
        if key in seen:
            err = duplicate(p, f"{taint.key}:{taint.effect}")
            errs.append(
                type(err)(
                    err.type, err.field, err.value, "taints must be unique by key and effect pair"
                )
            )
            continue
        seen.add(key)
    return errs
