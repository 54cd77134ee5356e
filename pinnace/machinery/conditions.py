"""Status conditions: find, set and remove, for every kind that has them.

Pods, Nodes, Deployments, ReplicaSets, ReplicationControllers, StatefulSets,
DaemonSets and Jobs all keep ``status.conditions`` as a list of messages
with ``type``, ``status``, ``reason``, ``message`` and
``lastTransitionTime`` (some add ``lastUpdateTime``/``lastProbeTime``/
``lastHeartbeatTime``). The rules Kubernetes applies are the same
everywhere (for example deployment_util.go SetDeploymentCondition,
job_controller.go ensureJobConditionStatus, podutil.UpdatePodCondition):

* at most one condition of a type;
* ``lastTransitionTime`` changes only when ``status`` changes;
* writing a condition equal to the current one changes nothing, so a sync
  that recomputes the same status writes nothing.

The functions work on any repeated protobuf field of condition messages and
mutate it in place; ``set_condition`` says whether anything changed.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableSequence
from typing import Any, Protocol, TypeVar

__all__ = ["find_condition", "is_true", "remove_condition", "set_condition"]


class Condition(Protocol):
    type: str
    status: str
    reason: str
    message: str
    last_transition_time: str


C = TypeVar("C", bound=Condition)


def find_condition(conditions: Iterable[C], type: str) -> C | None:
    """The condition of ``type``, or None."""
    for cond in conditions:
        if cond.type == type:
            return cond
    return None


def is_true(conditions: Iterable[Condition], type: str) -> bool:
    """Whether the condition of ``type`` is there with status "True"."""
    cond = find_condition(conditions, type)
    return cond is not None and cond.status == "True"


def remove_condition(conditions: MutableSequence[Any], type: str) -> bool:
    """Drop the condition of ``type``; returns whether there was one."""
    kept = [c for c in conditions if c.type != type]
    if len(kept) == len(conditions):
        return False
    copies = [_copy(c) for c in kept]
    del conditions[:]
    _extend(conditions, copies)
    return True


def set_condition(
    conditions: MutableSequence[Any], new: Condition, *, compare_message: bool = True
) -> bool:
    """Add ``new`` or replace the condition of its type, in place.

    Nothing changes when the current condition has the same status and
    reason (and message, unless ``compare_message`` is False, as for
    Deployments, which keep the first message of a reason). When only the
    reason or message changed, the current ``lastTransitionTime`` is kept.
    Returns whether the list changed."""
    current = find_condition(conditions, new.type)
    if current is not None and _same(current, new, compare_message=compare_message):
        return False
    if current is None:
        _extend(conditions, [_copy(new)])
        return True
    transition = current.last_transition_time
    current.CopyFrom(new)
    if current.status == new.status and transition:
        current.last_transition_time = transition
    return True


def _same(a: Condition, b: Condition, *, compare_message: bool) -> bool:
    if a.status != b.status or a.reason != b.reason:
        return False
    return not compare_message or a.message == b.message


def _copy(cond: Any) -> Any:
    copy = type(cond)()
    copy.CopyFrom(cond)
    return copy


def _extend(conditions: MutableSequence[Any], items: list[Any]) -> None:
    # A repeated message field has no append of a message; extend copies them.
    conditions.extend(items)
