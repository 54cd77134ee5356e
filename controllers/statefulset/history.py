"""ControllerRevisions: the history of a StatefulSet's template
(Kubernetes' pkg/controller/history and getStatefulSetRevisions).

A revision's ``data`` is the patch ``{"spec": {"template": {..., "$patch":
"replace"}}}`` that turns any version of the set into the one it was made
from; its name is ``<set>-<hash>``, the hash computed over that data and the
set's ``collisionCount`` (bumped when a different revision already holds the
name). ``revision`` numbers grow: the update revision is the newest.

Choosing the update revision (``choose_update_revision``, pure):

* the set's template equals the newest revision's: that one, unchanged;
* it equals an older revision's: a *rollback*, that revision is reused and
  renumbered to the next number (no new object);
* it equals none: a new revision with the next number.

The current revision is the one ``status.currentRevision`` names, or the
update revision when there is none yet (a new set).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2

from controllers.controllerref import owner_reference
from controllers.deployment.util import fnv32a, safe_encode
from pinnace.api.apps.v1 import controllerrevision_pb2, statefulset_pb2
from pinnace.machinery import codec

ControllerRevision = controllerrevision_pb2.ControllerRevision
StatefulSet = statefulset_pb2.StatefulSet


def patch_data(set_: StatefulSet) -> struct_pb2.Struct:
    """The revision data of the set's current template."""
    template = codec.to_dict(set_.spec.template)
    template["$patch"] = "replace"
    data = struct_pb2.Struct()
    data.update({"spec": {"template": template}})
    return data


def revision_hash(data: struct_pb2.Struct, collision_count: int | None) -> str:
    h = fnv32a(data.SerializeToString(deterministic=True))
    if collision_count:
        h = fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little"), h)
    return safe_encode(str(h))


def new_revision(set_: StatefulSet, number: int, collision_count: int | None) -> ControllerRevision:
    """An unsaved revision of the set's template, owned by the set."""
    rev = ControllerRevision(api_version="apps/v1", kind="ControllerRevision")
    rev.data.CopyFrom(patch_data(set_))
    rev.revision = number
    rev.metadata.namespace = set_.metadata.namespace
    rev.metadata.name = f"{set_.metadata.name}-{revision_hash(rev.data, collision_count)}"
    rev.metadata.labels.update(set_.spec.template.metadata.labels)
    # As Kubernetes: the set's annotations (kubernetes.io/change-cause for
    # `rollout history`) go with the revision.
    rev.metadata.annotations.update(set_.metadata.annotations)
    rev.metadata.owner_references.append(owner_reference(set_))
    return rev


def sort_revisions(revisions: Sequence[ControllerRevision]) -> list[ControllerRevision]:
    """Oldest first: by revision number, then creation time, then name."""
    return sorted(
        revisions, key=lambda r: (r.revision, r.metadata.creation_timestamp, r.metadata.name)
    )


def next_number(revisions: Sequence[ControllerRevision]) -> int:
    return max((r.revision for r in revisions), default=0) + 1


def equal(a: ControllerRevision, b: ControllerRevision) -> bool:
    return a.data == b.data


@dataclass(frozen=True)
class UpdateChoice:
    """What the sync must do to have the update revision: ``reuse`` an
    existing one as is, ``renumber`` an older one (a rollback), or
    ``create`` ``revision``."""

    action: str  # "reuse" | "renumber" | "create"
    revision: ControllerRevision


def choose_update_revision(
    set_: StatefulSet, revisions: Sequence[ControllerRevision]
) -> UpdateChoice:
    history = sort_revisions(revisions)
    collision = set_.status.collision_count if set_.status.HasField("collision_count") else 0
    candidate = new_revision(set_, next_number(history), collision)
    equals = [r for r in history if equal(r, candidate)]
    if equals and history and equals[-1].metadata.name == history[-1].metadata.name:
        return UpdateChoice("reuse", history[-1])
    if equals:
        rolled = ControllerRevision()
        rolled.CopyFrom(equals[-1])
        rolled.revision = candidate.revision
        return UpdateChoice("renumber", rolled)
    return UpdateChoice("create", candidate)


def find_current(
    set_: StatefulSet, revisions: Sequence[ControllerRevision], update: ControllerRevision
) -> ControllerRevision:
    for rev in revisions:
        if rev.metadata.name == set_.status.current_revision:
            return rev
    return update


def apply_revision(set_: StatefulSet, revision: ControllerRevision) -> StatefulSet:
    """A copy of the set with the revision's template (Kubernetes' ApplyRevision)."""
    out = StatefulSet()
    out.CopyFrom(set_)
    data = _ints(json_format.MessageToDict(revision.data))
    template = dict(data.get("spec", {}).get("template", {}))
    template.pop("$patch", None)
    out.spec.ClearField("template")
    codec.from_dict(out.spec.template, template)
    return out


def _ints(value: Any) -> Any:
    """Struct numbers are floats: integral ones back to ints."""
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def revisions_to_delete(
    revisions: Sequence[ControllerRevision],
    *,
    live: set[str],
    limit: int,
) -> list[ControllerRevision]:
    """The oldest revisions beyond ``limit`` that no pod and neither the
    current nor the update revision uses (``live`` names those)."""
    history = [r for r in sort_revisions(revisions) if r.metadata.name not in live]
    excess = len(history) - limit
    return history[:excess] if excess > 0 else []
