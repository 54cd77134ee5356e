"""A whole sync through ``reconcile`` on fakes: new ReplicaSets, collisions,
adoption, scaling events, pause, rollback, history cleanup."""

from __future__ import annotations

from controllers.controllerref import owner_reference
from controllers.deployment import util
from controllers.deployment.controller import reconcile
from pinnace.machinery import errors
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.wellknown import (
    ANNOTATION_CHANGE_CAUSE,
    ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS,
    ANNOTATION_DEPLOYMENT_MAX_REPLICAS,
    ANNOTATION_DEPLOYMENT_REVISION,
    ANNOTATION_DEPLOYMENT_REVISION_HISTORY,
    ANNOTATION_DEPLOYMENT_ROLLBACK_TO,
    DEPLOYMENT_PROGRESSING,
    LABEL_POD_TEMPLATE_HASH,
)
from tests.unit.controllers.deployment.fakes import (
    FakeControl,
    make_deployment,
    make_rs,
    syncer,
)


async def test_already_exists_ours_with_same_template_is_used() -> None:
    d = make_deployment(replicas=2)
    pod_hash = util.compute_hash(d.spec.template, None)
    fake = FakeControl(d)
    # the RS exists in the API (and cache) but our rs_list missed it
    mine = make_rs(f"web-{pod_hash}", owner=d, replicas=2, pod_hash=pod_hash)
    fake.rss[mine.metadata.name] = mine
    await reconcile(syncer(fake), d, [], {})
    assert [a for a in fake.actions if a[0] in ("create", "scale")] == []
    assert d.status.HasField("collision_count") is False


async def test_hash_collision_bumps_collision_count() -> None:
    d = make_deployment(replicas=2)
    pod_hash = util.compute_hash(d.spec.template, None)
    fake = FakeControl(d)
    other = make_deployment(uid="someone-else")
    theirs = make_rs(f"web-{pod_hash}", owner=other, image="other", pod_hash=pod_hash)
    fake.rss[theirs.metadata.name] = theirs
    try:
        await reconcile(syncer(fake), d, [], {})
    except errors.AlreadyExists:
        pass
    else:
        raise AssertionError("a collision is an error (the sync is retried)")
    assert d.status.collision_count == 1
    # the retry uses a different name
    await reconcile(syncer(fake), d, [], {})
    created = [a for a in fake.actions if a[0] == "create"]
    assert created[-1][1] == f"web-{util.compute_hash(d.spec.template, 1)}"


async def test_create_failure_sets_replica_set_create_error() -> None:
    d = make_deployment(replicas=2)
    fake = FakeControl(d)
    fake.fail["create"] = errors.Forbidden("exceeded quota")
    try:
        await reconcile(syncer(fake), d, [], {})
    except errors.Forbidden:
        pass
    cond = find_condition(d.status.conditions, DEPLOYMENT_PROGRESSING)
    assert (cond.status, cond.reason) == ("False", util.FAILED_RS_CREATE_REASON)
    assert fake.events[-1][1] == util.FAILED_RS_CREATE_REASON


async def test_claim_adopts_matching_orphan_and_releases_mismatch() -> None:
    d = make_deployment(replicas=1)
    orphan = make_rs("web-orphan", replicas=1)
    owned = make_rs("web-owned", owner=d, image="v0", replicas=0)
    owned.metadata.labels["app"] = "other"  # no longer selected
    stranger = make_rs("web-stranger", owner=make_deployment(uid="x"), replicas=1)
    fake = FakeControl(d, orphan, owned, stranger)
    claimed = await syncer(fake).claim_replica_sets(d, [orphan, owned, stranger])
    assert [rs.metadata.name for rs in claimed] == ["web-orphan"]
    assert claimed[0].metadata.owner_references[0].uid == d.metadata.uid
    patched = {a[1]: a[2] for a in fake.actions if a[0] == "patch-rs"}
    assert set(patched) == {"web-orphan", "web-owned"}
    assert patched["web-owned"]["metadata"]["ownerReferences"] is None


