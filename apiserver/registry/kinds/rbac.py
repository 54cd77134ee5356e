"""Strategies of rbac.authorization.k8s.io/v1: Role, ClusterRole,
RoleBinding, ClusterRoleBinding (Kubernetes' pkg/apis/rbac/validation and
the v1 defaults).

Names of roles and bindings only need to be usable as a URL path segment
(Kubernetes' minimalNameRequirements: not "." or "..", no "/" or "%"), so
"system:kube-scheduler" is a valid name. A rule grants verbs either on
resources (with apiGroups) or on nonResourceURLs, never both, and a
namespaced Role cannot name URLs. A binding's roleRef is fixed at create:
changing what a binding grants means deleting it and making another, so an
authorizer never sees a binding silently switch roles.
"""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import rbac as names
from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    _path_segment_messages,
    invalid,
    is_dns1123_subdomain,
    not_supported,
    required,
    validate_label_selector,
)

from .common import Shown, go_quote_list, same

RULES = FieldPath.root("rules")
ROLE_REF = FieldPath.root("roleRef")
SUBJECTS = FieldPath.root("subjects")
SELECTORS = FieldPath.root("aggregationRule", "clusterRoleSelectors")


def path_segment_name(name: str) -> list[str]:
    """Kubernetes' IsValidPathSegmentName: the only rule for RBAC names."""
    return _path_segment_messages(name)


# ------------------------------------------------------------------ rules


