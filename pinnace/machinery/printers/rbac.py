"""Columns of rbac.authorization.k8s.io kinds (printers.go, 1.32).

Role and ClusterRole: Name and Created At (type date, the RFC 3339 time as
it is; kubectl prints "2026-01-01T11:55:00Z", not an age). RoleBinding and
ClusterRoleBinding: Name, Role ("ClusterRole/view"), Age; -o wide adds the
bound Users, Groups and ServiceAccounts, each joined with ", ", a
ServiceAccount as "namespace/name" (Kubernetes' SubjectsStrings; a
RoleBinding's ServiceAccount without a namespace prints as "/name").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import rbac
from pinnace.machinery.printers.columns import (
    AGE,
    NAME,
    Cell,
    ColumnDefinition,
    Printer,
    age,
    column,
    parse_time,
)
from pinnace.machinery.timeutil import format_rfc3339

__all__ = ["CLUSTER_ROLE", "CLUSTER_ROLE_BINDING", "ROLE", "ROLE_BINDING", "subjects_strings"]

_ZERO_TIME = "0001-01-01T00:00:00Z"


def _role_cells(role: rbac_pb2.Role | rbac_pb2.ClusterRole, now: datetime) -> list[Cell]:
    when = parse_time(role.metadata.creation_timestamp)
    return [role.metadata.name, format_rfc3339(when) if when is not None else _ZERO_TIME]


_ROLE_COLUMNS = (NAME, column("Created At", "date", "ObjectMeta.creationTimestamp"))
ROLE = Printer(columns=_ROLE_COLUMNS, cells=_role_cells)
CLUSTER_ROLE = Printer(columns=_ROLE_COLUMNS, cells=_role_cells)


def subjects_strings(subjects: Iterable[rbac_pb2.Subject]) -> tuple[str, str, str]:
    """A binding's users, groups and service accounts, each joined with ", "."""
    users: list[str] = []
    groups: list[str] = []
    sas: list[str] = []
    for s in subjects:
        if s.kind == rbac.USER_KIND:
            users.append(s.name)
        elif s.kind == rbac.GROUP_KIND:
            groups.append(s.name)
        elif s.kind == rbac.SERVICE_ACCOUNT_KIND:
            sas.append(f"{s.namespace}/{s.name}")
    return ", ".join(users), ", ".join(groups), ", ".join(sas)


def _binding_cells(
    binding: rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding, now: datetime
) -> list[Cell]:
    ref = binding.role_ref
    users, groups, sas = subjects_strings(binding.subjects)
    return [binding.metadata.name, f"{ref.kind}/{ref.name}", age(binding, now), users, groups, sas]


def _binding_columns(role_doc: str) -> tuple[ColumnDefinition, ...]:
    return (
        NAME,
        column("Role", doc=role_doc),
        AGE,
        column("Users", doc="Users in the roleBinding", priority=1),
        column("Groups", doc="Groups in the roleBinding", priority=1),
        column("ServiceAccounts", doc="ServiceAccounts in the roleBinding", priority=1),
    )


ROLE_BINDING = Printer(columns=_binding_columns("RoleBinding.roleRef"), cells=_binding_cells)
CLUSTER_ROLE_BINDING = Printer(
    columns=_binding_columns("ClusterRoleBinding.roleRef"), cells=_binding_cells
)