async def test_adopted_rs_with_same_template_is_the_new_one_no_extra_rs() -> None:
    """The conformance adoption case: an existing RS running the template
    (without pod-template-hash) is adopted and becomes the new RS."""
    d = make_deployment(replicas=1)
    orphan = make_rs("web-existing", replicas=1)
    orphan.spec.template.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH)
    fake = FakeControl(d, orphan)
    s = syncer(fake)
    rs_list = await s.claim_replica_sets(d, [orphan])
    await reconcile(s, d, rs_list, {})
    assert not [a for a in fake.actions if a[0] in ("create", "scale")]
    assert fake.rss["web-existing"].metadata.annotations[ANNOTATION_DEPLOYMENT_REVISION] == "1"


async def test_no_adoption_when_deployment_is_gone() -> None:
    d = make_deployment(replicas=1)
    orphan = make_rs("web-orphan", replicas=1)
    fake = FakeControl(orphan)  # the API has no Deployment
    assert await syncer(fake).claim_replica_sets(d, [orphan]) == []
    assert not fake.actions


async def test_scaling_event_is_proportional_conformance_numbers() -> None:
    d = make_deployment(replicas=30, surge=3, unavailable=2, image="bad")
    d.status.replicas = 13
    old = make_rs(
        "web-old", owner=d, image="v1", replicas=8, revision=1, desired=10, max_replicas=13
    )
    new = make_rs(
        "web-new",
        owner=d,
        image="bad",
        replicas=5,
        available=0,
        revision=2,
        created=5,
        desired=10,
        max_replicas=13,
    )
    fake = FakeControl(d, old, new)
    await reconcile(syncer(fake), d, [old, new], {})
    assert sorted(fake.scale_actions()) == [("web-new", 13), ("web-old", 20)]
    for name in ("web-old", "web-new"):
        ann = fake.rss[name].metadata.annotations
        assert (
            ann[ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS],
            ann[ANNOTATION_DEPLOYMENT_MAX_REPLICAS],
        ) == (
            "30",
            "33",
        )


async def test_paused_holds_template_but_applies_scale() -> None:
    d = make_deployment(replicas=5, image="v2", paused=True)
    old = make_rs("web-old", owner=d, image="v1", replicas=3, revision=1, desired=3, max_replicas=4)
    fake = FakeControl(d, old)
    await reconcile(syncer(fake), d, [old], {})
    assert fake.scale_actions() == [("web-old", 5)]  # no new RS
    cond = find_condition(d.status.conditions, DEPLOYMENT_PROGRESSING)
    assert (cond.status, cond.reason) == ("Unknown", util.PAUSED_REASON)
    # resumed: the condition says so, and the rollout starts
    d.spec.paused = False
    await reconcile(syncer(fake), d, [fake.rss["web-old"]], {})
    assert any(a[0] == "create" for a in fake.actions)
    assert find_condition(d.status.conditions, DEPLOYMENT_PROGRESSING).reason in (
        util.RESUMED_REASON,
        util.NEW_RS_REASON,
    )


async def test_rollback_reuses_old_rs_with_next_revision() -> None:
    """After `rollout undo` put the v1 template back: the v1 RS is the new
    one, it gets revision 3 and remembers 1 in revision-history."""
    d = make_deployment(replicas=2, surge=1, unavailable=0, image="v1")
    v1 = make_rs("web-v1", owner=d, image="v1", replicas=0, revision=1, created=0)
    v2 = make_rs(
        "web-v2", owner=d, image="v2", replicas=2, revision=2, created=5, desired=2, max_replicas=3
    )
    fake = FakeControl(d, v1, v2)
    await reconcile(syncer(fake), d, [v1, v2], {})
    ann = fake.rss["web-v1"].metadata.annotations
    assert (ann[ANNOTATION_DEPLOYMENT_REVISION], ann[ANNOTATION_DEPLOYMENT_REVISION_HISTORY]) == (
        "3",
        "1",
    )
    assert not [a for a in fake.actions if a[0] == "create"]


