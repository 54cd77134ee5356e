"""Rollback (Kubernetes' rollback.go).

apps/v1 has no spec.rollbackTo: ``pinnace rollout undo`` (like ``kubectl
rollout undo``) copies the template of the ReplicaSet with the wanted
revision into the Deployment, and the controller rolls forward to it: that
ReplicaSet is found as the new one (templates compared ignoring
pod-template-hash), scaled up, and given revision max+1, its old revision
kept in revision-history.

The controller still honours the legacy ``deprecated.deployment.rollback.to``
annotation ("0": the previous revision), as Kubernetes' does: it copies the
template itself, emits DeploymentRollback (or ...RevisionNotFound /
...TemplateUnchanged) and removes the annotation.
"""

from __future__ import annotations

from collections.abc import Sequence

from controllers.deployment import util
from controllers.deployment.sync import Syncer
from pinnace.machinery.wellknown import ANNOTATION_DEPLOYMENT_ROLLBACK_TO, LABEL_POD_TEMPLATE_HASH

ReplicaSet = util.ReplicaSet


def rollback_target(d: util.Deployment) -> int | None:
    """The revision the legacy annotation asks for (0: previous), or None."""
    text = d.metadata.annotations.get(ANNOTATION_DEPLOYMENT_ROLLBACK_TO)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def find_revision(rss: Sequence[ReplicaSet], rev: int) -> ReplicaSet | None:
    """The ReplicaSet carrying revision ``rev``."""
    for rs in rss:
        if util.revision(rs) == rev:
            return rs
    return None


async def rollback(s: Syncer, d: util.Deployment, rs_list: Sequence[ReplicaSet]) -> None:
    """Roll back to the annotated revision, then drop the annotation."""
    new_rs, old_rss = await s.get_all_replica_sets_and_sync_revision(d, rs_list, create=True)
    all_rss = [rs for rs in (*old_rss, new_rs) if rs is not None]
    target = rollback_target(d) or 0
    if target == 0:
        target = util.last_revision(all_rss)
        if target == 0:
            s.api.event(
                d, "Warning", util.ROLLBACK_REVISION_NOT_FOUND, "Unable to find last revision."
            )
            await _clear_rollback(s, d)
            return
    rs = find_revision(all_rss, target)
    if rs is None:
        s.api.event(
            d,
            "Warning",
            util.ROLLBACK_REVISION_NOT_FOUND,
            f"Unable to find the revision to rollback to: {target}",
        )
        await _clear_rollback(s, d)
        return
    if util.equal_ignore_hash(d.spec.template, rs.spec.template):
        s.api.event(
            d,
            "Warning",
            util.ROLLBACK_TEMPLATE_UNCHANGED,
            f"The rollback revision contains the same template as current deployment {d.metadata.name!r}",
        )
        await _clear_rollback(s, d)
        return
    d.spec.template.CopyFrom(rs.spec.template)
    d.spec.template.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
    util.set_deployment_annotations_to(d, rs)
    await _clear_rollback(
        s, d, message=f"Rolled back deployment {d.metadata.name!r} to revision {target}"
    )


async def _clear_rollback(s: Syncer, d: util.Deployment, *, message: str = "") -> None:
    """Write d without the rollback annotation (with the new template, if any)."""
    d.metadata.annotations.pop(ANNOTATION_DEPLOYMENT_ROLLBACK_TO, None)
    updated = await s.api.update_deployment(d)
    d.metadata.resource_version = updated.metadata.resource_version
    if message:
        s.api.event(d, "Normal", util.ROLLBACK_DONE, message)
