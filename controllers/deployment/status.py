"""Deployment status, computed purely from the Deployment and its ReplicaSets.

``calculate_status`` is what every sync writes (only when it differs from
the stored status): counts summed over the ReplicaSets, the observed
generation, the conditions carried over, and the Available condition
re-evaluated. The condition helpers follow Kubernetes' rules: setting a
condition with the same status and reason is a no-op (the message and the
times are kept), and lastTransitionTime only moves when the status does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from controllers.deployment import util
from pinnace.api.apps.v1 import deployment_pb2
from pinnace.machinery import conditions
from pinnace.machinery.timeutil import format_rfc3339
from pinnace.machinery.wellknown import DEPLOYMENT_AVAILABLE

DeploymentStatus = deployment_pb2.DeploymentStatus
DeploymentCondition = deployment_pb2.DeploymentCondition


def new_condition(
    type: str, status: str, reason: str, message: str, *, now: datetime
) -> DeploymentCondition:
    stamp = format_rfc3339(now)
    return DeploymentCondition(
        type=type,
        status=status,
        reason=reason,
        message=message,
        last_update_time=stamp,
        last_transition_time=stamp,
    )


def set_condition(status: DeploymentStatus, cond: DeploymentCondition) -> None:
    """Add or replace the condition of cond's type (Kubernetes'
    SetDeploymentCondition): nothing happens if the current one has the same
    status and reason (a new message alone is not written); the transition
    time is kept if the status is the same; a changed condition moves to the
    end of the list, as Kubernetes appends it."""
    if not conditions.set_condition(status.conditions, cond, compare_message=False):
        return
    current = conditions.find_condition(status.conditions, cond.type)
    assert current is not None  # it was just set
    changed = DeploymentCondition()
    changed.CopyFrom(current)
    conditions.remove_condition(status.conditions, cond.type)
    status.conditions.append(changed)


def calculate_status(
    d: util.Deployment,
    all_rss: Sequence[util.ReplicaSet | None],
    new_rs: util.ReplicaSet | None,
    *,
    now: datetime,
) -> DeploymentStatus:
    """The status the Deployment should have given its ReplicaSets.

    replicas/ready/available sum the ReplicaSets' status; updatedReplicas is
    the new ReplicaSet's status.replicas; unavailableReplicas is what the
    ReplicaSets are asked to run minus what is available (never negative).
    Available is True once availableReplicas >= replicas - maxUnavailable."""
    available = util.available_replicas(all_rss)
    unavailable = max(util.spec_replicas(all_rss) - available, 0)
    status = DeploymentStatus(
        observed_generation=d.metadata.generation,
        replicas=util.actual_replicas(all_rss),
        updated_replicas=util.actual_replicas([new_rs]),
        ready_replicas=util.ready_replicas(all_rss),
        available_replicas=available,
        unavailable_replicas=unavailable,
    )
    if d.status.HasField("collision_count"):
        status.collision_count = d.status.collision_count
    status.conditions.extend(d.status.conditions)
    if available >= d.spec.replicas - util.max_unavailable(d):
        cond = new_condition(
            DEPLOYMENT_AVAILABLE,
            "True",
            util.MIN_AVAILABLE_REASON,
            "Deployment has minimum availability.",
            now=now,
        )
    else:
        cond = new_condition(
            DEPLOYMENT_AVAILABLE,
            "False",
            util.MIN_UNAVAILABLE_REASON,
            "Deployment does not have minimum availability.",
            now=now,
        )
    set_condition(status, cond)
    return status
