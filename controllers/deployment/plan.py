"""The rollout arithmetic of the deployment controller (Kubernetes'
deployment/util NewRSNewReplicas, IsSaturated, GetProportion and friends):
pure decisions a sync then carries out, tested table by table.

* ``new_rs_new_replicas``: how far the new ReplicaSet may grow now.
* ``get_proportion`` / ``proportional_sizes``: a ReplicaSet's share of a
  scaling event during a rollout, from the ``max-replicas`` annotation it
  was last scaled under.
* ``deployment_complete`` / ``deployment_progressing``: what the Progressing
  condition says.
* ``old_pods_running``: whether Recreate must still wait.
"""

from __future__ import annotations

from collections.abc import Sequence

from controllers.deployment import util
from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.podutil import is_pod_terminal
from pinnace.machinery.wellknown import (
    ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS,
    ANNOTATION_DEPLOYMENT_MAX_REPLICAS,
)


def new_rs_new_replicas(
    d: util.Deployment, all_rss: Sequence[util.ReplicaSet | None], new_rs: util.ReplicaSet
) -> int:
    """How many replicas the new util.ReplicaSet should have now.

    RollingUpdate: grow by what the surge allows, never past spec.replicas.
    With 10 replicas and maxSurge 3, old RS at 10, new RS at 0: total 10,
    ceiling 13, so the new RS goes to min(13 - 10, 10 - 0) = 3.
    Recreate: straight to spec.replicas (old ones are gone by then)."""
    if util.is_rolling_update(d):
        current = util.spec_replicas(all_rss)
        ceiling = d.spec.replicas + util.max_surge(d)
        if current >= ceiling:
            return new_rs.spec.replicas
        grow = min(ceiling - current, d.spec.replicas - new_rs.spec.replicas)
        return new_rs.spec.replicas + grow
    return d.spec.replicas


def is_saturated(d: util.Deployment, rs: util.ReplicaSet | None) -> bool:
    """The util.ReplicaSet runs the whole util.Deployment: asked for (and annotated
    with) spec.replicas, and that many pods are available."""
    if rs is None:
        return False
    desired = util.int_annotation(rs, ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS)
    return (
        desired is not None
        and rs.spec.replicas == d.spec.replicas
        and desired == d.spec.replicas
        and rs.status.available_replicas == d.spec.replicas
    )


def find_active_or_latest(
    new_rs: util.ReplicaSet | None, old_rss: Sequence[util.ReplicaSet]
) -> util.ReplicaSet | None:
    """The only active util.ReplicaSet; the newest one if none is active; None
    when several are active (then scaling is proportional)."""
    if new_rs is None and not old_rss:
        return None
    olds = util.sorted_by_creation(old_rss, newest_first=True)
    active = util.filter_active([*olds, new_rs])
    if not active:
        return new_rs if new_rs is not None else olds[0]
    if len(active) == 1:
        return active[0]
    return None


def get_replica_set_fraction(rs: util.ReplicaSet, d: util.Deployment) -> int:
    """How many replicas rs gains (or loses, negative) when the util.Deployment is
    scaled: its size in proportion to the new ceiling (replicas + maxSurge)
    over the ceiling it was last scaled under (its max-replicas annotation,
    or the util.Deployment's status.replicas when that is missing), rounded half
    away from zero."""
    if d.spec.replicas == 0:
        return -rs.spec.replicas
    ceiling = d.spec.replicas + util.max_surge(d)
    before = util.int_annotation(rs, ANNOTATION_DEPLOYMENT_MAX_REPLICAS)
    if not before:
        before = d.status.replicas
        if before == 0:
            return 0
    return _round_half_away(rs.spec.replicas * ceiling, before) - rs.spec.replicas


