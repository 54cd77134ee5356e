"""What one sync of a StatefulSet should do, decided purely from its pods
(Kubernetes' defaultStatefulSetControl.updateStatefulSet, processReplica,
processCondemned and updateStatefulSetAfterInvariantEstablished).

``plan()`` sorts the set's pods into *replicas* (one slot per ordinal in
``[start, start+replicas)``; a missing pod is a planned pod at the revision
it should have) and *condemned* pods (ordinals out of range), then walks
them the way Kubernetes does and returns the actions to take, in order:

1. Replicas, lowest ordinal first. A failed or succeeded pod is deleted
   (its replacement, same name, is created once it is gone: never two pods
   of one identity). A missing pod is created (after its claims). Under
   ``OrderedReady`` (monotonic) the walk stops at a create, and at any pod
   that is terminating, not Running and Ready, or not yet available
   (minReadySeconds): its successors wait. ``Parallel`` walks on.
   A pod whose identity labels or claims are wrong is updated.
2. Condemned pods, highest ordinal first (monotonic) or all at once: the
   claims' owner references are first set for the retention policy, then
   the pod is deleted. Monotonically, a terminating condemned pod blocks,
   and so does an unhealthy one unless it is the first unhealthy pod of the
   set (which may always go, so a broken set can still scale down).
3. ``OnDelete``: nothing more. ``RollingUpdate``: with ``u`` pods
   unavailable and ``m`` = maxUnavailable, delete the ``m - u`` highest
   pods at index >= partition whose revision is not the update revision;
   they come back at the update revision in a later sync (step 1).

Example (OrderedReady, replicas 3, pods 0 and 1 Running and Ready, pod 2
missing): one action, create web-2. If pod 1 were not ready: no action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from controllers.statefulset import util
from controllers.statefulset.util import Pod, StatefulSet

CREATE = "create"
DELETE = "delete"
UPDATE = "update"
CLAIMS = "claims"


@dataclass(frozen=True)
class Action:
    kind: str  # create | delete | update | claims
    pod: Pod
    reason: str = ""

    @property
    def name(self) -> str:
        return self.pod.metadata.name


@dataclass
class Inputs:
    """Everything plan() looks at."""

    set: StatefulSet
    pods: Sequence[Pod]
    current_set: StatefulSet  # the set at its current revision
    update_set: StatefulSet  # the set at its update revision
    current_revision: str
    update_revision: str
    now: datetime
    # Whether the claims of a pod already carry the retention policy's owners.
    claims_ok: Callable[[Pod], bool] = lambda pod: True
    # Whether a claim of this ordinal is being deleted (wait before creating).
    claim_stale: Callable[[int], bool] = lambda ordinal: False
    actions: list[Action] = field(default_factory=list)


def split_pods(set_: StatefulSet, pods: Sequence[Pod]) -> tuple[list[Pod | None], list[Pod]]:
    """(replicas by index, condemned by ascending ordinal); pods that are
    not the set's by name are ignored."""
    start, count = util.start_ordinal(set_), util.replicas(set_)
    slots: list[Pod | None] = [None] * count
    condemned: list[Pod] = []
    for pod in pods:
        if not util.is_member_of(set_, pod):
            continue
        ordinal = util.ordinal_of(pod)
        if start <= ordinal < start + count:
            slots[ordinal - start] = pod
        else:
            condemned.append(pod)
    condemned.sort(key=util.ordinal_of)
    return slots, condemned


def versioned_pod(inp: Inputs, ordinal: int) -> Pod:
    """The pod to create for ordinal: at the current revision below the
    partition of a rolling update, else at the update revision."""
    cur = inp.current_set
    index = ordinal - util.start_ordinal(cur)
    if cur.spec.update_strategy.type == util.ROLLING_UPDATE and index < util.partition(cur):
        return util.new_pod(inp.set, cur, ordinal, inp.current_revision)
    return util.new_pod(inp.set, inp.update_set, ordinal, inp.update_revision)


