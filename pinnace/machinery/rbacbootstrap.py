"""Putting the bootstrap RBAC policy (rbacdefaults) in place at apiserver
start: Kubernetes' "rbac/bootstrap-roles" post-start hook.

`ensure_bootstrap_rbac(api)` goes through every bootstrap ClusterRole, then
every bootstrap ClusterRoleBinding, and for each (`reconcile_cluster_role`,
`reconcile_cluster_role_binding`, pure):

* missing: created as defined;
* annotated ``rbac.authorization.kubernetes.io/autoupdate: "false"``: left
  exactly as it is (the way to opt a default object out);
* otherwise reconciled additively, as Kubernetes does at each start:
  default rules, aggregation selectors and subjects that are missing are
  added; nothing the object holds is ever removed, so a user's extra rules
  and subjects stay; default labels and annotations are added where the
  object has none of that key (the object's own values win). A binding
  whose roleRef is not the default one is deleted and created again with
  the default roleRef (a roleRef cannot be changed in place), keeping its
  subjects.

So it is idempotent: a second call on the same cluster changes nothing, and
several apiservers starting together converge (a write that loses a race,
AlreadyExists, Conflict or NotFound, is redone from a fresh read).

Rules compare by equality, not by coverage: a default rule that a wider
rule of the object already covers is still added (harmless, and it keeps
this module free of the authorizer's matching).

``api`` is anything with ``resource(kind_info, namespace)`` returning a
handle with async get/create/update/delete raising pinnace.machinery.errors
(pinnace.client.AsyncClient is one; the apiserver wraps its own verbs).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from google.protobuf.message import Message

from pinnace.api.meta.v1 import meta_pb2
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import errors, kinds
from pinnace.machinery.kinds import KindInfo
from pinnace.machinery.rbac import AUTOUPDATE_ANNOTATION
from pinnace.machinery.rbacdefaults import bootstrap_policy

log = logging.getLogger(__name__)

CREATE = "create"
UPDATE = "update"
RECREATE = "recreate"  # delete, then create (a binding's roleRef changed)
UNCHANGED = "unchanged"
PROTECTED = "protected"  # autoupdate "false": left alone

ATTEMPTS = 5

M = TypeVar("M", rbac_pb2.ClusterRole, rbac_pb2.ClusterRoleBinding)
T = TypeVar("T")
E = TypeVar("E", bound=Message)


class Handle(Protocol):
    """One kind's verbs (pinnace.client's AsyncResourceClient has them)."""

    async def get(self, name: str) -> Any: ...
    async def create(self, obj: Any) -> Any: ...
    async def update(self, obj: Any) -> Any: ...
    async def delete(self, name: str) -> Any: ...


class ResourceAccess(Protocol):
    """What ensure_bootstrap_rbac writes through (pinnace.client.AsyncClient is one)."""

    def resource(self, kind: KindInfo, namespace: str = ...) -> Handle: ...


@dataclass(frozen=True)
class Reconciled(Generic[T]):
    """What to do with one bootstrap object: ``action`` and the object to write."""

    action: str
    obj: T


def _protected(meta: meta_pb2.ObjectMeta) -> bool:
    return meta.annotations.get(AUTOUPDATE_ANNOTATION) == "false"


def _encoded(msg: Message) -> bytes:
    return msg.SerializeToString(deterministic=True)


def _merged_meta(existing: meta_pb2.ObjectMeta, expected: meta_pb2.ObjectMeta) -> bool:
    """Add expected's labels and annotations the existing object lacks; True if any."""
    changed = False
    for have, want in (
        (existing.labels, expected.labels),
        (existing.annotations, expected.annotations),
    ):
        for key, value in want.items():
            if key not in have:
                have[key] = value
                changed = True
    return changed


def _missing(have: Iterable[E], want: Iterable[E]) -> list[E]:
    """The elements of ``want`` (rules, selectors, subjects) ``have`` lacks."""
    keys = {_encoded(m) for m in have}
    return [m for m in want if _encoded(m) not in keys]


