"""Recreate decisions: old scaled to 0, then wait for old pods, then new."""

from __future__ import annotations

from controllers.deployment.recreate import rollout_recreate
from pinnace.machinery.wellknown import ANNOTATION_DEPLOYMENT_REVISION
from tests.unit.controllers.deployment.fakes import (
    FakeControl,
    make_deployment,
    make_pod,
    make_rs,
    syncer,
)


async def test_scales_old_to_zero_first_and_creates_nothing() -> None:
    d = make_deployment(replicas=3, strategy="Recreate", image="v2")
    old = make_rs("web-old", owner=d, image="v1", replicas=3, revision=1)
    fake = FakeControl(d, old)
    await rollout_recreate(syncer(fake), d, [old], {old.metadata.uid: []})
    assert fake.scale_actions() == [("web-old", 0)]


async def test_waits_while_old_pods_exist() -> None:
    d = make_deployment(replicas=3, strategy="Recreate", image="v2")
    old = make_rs("web-old", owner=d, image="v1", replicas=0, actual=0, revision=1)
    pod = make_pod("web-old-x", old, phase="Running")
    pod.metadata.deletion_timestamp = "2024-01-01T00:00:00Z"  # terminating still counts
    fake = FakeControl(d, old)
    await rollout_recreate(syncer(fake), d, [old], {old.metadata.uid: [pod]})
    assert fake.scale_actions() == []


async def test_waits_while_old_rs_reports_replicas() -> None:
    d = make_deployment(replicas=3, strategy="Recreate", image="v2")
    old = make_rs("web-old", owner=d, image="v1", replicas=0, actual=2, revision=1)
    fake = FakeControl(d, old)
    await rollout_recreate(syncer(fake), d, [old], {old.metadata.uid: []})
    assert fake.scale_actions() == []


async def test_finished_pods_do_not_block() -> None:
    d = make_deployment(replicas=3, strategy="Recreate", image="v2")
    old = make_rs("web-old", owner=d, image="v1", replicas=0, actual=0, revision=1)
    pods = [make_pod("a", old, phase="Succeeded"), make_pod("b", old, phase="Failed")]
    fake = FakeControl(d, old)
    await rollout_recreate(syncer(fake), d, [old], {old.metadata.uid: pods})
    (created,) = [a for a in fake.actions if a[0] == "create"]
    assert created[2] == 3  # straight to full size
    rs = fake.rss[created[1]]
    assert rs.metadata.annotations[ANNOTATION_DEPLOYMENT_REVISION] == "2"


async def test_existing_new_rs_is_scaled_up_after_old_gone() -> None:
    d = make_deployment(replicas=3, strategy="Recreate", image="v2")
    old = make_rs("web-old", owner=d, image="v1", replicas=0, actual=0, revision=1)
    new = make_rs("web-new", owner=d, image="v2", replicas=0, revision=2)
    fake = FakeControl(d, old, new)
    await rollout_recreate(
        syncer(fake), d, [old, new], {old.metadata.uid: [], new.metadata.uid: []}
    )
    assert fake.scale_actions() == [("web-new", 3)]
