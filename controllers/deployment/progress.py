"""The Progressing condition and the progress deadline (Kubernetes' progress.go).

A rollout is Progressing=True while it moves: NewReplicaSetCreated or
FoundNewReplicaSet when the new ReplicaSet appears, ReplicaSetUpdated each
time a sync sees progress (more updated, ready or available replicas, or
fewer old ones; this also refreshes lastUpdateTime), NewReplicaSetAvailable
once complete. If lastUpdateTime + progressDeadlineSeconds passes without
progress the condition turns False with ProgressDeadlineExceeded, and stays
so until the next progress. The deadline is not evaluated once the rollout
is complete, nor while paused (the paused condition is Unknown and its
lastUpdateTime is set on pause and resume, so a resumed rollout gets a full
deadline).

Nothing else wakes a stuck Deployment, so a sync that finds no change
returns the time left until the deadline (``requeue_delay``) and is run
again then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from controllers.deployment import plan, util
from controllers.deployment.status import (
    DeploymentCondition,
    DeploymentStatus,
    calculate_status,
    new_condition,
    set_condition,
)
from controllers.deployment.sync import Syncer
from pinnace.machinery.conditions import find_condition, remove_condition
from pinnace.machinery.timeutil import parse_rfc3339
from pinnace.machinery.wellknown import DEPLOYMENT_PROGRESSING, DEPLOYMENT_REPLICA_FAILURE


async def sync_rollout_status(
    s: Syncer,
    d: util.Deployment,
    all_rss: Sequence[util.ReplicaSet | None],
    new_rs: util.ReplicaSet | None,
) -> float | None:
    """Write the rollout status if it changed; else return when the
    progress deadline must be checked (None: no need). A write wakes the
    Deployment again through its informer, which then computes the delay."""
    now = s.now()
    status = rollout_status(d, [s.fresh(rs) for rs in all_rss], s.fresh(new_rs), now=now)
    if status == d.status:
        return requeue_delay(d, status, now=now)
    d.status.CopyFrom(status)
    await s.write_status(d)
    return None


def rollout_status(
    d: util.Deployment,
    all_rss: Sequence[util.ReplicaSet | None],
    new_rs: util.ReplicaSet | None,
    *,
    now: datetime,
) -> DeploymentStatus:
    """calculate_status plus the Progressing and ReplicaFailure conditions."""
    status = calculate_status(d, all_rss, new_rs, now=now)
    if not util.has_progress_deadline(d):
        remove_condition(status.conditions, DEPLOYMENT_PROGRESSING)
    current = find_condition(d.status.conditions, DEPLOYMENT_PROGRESSING)
    complete_before = (
        status.replicas == status.updated_replicas
        and current is not None
        and current.reason == util.NEW_RS_AVAILABLE_REASON
    )
    if util.has_progress_deadline(d) and not complete_before:
        what = (
            f'ReplicaSet "{new_rs.metadata.name}"'
            if new_rs is not None
            else (f'Deployment "{d.metadata.name}"')
        )
        if plan.deployment_complete(d, status):
            set_condition(
                status,
                new_condition(
                    DEPLOYMENT_PROGRESSING,
                    "True",
                    util.NEW_RS_AVAILABLE_REASON,
                    f"{what} has successfully progressed.",
                    now=now,
                ),
            )
        elif plan.deployment_progressing(d, status):
            cond = new_condition(
                DEPLOYMENT_PROGRESSING,
                "True",
                util.RS_UPDATED_REASON,
                f"{what} is progressing.",
                now=now,
            )
            # Unlike other conditions, a Progressing condition with the same
            # reason is rewritten: its lastUpdateTime marks the last progress.
            if current is not None:
                if current.status == "True":
                    cond.last_transition_time = current.last_transition_time
                remove_condition(status.conditions, DEPLOYMENT_PROGRESSING)
            set_condition(status, cond)
        elif deployment_timed_out(d, status, now=now):
            set_condition(
                status,
                new_condition(
                    DEPLOYMENT_PROGRESSING,
                    "False",
                    util.TIMED_OUT_REASON,
                    f"{what} has timed out progressing.",
                    now=now,
                ),
            )
    failures = replica_failures(all_rss, new_rs)
    if failures:
        set_condition(status, failures[0])
    else:
        remove_condition(status.conditions, DEPLOYMENT_REPLICA_FAILURE)
    return status


def deployment_timed_out(d: util.Deployment, status: DeploymentStatus, *, now: datetime) -> bool:
    """Whether progressDeadlineSeconds passed since the Progressing
    condition's lastUpdateTime (never after a completed rollout)."""
    if not util.has_progress_deadline(d):
        return False
    cond = find_condition(status.conditions, DEPLOYMENT_PROGRESSING)
    if cond is None or cond.reason == util.NEW_RS_AVAILABLE_REASON:
        return False
    if cond.reason == util.TIMED_OUT_REASON:
        return True
    return _seconds_left(d, cond, now) < 0


def _seconds_left(d: util.Deployment, cond: DeploymentCondition, now: datetime) -> float:
    try:
        since = parse_rfc3339(cond.last_update_time)
    except ValueError:
        return 0.0  # unreadable time: treat as "now"
    return d.spec.progress_deadline_seconds - (now - since).total_seconds()


def replica_failures(
    all_rss: Sequence[util.ReplicaSet | None], new_rs: util.ReplicaSet | None
) -> list[DeploymentCondition]:
    """ReplicaFailure conditions of the ReplicaSets as Deployment conditions,
    the new ReplicaSet's first (only those are returned when it has any)."""

    def of(rs: util.ReplicaSet) -> list[DeploymentCondition]:
        return [
            DeploymentCondition(
                type=c.type,
                status=c.status,
                reason=c.reason,
                message=c.message,
                last_update_time=c.last_transition_time,
                last_transition_time=c.last_transition_time,
            )
            for c in rs.status.conditions
            if c.type == DEPLOYMENT_REPLICA_FAILURE
        ]

    if new_rs is not None and (found := of(new_rs)):
        return found
    return [c for rs in all_rss if rs is not None for c in of(rs)]


def requeue_delay(d: util.Deployment, status: DeploymentStatus, *, now: datetime) -> float | None:
    """Seconds until this Deployment's progress deadline must be checked
    again, None when there is nothing to check (no deadline, no Progressing
    condition, complete, or already timed out).

    Example: Progressing last updated at 00:00:00, now 00:03:00, deadline
    600 s: check again in 7 minutes (plus a second against clock skew)."""
    cond = find_condition(d.status.conditions, DEPLOYMENT_PROGRESSING)
    if not util.has_progress_deadline(d) or cond is None:
        return None
    if plan.deployment_complete(d, status) or cond.reason == util.TIMED_OUT_REASON:
        return None
    left = _seconds_left(d, cond, now)
    if left < 1:
        return 0.5
    return left + 1