def _round_half_away(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), halves away from zero (Go's math.Round),
    in integers."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, m = abs(numerator), abs(denominator)
    return sign * ((2 * n + m) // (2 * m))


def get_proportion(rs: util.ReplicaSet | None, d: util.Deployment, to_add: int, added: int) -> int:
    """rs's share of a scaling event of ``to_add`` replicas of which
    ``added`` are already handed out; never more than what is left (in
    either direction), and 0 for a util.ReplicaSet at 0 (never scaled up from 0).

    Worked example (the conformance numbers): 10 replicas, maxSurge 3, a
    stuck rollout holds old=8 and new=5, both annotated max-replicas=13.
    Scaling to 30 gives a ceiling of 33 and 20 to add; old gets
    round(8*33/13) - 8 = 12, new round(5*33/13) - 5 = 8: 20 and 13."""
    if rs is None or rs.spec.replicas == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = get_replica_set_fraction(rs, d)
    allowed = to_add - added
    if to_add > 0:
        return min(fraction, allowed)
    return max(fraction, allowed)


def proportional_sizes(
    d: util.Deployment, new_rs: util.ReplicaSet | None, old_rss: Sequence[util.ReplicaSet]
) -> list[tuple[util.ReplicaSet, int]]:
    """The size each active util.ReplicaSet gets when a util.Deployment in the middle
    of a rollout is scaled (Kubernetes' scale(), proportional branch).

    The total may reach replicas + maxSurge. The difference with the
    current total is shared out with ``get_proportion`` from the largest to
    the smallest util.ReplicaSet (equal sizes: newest first when growing, oldest
    first when shrinking); what rounding leaves over goes to the first (the
    largest), never below 0. Returns (util.ReplicaSet, new size) pairs in that
    order, including the unchanged ones."""
    active = util.filter_active([*old_rss, new_rs])
    total = util.spec_replicas(active)
    allowed = d.spec.replicas + util.max_surge(d) if d.spec.replicas > 0 else 0
    to_add = allowed - total
    if to_add > 0:
        ordered = util.sorted_by_size_newer(active)
    elif to_add < 0:
        ordered = util.sorted_by_size_older(active)
    else:
        ordered = active
    sizes: list[int] = []
    added = 0
    for rs in ordered:
        share = get_proportion(rs, d, to_add, added) if to_add else 0
        sizes.append(rs.spec.replicas + share)
        added += share
    if ordered and to_add:
        sizes[0] = max(0, sizes[0] + to_add - added)
    return list(zip(ordered, sizes, strict=True))


def deployment_complete(d: util.Deployment, status: deployment_pb2.DeploymentStatus) -> bool:
    """Every replica updated and available, no old one left, and the
    controller has seen the latest spec."""
    want = d.spec.replicas
    return (
        status.updated_replicas == want
        and status.replicas == want
        and status.available_replicas == want
        and status.observed_generation >= d.metadata.generation
    )


def deployment_progressing(d: util.Deployment, status: deployment_pb2.DeploymentStatus) -> bool:
    """Progress since the status the util.Deployment has: more updated, ready or
    available replicas, or fewer old ones."""
    old = d.status
    return (
        status.updated_replicas > old.updated_replicas
        or (status.replicas - status.updated_replicas) < (old.replicas - old.updated_replicas)
        or status.ready_replicas > old.ready_replicas
        or status.available_replicas > old.available_replicas
    )


def old_pods_running(
    new_rs: util.ReplicaSet | None,
    old_rss: Sequence[util.ReplicaSet],
    pods_by_rs: dict[str, list[pod_pb2.Pod]],
) -> bool:
    """Whether any pod of an old util.ReplicaSet may still run (Recreate waits
    for none): an old RS reporting pods, or a pod of an old RS (terminating
    ones included) that has not finished (Succeeded/Failed)."""
    if util.actual_replicas(old_rss) > 0:
        return True
    for uid, pods in pods_by_rs.items():
        if new_rs is not None and uid == new_rs.metadata.uid:
            continue
        for pod in pods:
            if not is_pod_terminal(pod):
                return True
    return False
