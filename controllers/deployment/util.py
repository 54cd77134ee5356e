"""Pure helpers of the deployment controller (Kubernetes' deployment/util).

Nothing here talks to the API or reads a clock: every function takes the
objects it looks at and returns a value (or edits the copy it is given, and
says whether it changed anything). The rollout arithmetic built on them is
plan.py. Here:

* ``resolve_fenceposts``: maxSurge rounds up, maxUnavailable rounds down,
  both zero makes maxUnavailable 1 (surge may be impossible under quota).
* ``find_new_replica_set`` / ``find_old_replica_sets``: which ReplicaSet runs
  the Deployment's template (compared ignoring ``pod-template-hash``).
* ``compute_hash``: the ``pod-template-hash`` of a template.

ReplicaSets are sorted as Kubernetes sorts them: by creation time, ties by
name (``by_creation``), and by size for proportional scaling.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from pinnace.api.apps.v1 import deployment_pb2, replicaset_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.intstr import IntOrString, scaled_value
from pinnace.machinery.wellknown import (
    ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS,
    ANNOTATION_DEPLOYMENT_MAX_REPLICAS,
    ANNOTATION_DEPLOYMENT_REVISION,
    ANNOTATION_DEPLOYMENT_REVISION_HISTORY,
    DEPLOYMENT_ANNOTATIONS_NOT_COPIED,
    LABEL_POD_TEMPLATE_HASH,
)

log = logging.getLogger("controllers.deployment")

Deployment = deployment_pb2.Deployment
ReplicaSet = replicaset_pb2.ReplicaSet


# The revision-history annotation is trimmed (oldest first) to this length.
MAX_REVISION_HISTORY_CHARS = 2000

# A progressDeadlineSeconds of MaxInt32 means "no deadline" (as in Kubernetes).
NO_DEADLINE = 2**31 - 1

# Condition types and reasons (Kubernetes' names).
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
MIN_AVAILABLE_REASON = "MinimumReplicasAvailable"
MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable"
ROLLBACK_DONE = "DeploymentRollback"
ROLLBACK_REVISION_NOT_FOUND = "DeploymentRollbackRevisionNotFound"
ROLLBACK_TEMPLATE_UNCHANGED = "DeploymentRollbackTemplateUnchanged"


# ---- revisions -------------------------------------------------------------------


def revision(obj: ReplicaSet | Deployment) -> int:
    """The ``deployment.kubernetes.io/revision`` of an object; 0 when missing
    or not a number (logged: someone edited it)."""
    text = obj.metadata.annotations.get(ANNOTATION_DEPLOYMENT_REVISION, "")
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        log.warning("%s has a revision %r that is not a number", obj.metadata.name, text)
        return 0


def max_revision(rss: Iterable[ReplicaSet | None]) -> int:
    return max((revision(rs) for rs in rss if rs is not None), default=0)


def last_revision(rss: Iterable[ReplicaSet | None]) -> int:
    """The second-highest revision (the one before the current), 0 if none."""
    top, second = 0, 0
    for rs in rss:
        if rs is None:
            continue
        v = revision(rs)
        if v >= top:
            top, second = v, top
        elif v > second:
            second = v
    return second


def set_deployment_revision(d: Deployment, rev: str) -> bool:
    """Set the Deployment's revision annotation; True if it changed."""
    if d.metadata.annotations.get(ANNOTATION_DEPLOYMENT_REVISION) == rev:
        return False
    d.metadata.annotations[ANNOTATION_DEPLOYMENT_REVISION] = rev
    return True


def skip_copy_annotation(key: str) -> bool:
    return key in DEPLOYMENT_ANNOTATIONS_NOT_COPIED


def copy_deployment_annotations(d: Deployment, rs: ReplicaSet) -> bool:
    """Copy the Deployment's annotations (except DEPLOYMENT_ANNOTATIONS_NOT_COPIED) to the
    ReplicaSet; True if any changed. The revision is never copied: the
    ReplicaSet's own is the one to trust."""
    changed = False
    for key, value in d.metadata.annotations.items():
        if skip_copy_annotation(key) or rs.metadata.annotations.get(key) == value:
            continue
        rs.metadata.annotations[key] = value
        changed = True
    return changed


def set_deployment_annotations_to(d: Deployment, rs: ReplicaSet) -> None:
    """A rollback: the Deployment keeps its skipped annotations and takes
    every other annotation from the ReplicaSet it rolls back to."""
    kept = {k: v for k, v in d.metadata.annotations.items() if skip_copy_annotation(k)}
    d.metadata.ClearField("annotations")
    d.metadata.annotations.update(kept)
    for key, value in rs.metadata.annotations.items():
        if not skip_copy_annotation(key):
            d.metadata.annotations[key] = value


