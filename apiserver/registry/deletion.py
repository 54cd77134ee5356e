"""What a delete does to an object, decided without touching storage.

Kubernetes' graceful deletion (staging/.../registry/rest/delete.go and the
generic store's ``updateForGracefulDeletionAndFinalizers``):

* The propagation policy (explicit option, else a finalizer already on the
  object, else the kind's default) becomes the ``orphan`` or
  ``foregroundDeletion`` finalizer, which the garbage collector acts on.
* A kind that grants a grace period (pods on a node) gets
  ``deletionTimestamp = now + grace`` and stays until its kubelet confirms;
  a second delete may only shorten the deadline.
* An object held by finalizers (or by the kind, as a namespace by its spec
  finalizers) gets ``deletionTimestamp = now`` and stays until they are gone.
* Otherwise the object can be removed at once.

``begin_delete`` applies this to a private copy; ``Verbs.delete`` writes the
result with a compare-and-swap on the revision it read. A delete of several
objects (a collection, a namespace's contents) tries every one and reports
every failure at once through ``aggregate`` (Kubernetes' NewAggregate).
"""

from __future__ import annotations

from datetime import timedelta

from apiserver.registry.strategy import M, Strategy
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import errors
from pinnace.machinery.objects import object_meta
from pinnace.machinery.timeutil import format_rfc3339, parse_rfc3339
from pinnace.machinery.wellknown import FINALIZER_FOREGROUND_DELETION, FINALIZER_ORPHAN

POLICIES = ("Orphan", "Background", "Foreground")


def validate_delete_options(options: meta_pb2.DeleteOptions) -> None:
    """Reject options Kubernetes rejects (400 Bad Request)."""
    if options.HasField("grace_period_seconds") and options.grace_period_seconds < 0:
        raise errors.BadRequest(
            f"gracePeriodSeconds: Invalid value: {options.grace_period_seconds}: must be >= 0"
        )
    policy = options.propagation_policy if options.HasField("propagation_policy") else None
    if policy is not None and policy not in POLICIES:
        raise errors.BadRequest(
            f'propagationPolicy: Unsupported value: "{policy}": supported values: "Background", "Foreground", "Orphan"'
        )
    if policy is not None and options.HasField("orphan_dependents"):
        raise errors.BadRequest("propagationPolicy and orphanDependents cannot both be set")


def check_preconditions(
    qualified: str, name: str, meta: meta_pb2.ObjectMeta, rv: int, pre: meta_pb2.Preconditions
) -> None:
    """A delete's preconditions (uid, resourceVersion) against the stored
    object; 409 with Kubernetes' message when one does not hold."""
    if pre.HasField("uid") and pre.uid != meta.uid:
        raise errors.PreconditionFailed(
            f'Operation cannot be fulfilled on {qualified} "{name}": Precondition failed:'
            f" UID in precondition: {pre.uid}, UID in object meta: {meta.uid}"
        )
    if pre.HasField("resource_version") and pre.resource_version != str(rv):
        raise errors.PreconditionFailed(
            f'Operation cannot be fulfilled on {qualified} "{name}": Precondition failed:'
            f" ResourceVersion in precondition: {pre.resource_version}, ResourceVersion in object meta: {rv}"
        )


def propagation(
    options: meta_pb2.DeleteOptions, finalizers: list[str], default: str, deleting: bool
) -> str | None:
    """Which policy a delete applies (None: leave finalizers as they are).
    Explicit options win, then finalizers already on the object, then the
    kind's default."""
    if options.HasField("propagation_policy"):
        return options.propagation_policy
    if options.HasField("orphan_dependents"):
        return "Orphan" if options.orphan_dependents else "Background"
    if FINALIZER_ORPHAN in finalizers or FINALIZER_FOREGROUND_DELETION in finalizers or deleting:
        return None
    return default


def finalizers_for(policy: str | None, finalizers: list[str]) -> list[str]:
    """The finalizers after applying ``policy``: Orphan and Foreground each
    replace the other's finalizer with their own; Background drops both."""
    dependents = (FINALIZER_ORPHAN, FINALIZER_FOREGROUND_DELETION)
    if policy == "Orphan":
        own, other = FINALIZER_ORPHAN, FINALIZER_FOREGROUND_DELETION
    elif policy == "Foreground":
        own, other = FINALIZER_FOREGROUND_DELETION, FINALIZER_ORPHAN
    elif policy == "Background":
        return [f for f in finalizers if f not in dependents]
    else:
        return finalizers
    return [f for f in finalizers if f != other] + ([own] if own not in finalizers else [])


def begin_delete(strategy: Strategy[M], obj: M, options: meta_pb2.DeleteOptions, now: str) -> bool:
    """Apply deletion to ``obj`` in place; True when the object must stay
    (graceful termination, finalizers), False when it can go now."""
    meta = object_meta(obj)
    deleting = bool(meta.deletion_timestamp)
    policy = propagation(options, list(meta.finalizers), strategy.default_delete_policy, deleting)
    finalizers = finalizers_for(policy, list(meta.finalizers))
    del meta.finalizers[:]
    meta.finalizers.extend(finalizers)

    grace = strategy.grace_period(obj, options)
    if grace > 0:
        deadline = add_seconds(now, grace)
        if not meta.deletion_timestamp or (
            meta.HasField("deletion_grace_period_seconds")
            and grace < meta.deletion_grace_period_seconds
        ):
            meta.deletion_timestamp = (
                min(deadline, meta.deletion_timestamp) if meta.deletion_timestamp else deadline
            )
            meta.deletion_grace_period_seconds = grace
        return True
    if finalizers or strategy.deletion_blocked(obj):
        if not meta.deletion_timestamp:
            meta.deletion_timestamp = now
        meta.deletion_grace_period_seconds = 0
        strategy.prepare_for_delete(obj)
        return True
    return False


def add_seconds(rfc3339: str, seconds: int) -> str:
    """An RFC 3339 time ``seconds`` later."""
    return format_rfc3339(parse_rfc3339(rfc3339) + timedelta(seconds=seconds))