async def test_legacy_rollback_annotation_copies_template() -> None:
    d = make_deployment(
        replicas=2, image="v2", annotations={ANNOTATION_DEPLOYMENT_ROLLBACK_TO: "0"}
    )
    v1 = make_rs("web-v1", owner=d, image="v1", replicas=0, revision=1, created=0)
    v1.metadata.annotations[ANNOTATION_CHANGE_CAUSE] = "first"
    v2 = make_rs("web-v2", owner=d, image="v2", replicas=2, revision=2, created=5)
    fake = FakeControl(d, v1, v2)
    await reconcile(syncer(fake), d, [v1, v2], {})
    assert fake.deployment.spec.template.spec.containers[0].image == "v1"
    assert LABEL_POD_TEMPLATE_HASH not in fake.deployment.spec.template.metadata.labels
    assert ANNOTATION_DEPLOYMENT_ROLLBACK_TO not in fake.deployment.metadata.annotations
    assert fake.deployment.metadata.annotations[ANNOTATION_CHANGE_CAUSE] == "first"
    assert fake.events[-1][1] == util.ROLLBACK_DONE


async def test_history_cleanup_deletes_oldest_scaled_down_beyond_limit() -> None:
    d = make_deployment(replicas=1, history=1)
    olds = [
        make_rs(f"web-{i}", owner=d, image=f"v0{i}", replicas=0, revision=i + 1, created=i)
        for i in range(3)
    ]
    olds[0].status.replicas = 1  # still has a pod: kept
    new = make_rs("web-new", owner=d, replicas=1, revision=4, created=9, desired=1, max_replicas=2)
    d.status.replicas = d.status.updated_replicas = d.status.available_replicas = 1
    fake = FakeControl(d, *olds, new)
    await reconcile(syncer(fake), d, [*olds, new], {})
    assert [a[1] for a in fake.actions if a[0] == "delete"] == ["web-1"]


async def test_history_limit_zero_deletes_all_old() -> None:
    d = make_deployment(replicas=1, history=0)
    olds = [
        make_rs(f"web-{i}", owner=d, image=f"v0{i}", replicas=0, revision=i + 1, created=i)
        for i in range(2)
    ]
    new = make_rs("web-new", owner=d, replicas=1, revision=3, created=9, desired=1, max_replicas=2)
    d.status.replicas = d.status.updated_replicas = d.status.available_replicas = 1
    fake = FakeControl(d, *olds, new)
    await reconcile(syncer(fake), d, [*olds, new], {})
    assert sorted(a[1] for a in fake.actions if a[0] == "delete") == ["web-0", "web-1"]


async def test_status_written_only_when_changed() -> None:
    d = make_deployment(replicas=1)
    new = make_rs("web-new", owner=d, replicas=1, revision=1, desired=1, max_replicas=2)
    d.metadata.annotations[ANNOTATION_DEPLOYMENT_REVISION] = "1"
    fake = FakeControl(d, new)
    await reconcile(syncer(fake), d, [new], {})
    # FoundNewReplicaSet, then the complete status (NewReplicaSetAvailable)
    assert {a[0] for a in fake.actions} == {"status"}
    assert (
        find_condition(d.status.conditions, DEPLOYMENT_PROGRESSING).reason
        == util.NEW_RS_AVAILABLE_REASON
    )
    fake.actions.clear()
    await reconcile(syncer(fake), d, [new], {})
    assert fake.actions == []


async def test_rs_owner_reference_is_controller() -> None:
    d = make_deployment()
    ref = owner_reference(d)
    assert (ref.kind, ref.controller, ref.block_owner_deletion) == ("Deployment", True, True)
