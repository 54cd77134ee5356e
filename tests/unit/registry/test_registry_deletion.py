"""The pure parts of a delete: finalizers per propagation policy, and
several failures reported as one (Kubernetes' NewAggregate)."""

from __future__ import annotations

import pytest

from apiserver.registry.deletion import finalizers_for, propagation
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery import errors
from pinnace.machinery.errors import aggregate

ORPHAN, FG = "orphan", "foregroundDeletion"


@pytest.mark.parametrize(
    ("policy", "given", "want"),
    [
        pytest.param("Orphan", [], [ORPHAN], id="orphan-adds"),
        pytest.param("Orphan", [FG, "x"], ["x", ORPHAN], id="orphan-replaces-foreground"),
        pytest.param("Orphan", [ORPHAN], [ORPHAN], id="orphan-once"),
        pytest.param("Foreground", [ORPHAN], [FG], id="foreground-replaces-orphan"),
        pytest.param("Background", [ORPHAN, FG, "x"], ["x"], id="background-drops-both"),
        pytest.param(None, [ORPHAN, "x"], [ORPHAN, "x"], id="none-keeps"),
    ],
)
def test_finalizers_for(policy: str | None, given: list[str], want: list[str]) -> None:
    assert finalizers_for(policy, given) == want


@pytest.mark.parametrize(
    ("options", "finalizers", "deleting", "want"),
    [
        pytest.param(meta_pb2.DeleteOptions(), [], False, "Background", id="kind-default"),
        pytest.param(
            meta_pb2.DeleteOptions(propagation_policy="Orphan"), [FG], True, "Orphan", id="explicit"
        ),
        pytest.param(
            meta_pb2.DeleteOptions(orphan_dependents=False), [], False, "Background", id="legacy"
        ),
        pytest.param(meta_pb2.DeleteOptions(), [ORPHAN], False, None, id="finalizer-kept"),
        pytest.param(meta_pb2.DeleteOptions(), [], True, None, id="already-deleting"),
    ],
)
def test_propagation(
    options: meta_pb2.DeleteOptions, finalizers: list[str], deleting: bool, want: str | None
) -> None:
    assert propagation(options, finalizers, "Background", deleting) == want


def test_aggregate_none_and_one() -> None:
    assert aggregate([]) is None
    one = errors.Conflict("c")
    assert aggregate([one]) is one


@pytest.mark.parametrize(
    ("errs", "cls", "message"),
    [
        pytest.param(
            [errors.PreconditionFailed("a"), errors.PreconditionFailed("b")],
            errors.PreconditionFailed,
            "[a, b]",
            id="same-type-kept",
        ),
        pytest.param(
            [errors.Forbidden("a"), errors.Timeout("b"), errors.Forbidden("c")],
            errors.InternalError,
            "[a, b, c]",
            id="mixed-is-internal",
        ),
    ],
)
def test_aggregate_several(errs: list[errors.ApiError], cls: type, message: str) -> None:
    err = aggregate(errs)
    assert type(err) is cls
    assert err is not None and err.message == message