def set_new_replica_set_annotations(
    d: Deployment, rs: ReplicaSet, new_revision: str, *, exists: bool
) -> bool:
    """Bring the new ReplicaSet's annotations up to date (Kubernetes'
    SetNewReplicaSetAnnotations): the Deployment's annotations, the revision
    when it grows (remembering the old one in revision-history: a rollback
    to this ReplicaSet), and, on a ReplicaSet about to be created, the
    desired/max replicas. True if anything changed."""
    changed = copy_deployment_annotations(d, rs)
    annotations = rs.metadata.annotations
    old_text = annotations.get(ANNOTATION_DEPLOYMENT_REVISION)
    if old_text:
        try:
            old = int(old_text)
        except ValueError:
            log.warning("%s: revision %r is not a number", rs.metadata.name, old_text)
            return changed
    else:
        old = 0
    new = int(new_revision)
    if old < new:
        annotations[ANNOTATION_DEPLOYMENT_REVISION] = new_revision
        changed = True
        if old_text:
            annotations[ANNOTATION_DEPLOYMENT_REVISION_HISTORY] = _append_history(
                annotations.get(ANNOTATION_DEPLOYMENT_REVISION_HISTORY, ""), old_text
            )
    if not exists and set_replicas_annotations(rs, d.spec.replicas, d.spec.replicas + max_surge(d)):
        changed = True
    return changed


def _append_history(history: str, old: str) -> str:
    """``history`` + ``,old``, dropping the oldest entries past the limit."""
    entries = [e for e in history.split(",") if e] + [old]
    while len(",".join(entries)) > MAX_REVISION_HISTORY_CHARS and len(entries) > 1:
        entries.pop(0)
    return ",".join(entries)


def set_replicas_annotations(rs: ReplicaSet, desired: int, max_replicas: int) -> bool:
    """Record the Deployment size (and size + maxSurge) a ReplicaSet was
    last scaled under; proportional scaling reads them back."""
    changed = False
    for key, value in (
        (ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS, str(desired)),
        (ANNOTATION_DEPLOYMENT_MAX_REPLICAS, str(max_replicas)),
    ):
        if rs.metadata.annotations.get(key) != value:
            rs.metadata.annotations[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: ReplicaSet, desired: int, max_replicas: int) -> bool:
    ann = rs.metadata.annotations
    return ann.get(ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS) != str(desired) or ann.get(
        ANNOTATION_DEPLOYMENT_MAX_REPLICAS
    ) != str(max_replicas)


def int_annotation(rs: ReplicaSet, key: str) -> int | None:
    text = rs.metadata.annotations.get(key)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        log.warning("%s: annotation %s=%r is not a number", rs.metadata.name, key, text)
        return None


# ---- fenceposts ------------------------------------------------------------------


def is_rolling_update(d: Deployment) -> bool:
    return d.spec.strategy.type in ("RollingUpdate", "")


