"""What the garbage collector does with one dependent, by its owners' states."""

from __future__ import annotations

import pytest

from controllers.garbagecollector.graph import FOREGROUND, ORPHAN, Owner
from controllers.garbagecollector.plan import Action, Decision, OwnerState, decide

A = Owner("apps/v1", "ReplicaSet", "a", "A", block_owner_deletion=True)
B = Owner("apps/v1", "ReplicaSet", "b", "B", block_owner_deletion=True)
C = Owner("apps/v1", "ReplicaSet", "c", "C", block_owner_deletion=False)

SOLID, ABSENT, WAITING, UNKNOWN = (
    OwnerState.SOLID,
    OwnerState.ABSENT,
    OwnerState.WAITING,
    OwnerState.UNKNOWN,
)


def delete(policy: str, unblock: frozenset[str] = frozenset()) -> Decision:
    return Decision(Action.DELETE, unblock_owners=unblock, propagation=policy)


def remove(*uids: str) -> Decision:
    return Decision(Action.REMOVE_REFS, remove_owners=frozenset(uids))


NOTHING = Decision(Action.NONE)


@pytest.mark.parametrize(
    ("owners", "states", "kwargs", "want"),
    [
        pytest.param([], {}, {}, NOTHING, id="no-owners"),
        pytest.param([A], {"A": SOLID}, {}, NOTHING, id="owner-alive"),
        pytest.param([A], {"A": ABSENT}, {}, delete("Background"), id="owner-gone"),
        pytest.param(
            [A, B], {"A": ABSENT, "B": ABSENT}, {}, delete("Background"), id="all-owners-gone"
        ),
        pytest.param([A, B], {"A": ABSENT, "B": SOLID}, {}, remove("A"), id="one-of-two-gone"),
        pytest.param(
            [A, B, C],
            {"A": ABSENT, "B": SOLID, "C": WAITING},
            {},
            remove("A", "C"),
            id="live-owner-drops-gone-and-waiting",
        ),
        pytest.param([A, B], {"A": WAITING, "B": SOLID}, {}, remove("A"), id="waiting-and-alive"),
        pytest.param([A], {"A": WAITING}, {}, delete("Background"), id="waiting-leaf"),
        pytest.param(
            [A],
            {"A": WAITING},
            {"has_dependents": True},
            delete("Foreground"),
            id="waiting-with-dependents-propagates-foreground",
        ),
        pytest.param(
            [A, C],
            {"A": WAITING, "C": WAITING},
            {"has_dependents": True, "dependent_waiting": True},
            delete("Foreground", frozenset({"A"})),
            id="cycle-unblocks-blocking-refs",
        ),
        pytest.param(
            [A, B],
            {"A": WAITING, "B": ABSENT},
            {"has_dependents": True},
            delete("Foreground"),
            id="waiting-and-gone",
        ),
        pytest.param([A], {"A": UNKNOWN}, {}, NOTHING, id="unknown-kind-kept"),
        pytest.param(
            [A], {"A": ABSENT}, {"finalizers": [ORPHAN]}, delete("Orphan"), id="own-orphan"
        ),
        pytest.param(
            [A],
            {"A": ABSENT},
            {"finalizers": [FOREGROUND]},
            delete("Foreground"),
            id="own-foreground",
        ),
        pytest.param(
            [A],
            {"A": ABSENT},
            {"has_dependents": True},
            delete("Background"),
            id="gone-owner-with-dependents-background",
        ),
    ],
)
def test_decide(owners, states, kwargs, want) -> None:
    assert decide(owners=owners, states=states, **kwargs) == want