def validate_policy_rule(
    rule: rbac_pb2.PolicyRule, path: FieldPath, *, namespaced: bool
) -> list[FieldError]:
    """Kubernetes' validatePolicyRule."""
    errs: list[FieldError] = []
    if not rule.verbs:
        errs.append(required(path.child("verbs"), "verbs must contain at least one value"))
    if rule.non_resource_urls:
        urls = go_quote_list(list(rule.non_resource_urls))
        urls_path = path.child("nonResourceURLs")
        if namespaced:
            errs.append(
                invalid(urls_path, urls, "namespaced rules cannot apply to non-resource URLs")
            )
        if rule.api_groups or rule.resources or rule.resource_names:
            errs.append(
                invalid(
                    urls_path,
                    urls,
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            )
        return errs
    if not rule.api_groups:
        errs.append(
            required(path.child("apiGroups"), "resource rules must supply at least one api group")
        )
    if not rule.resources:
        errs.append(
            required(path.child("resources"), "resource rules must supply at least one resource")
        )
    if rule.resource_names and len(rule.resources) > 1:
        errs.append(
            required(
                path.child("resourceNames"), "resource names cannot apply to multiple resources"
            )
        )
    return errs


def validate_rules(rules: list[rbac_pb2.PolicyRule], *, namespaced: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        errs += validate_policy_rule(rule, RULES.index(i), namespaced=namespaced)
    return errs


def validate_aggregation_rule(role: rbac_pb2.ClusterRole) -> list[FieldError]:
    """A ClusterRole's aggregationRule, when set, has at least one valid selector."""
    if not role.HasField("aggregation_rule"):
        return []
    selectors = role.aggregation_rule.cluster_role_selectors
    if not selectors:
        return [
            required(
                SELECTORS, "at least one clusterRoleSelector required if aggregationRule is non-nil"
            )
        ]
    errs: list[FieldError] = []
    for i, selector in enumerate(selectors):
        errs += validate_label_selector(selector, SELECTORS.index(i))
    return errs


# ------------------------------------------------------------------ bindings


def default_binding(binding: rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding) -> None:
    """SetDefaults_RoleBinding / _ClusterRoleBinding and SetDefaults_Subject:
    roleRef's apiGroup and a User's or Group's apiGroup default to the RBAC group."""
    if not binding.role_ref.api_group:
        binding.role_ref.api_group = names.GROUP
    for subject in binding.subjects:
        if not subject.api_group and subject.kind in (names.USER_KIND, names.GROUP_KIND):
            subject.api_group = names.GROUP


def validate_role_ref(ref: rbac_pb2.RoleRef, kinds: tuple[str, ...]) -> list[FieldError]:
    errs: list[FieldError] = []
    if ref.api_group != names.GROUP:
        errs.append(not_supported(ROLE_REF.child("apiGroup"), ref.api_group, (names.GROUP,)))
    if ref.kind not in kinds:
        errs.append(not_supported(ROLE_REF.child("kind"), ref.kind, kinds))
    name_path = ROLE_REF.child("name")
    if not ref.name:
        errs.append(required(name_path))
    else:
        errs += [invalid(name_path, ref.name, m) for m in path_segment_name(ref.name)]
    return errs


def validate_subject(
    subject: rbac_pb2.Subject, path: FieldPath, *, namespaced: bool
) -> list[FieldError]:
    """Kubernetes' validateRoleBindingSubject."""
    errs: list[FieldError] = []
    name_path, group_path = path.child("name"), path.child("apiGroup")
    if not subject.name:
        errs.append(required(name_path))
    if subject.kind == names.SERVICE_ACCOUNT_KIND:
        if subject.name:
            errs += [
                invalid(name_path, subject.name, m) for m in is_dns1123_subdomain(subject.name)
            ]
        if subject.api_group:
            errs.append(not_supported(group_path, subject.api_group, ("",)))
        if not namespaced and not subject.namespace:
            errs.append(required(path.child("namespace")))
    elif subject.kind in (names.USER_KIND, names.GROUP_KIND):
        if not subject.name:
            what = "user" if subject.kind == names.USER_KIND else "group"
            errs.append(invalid(name_path, "", f"{what} name cannot be empty"))
        if subject.api_group != names.GROUP:
            errs.append(not_supported(group_path, subject.api_group, (names.GROUP,)))
    else:
        errs.append(not_supported(path.child("kind"), subject.kind, names.SUBJECT_KINDS))
    return errs


def validate_binding(
    binding: rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding,
    *,
    namespaced: bool,
) -> list[FieldError]:
    kinds = (names.ROLE_KIND, names.CLUSTER_ROLE_KIND) if namespaced else (names.CLUSTER_ROLE_KIND,)
    errs = validate_role_ref(binding.role_ref, kinds)
    for i, subject in enumerate(binding.subjects):
        errs += validate_subject(subject, SUBJECTS.index(i), namespaced=namespaced)
    return errs


def role_ref_unchanged(
    new: rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding,
    old: rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding,
) -> list[FieldError]:
    if same(new.role_ref, old.role_ref):
        return []
    return [invalid(ROLE_REF, Shown(new.role_ref), "cannot change roleRef")]


# ------------------------------------------------------------------ strategies


class RoleStrategy(Strategy[rbac_pb2.Role]):
    def validate_name(self, name: str) -> list[str]:
        return path_segment_name(name)

    def validate(self, obj: rbac_pb2.Role) -> list[FieldError]:
        return validate_rules(list(obj.rules), namespaced=True)


class ClusterRoleStrategy(Strategy[rbac_pb2.ClusterRole]):
    def validate_name(self, name: str) -> list[str]:
        return path_segment_name(name)

    def validate(self, obj: rbac_pb2.ClusterRole) -> list[FieldError]:
        return validate_rules(list(obj.rules), namespaced=False) + validate_aggregation_rule(obj)


class RoleBindingStrategy(Strategy[rbac_pb2.RoleBinding]):
    def validate_name(self, name: str) -> list[str]:
        return path_segment_name(name)

    def default(self, obj: rbac_pb2.RoleBinding) -> None:
        default_binding(obj)

    def validate(self, obj: rbac_pb2.RoleBinding) -> list[FieldError]:
        return validate_binding(obj, namespaced=True)

    def validate_update(
        self, new: rbac_pb2.RoleBinding, old: rbac_pb2.RoleBinding
    ) -> list[FieldError]:
        return self.validate(new) + role_ref_unchanged(new, old)


class ClusterRoleBindingStrategy(Strategy[rbac_pb2.ClusterRoleBinding]):
    def validate_name(self, name: str) -> list[str]:
        return path_segment_name(name)

    def default(self, obj: rbac_pb2.ClusterRoleBinding) -> None:
        default_binding(obj)

    def validate(self, obj: rbac_pb2.ClusterRoleBinding) -> list[FieldError]:
        return validate_binding(obj, namespaced=False)

    def validate_update(
        self, new: rbac_pb2.ClusterRoleBinding, old: rbac_pb2.ClusterRoleBinding
    ) -> list[FieldError]:
        return self.validate(new) + role_ref_unchanged(new, old)


__all__ = [
    "ClusterRoleBindingStrategy",
    "ClusterRoleStrategy",
    "RoleBindingStrategy",
    "RoleStrategy",
    "validate_policy_rule",
    "validate_subject",
]
