"""Validation of where a pod may run: tolerations, node selectors, affinity and
topology spread constraints."""

from __future__ import annotations

from collections.abc import Iterable

from pinnace.api.core.v1 import affinity_pb2
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    not_supported,
    required,
    validate_label_selector,
)

from .constants import TAINT_EFFECTS


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


def validate_affinity(aff: affinity_pb2.Affinity, path: FieldPath) -> list[FieldError]:
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


def validate_topology_spread(
    constraints: Iterable[affinity_pb2.TopologySpreadConstraint], path: FieldPath
) -> list[FieldError]:
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