def reconcile_cluster_role(
    existing: rbac_pb2.ClusterRole | None, expected: rbac_pb2.ClusterRole
) -> Reconciled[rbac_pb2.ClusterRole]:
    """Kubernetes' ReconcileRoleOptions with RemoveExtraPermissions off."""
    if existing is None:
        return Reconciled(CREATE, _copy(expected))
    if _protected(existing.metadata):
        return Reconciled(PROTECTED, existing)
    result = _copy(existing)
    changed = _merged_meta(result.metadata, expected.metadata)
    missing_rules = _missing(result.rules, expected.rules)
    result.rules.extend(missing_rules)
    if expected.HasField("aggregation_rule"):
        have = result.aggregation_rule.cluster_role_selectors
        missing_selectors = _missing(have, expected.aggregation_rule.cluster_role_selectors)
        have.extend(missing_selectors)
        changed |= bool(missing_selectors) or not existing.HasField("aggregation_rule")
    changed |= bool(missing_rules)
    return Reconciled(UPDATE if changed else UNCHANGED, result)


def reconcile_cluster_role_binding(
    existing: rbac_pb2.ClusterRoleBinding | None, expected: rbac_pb2.ClusterRoleBinding
) -> Reconciled[rbac_pb2.ClusterRoleBinding]:
    """Kubernetes' ReconcileRoleBindingOptions with RemoveExtraSubjects off."""
    if existing is None:
        return Reconciled(CREATE, _copy(expected))
    if _protected(existing.metadata):
        return Reconciled(PROTECTED, existing)
    result = _copy(existing)
    changed = _merged_meta(result.metadata, expected.metadata)
    missing = _missing(result.subjects, expected.subjects)
    result.subjects.extend(missing)
    changed |= bool(missing)
    if _encoded(result.role_ref) != _encoded(expected.role_ref):
        result.role_ref.CopyFrom(expected.role_ref)
        return Reconciled(RECREATE, result)
    return Reconciled(UPDATE if changed else UNCHANGED, result)


def _copy(obj: M) -> M:
    out = type(obj)()
    out.CopyFrom(obj)
    return out


def _fresh(obj: M) -> M:
    """obj without server-set metadata, to create it anew."""
    out = _copy(obj)
    meta = out.metadata
    for name in ("uid", "resource_version", "creation_timestamp", "generation", "managed_fields"):
        meta.ClearField(name)
    return out


async def _get(handle: Handle, name: str) -> Any | None:
    try:
        return await handle.get(name)
    except errors.NotFound:
        return None


async def _apply(handle: Handle, planned: Reconciled[Any]) -> None:
    name = planned.obj.metadata.name
    if planned.action == CREATE:
        await handle.create(planned.obj)
    elif planned.action == UPDATE:
        await handle.update(planned.obj)
    elif planned.action == RECREATE:
        await handle.delete(name)
        await handle.create(_fresh(planned.obj))


async def _ensure_one(handle: Handle, expected: Any, reconcile: Any) -> str:
    """Reconcile one object, redoing it from a fresh read when a write loses a race."""
    name = expected.metadata.name
    for attempt in range(ATTEMPTS):
        planned = reconcile(await _get(handle, name), expected)
        try:
            await _apply(handle, planned)
        except (errors.AlreadyExists, errors.Conflict, errors.NotFound):
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return str(planned.action)
    raise AssertionError("unreachable")


async def ensure_bootstrap_rbac(api: ResourceAccess) -> dict[str, str]:
    """Create or reconcile every bootstrap ClusterRole and ClusterRoleBinding;
    returns "<resource>/<name>" -> the action taken (create, update,
    recreate, unchanged, protected)."""
    policy = bootstrap_policy()
    roles = api.resource(kinds.lookup("clusterroles"), "")
    bindings = api.resource(kinds.lookup("clusterrolebindings"), "")
    done: dict[str, str] = {}
    for role in policy.cluster_roles:
        action = await _ensure_one(roles, role, reconcile_cluster_role)
        done[f"clusterroles/{role.metadata.name}"] = action
    for binding in policy.cluster_role_bindings:
        action = await _ensure_one(bindings, binding, reconcile_cluster_role_binding)
        done[f"clusterrolebindings/{binding.metadata.name}"] = action
    changed = {k: v for k, v in done.items() if v not in (UNCHANGED, PROTECTED)}
    if changed:
        log.info("bootstrap RBAC: %s", ", ".join(f"{v} {k}" for k, v in changed.items()))
    return done


__all__ = [
    "CREATE",
    "PROTECTED",
    "RECREATE",
    "UNCHANGED",
    "UPDATE",
    "Handle",
    "Reconciled",
    "ResourceAccess",
    "ensure_bootstrap_rbac",
    "reconcile_cluster_role",
    "reconcile_cluster_role_binding",
]
