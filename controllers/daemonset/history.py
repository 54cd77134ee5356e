"""ControllerRevisions of a DaemonSet (Kubernetes' daemon/update.go
constructHistory, snapshot, cleanupHistory).

Every distinct pod template a DaemonSet has had is kept as a
ControllerRevision named ``<ds>-<hash>`` whose ``data`` is the patch that
restores it (``{"spec": {"template": {..., "$patch": "replace"}}}``), whose
``revision`` orders them and whose ``controller-revision-hash`` label is
put on the pods made from it. The current revision is the one whose
template equals the DaemonSet's; when the template goes back to an older
one (a rollback), that revision becomes current again with the next number
(max + 1 over all of the DaemonSet's revisions): pods carrying its hash are
"updated" and are not restarted.

A revision name taken by a revision with another template (a hash
collision) bumps ``status.collisionCount``, which changes the hash.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from google.protobuf import struct_pb2

from controllers.controllerref import owner_reference
from controllers.daemonset.util import DaemonSet, pod_hash
from controllers.deployment.util import compute_hash
from pinnace.api.apps.v1 import controllerrevision_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec, errors
from pinnace.machinery.wellknown import LABEL_CONTROLLER_REVISION_HASH

log = logging.getLogger(__name__)

ControllerRevision = controllerrevision_pb2.ControllerRevision
DEFAULT_HISTORY_LIMIT = 10


class HashCollision(errors.Conflict):
    """A revision of the same name holds another template; collisionCount was bumped."""


def revision_data(template: pod_pb2.PodTemplateSpec) -> dict:
    body = codec.to_dict(template)
    body["$patch"] = "replace"
    return {"spec": {"template": body}}


def revision_name(ds: DaemonSet, hash_value: str) -> str:
    return f"{ds.metadata.name[:223]}-{hash_value}"


def new_revision(ds: DaemonSet, number: int, collision_count: int | None) -> ControllerRevision:
    hash_value = compute_hash(ds.spec.template, collision_count)
    cr = ControllerRevision(api_version="apps/v1", kind="ControllerRevision")
    cr.metadata.name = revision_name(ds, hash_value)
    cr.metadata.namespace = ds.metadata.namespace
    cr.metadata.labels.update(ds.spec.template.metadata.labels)
    cr.metadata.labels[LABEL_CONTROLLER_REVISION_HASH] = hash_value
    # As Kubernetes: the DaemonSet's annotations (kubernetes.io/change-cause
    # for `rollout history`) go with the revision.
    cr.metadata.annotations.update(ds.metadata.annotations)
    cr.metadata.owner_references.append(owner_reference(ds))
    cr.data.update(revision_data(ds.spec.template))
    cr.revision = number
    return cr


def matches(cr: ControllerRevision, ds: DaemonSet) -> bool:
    """Whether the revision restores the DaemonSet's template: its data is
    the DaemonSet's patch (Kubernetes' Match compares the bytes)."""
    want = struct_pb2.Struct()
    want.update(revision_data(ds.spec.template))
    return cr.data == want


class RevisionControl:
    """The API calls history needs (a fake records them in unit tests)."""

    create: Callable[[ControllerRevision], Awaitable[ControllerRevision]]
    update: Callable[[ControllerRevision], Awaitable[ControllerRevision]]
    get: Callable[[str], Awaitable[ControllerRevision]]
    patch: Callable[[str, dict], Awaitable[ControllerRevision]]
    delete: Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True)
class History:
    current: ControllerRevision
    old: list[ControllerRevision]

    @property
    def hash(self) -> str:
        return self.current.metadata.labels.get(LABEL_CONTROLLER_REVISION_HASH, "")


def max_revision(revisions: Iterable[ControllerRevision]) -> int:
    return max((r.revision for r in revisions), default=0)


async def construct_history(
    ds: DaemonSet,
    revisions: Sequence[ControllerRevision],
    *,
    control: RevisionControl,
    bump_collision: Callable[[int], Awaitable[None]],
) -> History:
    """Find or make the current revision; everything else is old."""
    current = [r for r in revisions if matches(r, ds)]
    old = [r for r in revisions if not matches(r, ds)]
    top = max_revision(revisions)
    if current:
        # Several equal revisions (a cache lag made a twin): the newest is current.
        current.sort(key=lambda r: r.revision)
        cur, twins = current[-1], current[:-1]
        old.extend(twins)
        if cur.revision < top:
            bumped = ControllerRevision()
            bumped.CopyFrom(cur)
            bumped.revision = top + 1
            cur = await control.update(bumped)
        return History(cur, old)
    count = ds.status.collision_count if ds.status.HasField("collision_count") else None
    cr = new_revision(ds, top + 1, count)
    try:
        made = await control.create(cr)
    except errors.AlreadyExists:
        existing = await control.get(cr.metadata.name)
        if matches(existing, ds):
            return History(existing, old)  # our cache was behind
        await bump_collision((count or 0) + 1)
        raise HashCollision(
            f"controller revision {cr.metadata.name} exists with another template"
        ) from None
    return History(made, old)


async def cleanup_history(
    ds: DaemonSet,
    old: Sequence[ControllerRevision],
    live_pods: Iterable[pod_pb2.Pod],
    *,
    control: RevisionControl,
) -> None:
    """Delete the oldest old revisions beyond revisionHistoryLimit that no
    live pod still runs."""
    limit = (
        ds.spec.revision_history_limit
        if ds.spec.HasField("revision_history_limit")
        else DEFAULT_HISTORY_LIMIT
    )
    excess = len(old) - limit
    if excess <= 0:
        return
    in_use = {pod_hash(p) for p in live_pods}
    for cr in sorted(old, key=lambda r: r.revision):
        if excess <= 0:
            break
        if cr.metadata.labels.get(LABEL_CONTROLLER_REVISION_HASH, "") in in_use:
            continue
        try:
            await control.delete(cr.metadata.name, cr.metadata.uid)
        except errors.NotFound:
            pass
        excess -= 1