def resolve_fenceposts(
    max_surge_value: IntOrString | None, max_unavailable_value: IntOrString | None, desired: int
) -> tuple[int, int]:
    """(surge, unavailable) as absolute numbers of pods: a percentage of
    ``desired``, surge rounded up and unavailable rounded down. Validation
    forbids both being 0, but rounding can make unavailable 0: then it is 1,
    so a rollout can always move even where surging is impossible."""
    surge = scaled_value(_or_zero(max_surge_value), desired, round_up=True)
    unavailable = scaled_value(_or_zero(max_unavailable_value), desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _or_zero(value: IntOrString | None) -> IntOrString | int:
    if value is None:
        return 0
    if hasattr(value, "WhichOneof") and value.WhichOneof("value") is None:
        return 0
    return value


def max_surge(d: Deployment) -> int:
    """Pods a rolling update may run above spec.replicas (0 for Recreate)."""
    if not is_rolling_update(d):
        return 0
    ru = d.spec.strategy.rolling_update
    surge, _ = resolve_fenceposts(ru.max_surge, ru.max_unavailable, d.spec.replicas)
    return surge


def max_unavailable(d: Deployment) -> int:
    """Pods a rolling update may have unavailable (never more than replicas)."""
    if not is_rolling_update(d) or d.spec.replicas == 0:
        return 0
    ru = d.spec.strategy.rolling_update
    _, unavailable = resolve_fenceposts(ru.max_surge, ru.max_unavailable, d.spec.replicas)
    return min(unavailable, d.spec.replicas)


# ---- counting --------------------------------------------------------------------


def spec_replicas(rss: Iterable[ReplicaSet | None]) -> int:
    """Sum of spec.replicas (what the ReplicaSets are asked to run)."""
    return sum(rs.spec.replicas for rs in rss if rs is not None)


def actual_replicas(rss: Iterable[ReplicaSet | None]) -> int:
    """Sum of status.replicas (non-terminating pods that exist)."""
    return sum(rs.status.replicas for rs in rss if rs is not None)


def ready_replicas(rss: Iterable[ReplicaSet | None]) -> int:
    return sum(rs.status.ready_replicas for rs in rss if rs is not None)


def available_replicas(rss: Iterable[ReplicaSet | None]) -> int:
    return sum(rs.status.available_replicas for rs in rss if rs is not None)


def available_within_spec(rss: Iterable[ReplicaSet | None]) -> int:
    """Available replicas that will still be there once every ReplicaSet
    reaches its spec: a ReplicaSet just scaled down may still report the
    pods it is deleting (its status lags its spec), and counting those
    would let a rolling update remove more than maxUnavailable allows.
    Equal to available_replicas whenever statuses are current."""
    return sum(min(rs.status.available_replicas, rs.spec.replicas) for rs in rss if rs is not None)


def filter_active(rss: Iterable[ReplicaSet | None]) -> list[ReplicaSet]:
    """ReplicaSets asked to run at least one pod."""
    return [rs for rs in rss if rs is not None and rs.spec.replicas > 0]


# ---- ordering --------------------------------------------------------------------


def by_creation(rs: ReplicaSet) -> tuple[str, str]:
    """Oldest first; ties broken by name (RFC 3339 UTC stamps sort as text)."""
    return (rs.metadata.creation_timestamp, rs.metadata.name)


def sorted_by_creation(
    rss: Iterable[ReplicaSet], *, newest_first: bool = False
) -> list[ReplicaSet]:
    return sorted(rss, key=by_creation, reverse=newest_first)


def sorted_by_revision(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """Lowest revision first; ties by creation."""
    return sorted(rss, key=lambda rs: (revision(rs), *by_creation(rs)))


def sorted_by_size_newer(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """Largest first; equal sizes newest first (who grows first on scale up)."""
    newest = sorted_by_creation(rss, newest_first=True)
    return sorted(newest, key=lambda rs: -rs.spec.replicas)


def sorted_by_size_older(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """Largest first; equal sizes oldest first (who shrinks first on scale down)."""
    return sorted(sorted_by_creation(rss), key=lambda rs: -rs.spec.replicas)


# ---- templates and hashes ----------------------------------------------------------


def equal_ignore_hash(a: pod_pb2.PodTemplateSpec, b: pod_pb2.PodTemplateSpec) -> bool:
    """Whether two pod templates are the same apart from the
    ``pod-template-hash`` label (how a Deployment recognises its new RS)."""
    ca, cb = pod_pb2.PodTemplateSpec(), pod_pb2.PodTemplateSpec()
    ca.CopyFrom(a)
    cb.CopyFrom(b)
    ca.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
    cb.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
    return ca == cb


_SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def fnv32a(data: bytes, h: int = _FNV32_OFFSET) -> int:
    for byte in data:
        h ^= byte
        h = (h * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """Kubernetes' rand.SafeEncodeString: every character mapped onto
    consonants and digits, so a hash never spells words or looks like a
    number (``pod-template-hash`` values such as ``7d8f9c6b5``)."""
    return "".join(_SAFE_ALPHANUMS[ord(c) % len(_SAFE_ALPHANUMS)] for c in text)


def compute_hash(template: pod_pb2.PodTemplateSpec, collision_count: int | None) -> str:
    """The ``pod-template-hash`` of a template (Kubernetes' ComputeHash, in
    spirit): FNV-1a (32 bit) over the template's deterministic protobuf
    serialization (fields in number order, map entries sorted by key), then,
    when the Deployment has a collisionCount, over its value as 8 bytes
    little-endian; the decimal of the sum is put through ``safe_encode``.

    Stable for equal templates on any machine and run (deterministic
    serialization), different after a collision bump. The value differs from
    what Kubernetes computes (it hashes Go's printed form of the object);
    nothing relies on the two agreeing: the new ReplicaSet is found by
    comparing templates, the hash only makes its name and selector unique."""
    h = fnv32a(template.SerializeToString(deterministic=True))
    if collision_count is not None:
        h = fnv32a((collision_count & 0xFFFFFFFF).to_bytes(8, "little"), h)
    return safe_encode(str(h))


def find_new_replica_set(d: Deployment, rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """The oldest ReplicaSet whose template equals the Deployment's (there
    can be several after a cache lag or a manual copy; the oldest wins)."""
    for rs in sorted_by_creation(rss):
        if equal_ignore_hash(rs.spec.template, d.spec.template):
            return rs
    return None


def find_old_replica_sets(
    d: Deployment, rss: Sequence[ReplicaSet]
) -> tuple[list[ReplicaSet], list[ReplicaSet]]:
    """(old ReplicaSets that still have replicas, all old ReplicaSets)."""
    new = find_new_replica_set(d, rss)
    old = [rs for rs in rss if new is None or rs.metadata.uid != new.metadata.uid]
    return [rs for rs in old if rs.spec.replicas != 0], old


# ---- deadlines and limits ---------------------------------------------------------


def has_progress_deadline(d: Deployment) -> bool:
    return d.spec.HasField("progress_deadline_seconds") and (
        d.spec.progress_deadline_seconds != NO_DEADLINE
    )


def has_revision_history_limit(d: Deployment) -> bool:
    return d.spec.HasField("revision_history_limit") and (
        d.spec.revision_history_limit != NO_DEADLINE
    )
