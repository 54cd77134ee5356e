"""Claiming: which objects an owner controls (Kubernetes' ``ClaimPods`` and
``ClaimControllerRevisions`` in controller_ref_manager.go), shared by every
controller that owns pods or ControllerRevisions.

Claiming decides which objects an owner controls, object by object
(``claim_objects``; Kubernetes' ``claimObject``):

* controlled by the owner (by uid) and matching its selector: kept;
* controlled by the owner but no longer matching: released (its
  ownerReference removed), unless the owner is being deleted;
* controlled by anybody else: never touched;
* an orphan that matches, is not being deleted, and whose owner is not
  being deleted: adopted (a controller ownerReference added). Before the
  first adoption of a call the owner is read from the API (not the cache),
  so a deleted or re-created owner never adopts (Kubernetes #42639).

``claim_pods`` and ``claim_revisions`` are that rule for pods and for
ControllerRevisions: a DaemonSet or StatefulSet created again with the
selector of one deleted with ``--cascade=orphan`` adopts its orphaned
revisions (keeping their numbers, so pods already at the current revision
are not restarted) as well as its pods.

Adoption and release are merge patches guarded by the object's uid and
resourceVersion: an object changed since the cache saw it (another
controller adopted it first) makes the patch fail with a conflict, and the
sync is retried on fresh data. Every object is tried; then the failures are
raised together (``errors.raise_aggregate``, Kubernetes' NewAggregate).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from controllers.controllerref import adoption_patch, controller_ref, release_patch
from pinnace.api.apps.v1 import controllerrevision_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import errors
from pinnace.machinery.labels import Selector

log = logging.getLogger(__name__)


class ApiObject(Protocol):
    """Anything with object metadata (a pod, a ControllerRevision, ...)."""

    @property
    def metadata(self) -> Any: ...


T = TypeVar("T", bound=ApiObject)


class OwnerGone(errors.Conflict):
    """The owner was deleted or re-created since the cache saw it: it must not adopt."""


Patch = Callable[[str, dict], Awaitable[Any]]
"""patch(name, merge patch) -> the patched object."""


async def claim_objects(
    owner: Any,
    objects: Sequence[T],
    *,
    selector: Selector,
    patch: Callable[[str, dict], Awaitable[T]],
    recheck_owner: Callable[[], Awaitable[Any]],
    adopt_finalizers: Sequence[str] = (),
) -> list[T]:
    """The objects of ``objects`` that ``owner`` controls after adopting
    matching orphans and releasing non-matching ones. ``recheck_owner``
    returns the owner as the API has it now (or raises NotFound); it is
    called at most once, before the first adoption. Every object is tried
    (objects gone meanwhile are skipped); then the failures are raised as
    one aggregate error.
    ``adopt_finalizers`` are added to an object when it is adopted and
    removed when it is released (the Job controller's tracking finalizer)."""
    uid = owner.metadata.uid
    owner_deleting = bool(owner.metadata.deletion_timestamp)
    claimed: list[T] = []
    failures: list[Exception] = []
    can_adopt: bool | None = None
    for obj in objects:
        meta = obj.metadata
        matches = selector.matches(meta.labels)
        ref = controller_ref(obj)
        if ref is not None:
            if ref.uid != uid:
                continue  # someone else's
            if matches:
                claimed.append(obj)
            elif not owner_deleting:
                await _try(failures, _release(owner, obj, patch, adopt_finalizers))
            continue
        if owner_deleting or not matches or meta.deletion_timestamp:
            continue
        if can_adopt is None:
            can_adopt = await _owner_still_there(owner, recheck_owner, failures)
        if not can_adopt:
            continue
        body = adoption_patch(owner, obj)
        missing = [f for f in adopt_finalizers if f not in meta.finalizers]
        if missing:
            body["metadata"]["finalizers"] = [*meta.finalizers, *missing]
        adopted = await _try(failures, patch(meta.name, _guarded(body, obj)))
        if adopted is not None:
            claimed.append(adopted)
    errors.raise_aggregate(failures)
    return claimed


async def claim_pods(
    owner: Any,
    pods: Sequence[pod_pb2.Pod],
    *,
    selector: Selector,
    patch_pod: Callable[[str, dict], Awaitable[pod_pb2.Pod]],
    recheck_owner: Callable[[], Awaitable[Any]],
    adopt_finalizers: Sequence[str] = (),
) -> list[pod_pb2.Pod]:
    """The pods ``owner`` controls (Kubernetes' ClaimPods): ``claim_objects``
    over pods."""
    return await claim_objects(
        owner,
        pods,
        selector=selector,
        patch=patch_pod,
        recheck_owner=recheck_owner,
        adopt_finalizers=adopt_finalizers,
    )


ControllerRevision = controllerrevision_pb2.ControllerRevision


async def claim_revisions(
    owner: Any,
    revisions: Sequence[ControllerRevision],
    *,
    selector: Selector,
    patch_revision: Callable[[str, dict], Awaitable[ControllerRevision]],
    recheck_owner: Callable[[], Awaitable[Any]],
) -> list[ControllerRevision]:
    """The ControllerRevisions ``owner`` controls (Kubernetes'
    ClaimControllerRevisions): ``claim_objects`` over revisions. A revision
    carries its template's labels, so the selector of its set matches it."""
    return await claim_objects(
        owner, revisions, selector=selector, patch=patch_revision, recheck_owner=recheck_owner
    )


async def _release(owner: Any, obj: Any, patch: Patch, finalizers: Sequence[str]) -> Any:
    meta = obj.metadata
    log.info(
        "releasing %s %s/%s: its labels no longer match",
        type(obj).__name__,
        meta.namespace,
        meta.name,
    )
    body = release_patch(owner, obj)
    if any(f in meta.finalizers for f in finalizers):
        kept = [f for f in meta.finalizers if f not in finalizers]
        body["metadata"]["finalizers"] = kept or None
    return await patch(meta.name, _guarded(body, obj))


def _guarded(patch: dict, obj: Any) -> dict:
    """Add the object's resourceVersion to a patch: it applies only to the
    object as the cache saw it."""
    patch["metadata"]["resourceVersion"] = obj.metadata.resource_version
    return patch


async def _try(failures: list[Exception], call: Awaitable[T]) -> T | None:
    try:
        return await call
    except errors.NotFound:
        return None  # the object is gone: nothing to claim
    except errors.ApiError as e:
        failures.append(e)
        return None


async def _owner_still_there(
    owner: Any, recheck_owner: Callable[[], Awaitable[Any]], failures: list[Exception]
) -> bool:
    meta = owner.metadata
    try:
        fresh = await recheck_owner()
    except errors.ApiError as e:
        failures.append(e)
        return False
    if fresh.metadata.uid != meta.uid:
        failures.append(OwnerGone(f"{meta.namespace}/{meta.name} is gone: its uid changed"))
        return False
    if fresh.metadata.deletion_timestamp:
        failures.append(OwnerGone(f"{meta.namespace}/{meta.name} is being deleted; cannot adopt"))
        return False
    return True
