"""ControllerRevisions: found, created with max+1, bumped on rollback,
collisions, and history cleanup, over a fake revision API."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.daemonset.history import (
    HashCollision,
    cleanup_history,
    construct_history,
    matches,
    new_revision,
)
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import errors
from pinnace.machinery.wellknown import LABEL_CONTROLLER_REVISION_HASH as HASH_LABEL
from tests.unit.controllers.daemonset.test_ds_plan import ds


class FakeRevisions:
    def __init__(self, *existing: Any) -> None:
        self.stored = {r.metadata.name: r for r in existing}
        self.actions: list[tuple[str, str, int]] = []

    async def create(self, cr: Any) -> Any:
        self.actions.append(("create", cr.metadata.name, cr.revision))
        if cr.metadata.name in self.stored:
            raise errors.AlreadyExists("exists")
        self.stored[cr.metadata.name] = cr
        return cr

    async def update(self, cr: Any) -> Any:
        self.actions.append(("update", cr.metadata.name, cr.revision))
        return cr

    async def get(self, name: str) -> Any:
        return self.stored[name]

    async def delete(self, name: str, uid: str) -> None:
        self.actions.append(("delete", name, 0))


def with_image(image: str) -> Any:
    d = ds()
    d.spec.template.spec.containers[0].image = image
    return d


async def _no_bump(count: int) -> None:
    raise AssertionError("no collision expected")


async def test_first_revision_is_created() -> None:
    fake = FakeRevisions()
    h = await construct_history(with_image("v1"), [], control=fake, bump_collision=_no_bump)
    assert fake.actions == [("create", h.current.metadata.name, 1)]
    assert h.hash and h.current.metadata.labels[HASH_LABEL] == h.hash
    assert matches(h.current, with_image("v1"))


async def test_rollback_bumps_the_old_revision() -> None:
    r1 = new_revision(with_image("v1"), 1, None)
    r2 = new_revision(with_image("v2"), 2, None)
    fake = FakeRevisions(r1, r2)
    h = await construct_history(with_image("v1"), [r1, r2], control=fake, bump_collision=_no_bump)
    assert fake.actions == [("update", r1.metadata.name, 3)]
    assert h.hash == r1.metadata.labels[HASH_LABEL]
    assert [r.metadata.name for r in h.old] == [r2.metadata.name]


async def test_collision_bumps_the_count() -> None:
    clash = new_revision(with_image("v2"), 1, None)
    clash.metadata.name = new_revision(with_image("v1"), 1, None).metadata.name
    fake = FakeRevisions(clash)
    bumped: list[int] = []

    async def bump(count: int) -> None:
        bumped.append(count)

    with pytest.raises(HashCollision):
        await construct_history(with_image("v1"), [], control=fake, bump_collision=bump)
    assert bumped == [1]


async def test_cleanup_keeps_the_limit_and_revisions_in_use() -> None:
    d = with_image("v9")
    d.spec.revision_history_limit = 1
    old = [new_revision(with_image(f"v{i}"), i, None) for i in (1, 2, 3)]
    in_use = pod_pb2.Pod()
    in_use.metadata.labels[HASH_LABEL] = old[0].metadata.labels[HASH_LABEL]
    fake = FakeRevisions(*old)
    await cleanup_history(d, old, [in_use], control=fake)
    assert [a[1] for a in fake.actions] == [old[1].metadata.name, old[2].metadata.name][:2]
