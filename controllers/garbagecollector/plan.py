"""What to do with a dependent, given what its owners are (pure).

Kubernetes' attemptToDeleteItem sorts a dependent's owner references into
three groups after looking each owner up live:

* solid: the owner exists and is not being deleted in the foreground;
* dangling (ABSENT here): no object with that uid exists where the
  reference points (gone, never existed, or an invalid namespace);
* waiting: the owner exists, is being deleted in the foreground, and waits
  for its dependents.

and then:

1. Some owner is solid: the dependent stays. References to absent and
   waiting owners are removed (a dependent with a live owner must neither
   dangle nor hold up a foreground deletion).
2. No solid owner, some waiting owner, and the dependent has dependents of
   its own: it is deleted in the foreground too, so the wait propagates
   down the chain. If one of its own dependents is itself waiting for its
   dependents, the chain is a cycle: first its references to the waiting
   owners lose blockOwnerDeletion, so the cycle cannot hold itself up.
3. Otherwise (every owner absent, or waiting with nothing below): the
   dependent is deleted, with the policy its own finalizers ask for
   (orphan → Orphan, foregroundDeletion → Foreground, else Background).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from controllers.garbagecollector.graph import FOREGROUND, ORPHAN, Owner


class OwnerState(enum.Enum):
    SOLID = "solid"
    ABSENT = "absent"
    WAITING = "waiting"  # being deleted in the foreground
    UNKNOWN = "unknown"  # a kind we do not serve: never treated as gone


class Action(enum.Enum):
    NONE = "none"
    REMOVE_REFS = "remove-refs"
    DELETE = "delete"


@dataclass(frozen=True)
class Decision:
    action: Action
    remove_owners: frozenset[str] = frozenset()  # REMOVE_REFS: owner uids to drop
    unblock_owners: frozenset[str] = frozenset()  # DELETE: set blockOwnerDeletion=false first
    propagation: str = ""  # DELETE: the policy to delete with


NOTHING = Decision(Action.NONE)


def decide(
    *,
    owners: Sequence[Owner],
    states: Mapping[str, OwnerState],
    finalizers: Sequence[str] = (),
    has_dependents: bool = False,
    dependent_waiting: bool = False,
) -> Decision:
    """The decision for one dependent (see the module docstring).

    ``states`` maps each owner uid to its state; ``has_dependents`` says
    whether the dependent owns anything itself and ``dependent_waiting``
    whether one of those is being deleted in the foreground."""
    if not owners:
        return NOTHING
    solid = [o for o in owners if states[o.uid] in (OwnerState.SOLID, OwnerState.UNKNOWN)]
    absent = [o for o in owners if states[o.uid] is OwnerState.ABSENT]
    waiting = [o for o in owners if states[o.uid] is OwnerState.WAITING]
    if solid:
        gone = frozenset(o.uid for o in absent + waiting)
        return Decision(Action.REMOVE_REFS, remove_owners=gone) if gone else NOTHING
    if waiting and has_dependents:
        unblock = frozenset(o.uid for o in waiting if o.block_owner_deletion and dependent_waiting)
        return Decision(Action.DELETE, unblock_owners=unblock, propagation="Foreground")
    return Decision(Action.DELETE, propagation=own_policy(finalizers))


def own_policy(finalizers: Sequence[str]) -> str:
    """The policy a dependent is deleted with when nothing else says: the one
    its own finalizers already ask for."""
    if ORPHAN in finalizers:
        return "Orphan"
    if FOREGROUND in finalizers:
        return "Foreground"
    return "Background"