def plan(inp: Inputs) -> list[Action]:
    set_ = inp.set
    slots, condemned = split_pods(set_, inp.pods)
    start = util.start_ordinal(set_)
    replicas: list[Pod] = [
        pod if pod is not None else versioned_pod(inp, start + i) for i, pod in enumerate(slots)
    ]
    if set_.metadata.deletion_timestamp:
        return []
    monotonic = not util.allows_burst(set_)
    min_ready = set_.spec.min_ready_seconds
    healthy = lambda pod: util.is_healthy(pod, min_ready, inp.now)  # noqa: E731
    first_unhealthy = next((p for p in (*replicas, *condemned) if not healthy(p)), None)

    for pod in replicas:
        if _process_replica(inp, pod, monotonic) and monotonic:
            return inp.actions
    for pod in condemned:
        if not inp.claims_ok(pod):
            inp.actions.append(Action(CLAIMS, pod))
    for pod in reversed(condemned) if monotonic else condemned:
        if _process_condemned(inp, pod, monotonic, first_unhealthy) and monotonic:
            return inp.actions
    if set_.spec.update_strategy.type == util.ON_DELETE:
        return inp.actions
    _rolling_update(inp, replicas, healthy)
    return inp.actions


def _process_replica(inp: Inputs, pod: Pod, monotonic: bool) -> bool:
    """Append the replica's action; True when a monotonic walk must stop here."""
    now, min_ready = inp.now, inp.set.spec.min_ready_seconds
    if util.is_created(pod) and (util.is_failed(pod) or util.is_succeeded(pod)):
        if not util.is_terminating(pod):
            inp.actions.append(Action(DELETE, pod, f"pod is {pod.status.phase}"))
        return True
    if not util.is_created(pod):
        if inp.claim_stale(util.ordinal_of(pod)):
            return True
        inp.actions.append(Action(CREATE, pod))
        return True
    if util.is_terminating(pod) and monotonic:
        return True
    if not util.is_running_and_ready(pod) and monotonic:
        return True
    if not util.is_running_and_available(pod, min_ready, now) and monotonic:
        return True
    if (
        util.identity_matches(inp.set, pod)
        and util.storage_matches(inp.set, pod)
        and inp.claims_ok(pod)
    ):
        return False
    inp.actions.append(Action(UPDATE, pod))
    return False


def _process_condemned(inp: Inputs, pod: Pod, monotonic: bool, first_unhealthy: Pod | None) -> bool:
    if util.is_terminating(pod):
        return monotonic
    min_ready = inp.set.spec.min_ready_seconds
    first = first_unhealthy is not None and first_unhealthy.metadata.uid == pod.metadata.uid
    if monotonic and not first:
        if not util.is_running_and_ready(pod):
            return True
        if not util.is_running_and_available(pod, min_ready, inp.now):
            return True
    inp.actions.append(Action(DELETE, pod, "scale down"))
    return True


def _rolling_update(inp: Inputs, replicas: list[Pod], healthy: Callable[[Pod], bool]) -> None:
    set_ = inp.set
    max_unavailable = util.max_unavailable(set_)
    unavailable = sum(1 for pod in replicas if not healthy(pod))
    deleted = {a.name for a in inp.actions if a.kind == DELETE}
    unavailable += sum(1 for pod in replicas if pod.metadata.name in deleted and healthy(pod))
    budget = max_unavailable - unavailable
    update_min = util.partition(set_)
    for index in range(len(replicas) - 1, update_min - 1, -1):
        if budget <= 0:
            return
        pod = replicas[index]
        if (
            util.is_created(pod)
            and util.revision_of(pod) != inp.update_revision
            and not util.is_terminating(pod)
            and pod.metadata.name not in deleted
        ):
            inp.actions.append(Action(DELETE, pod, "update"))
            budget -= 1
