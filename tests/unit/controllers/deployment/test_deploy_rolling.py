"""Rolling update decisions: given ReplicaSets (and their availability),
which scale actions one sync takes."""

from __future__ import annotations

import asyncio

import pytest

from controllers.deployment import rolling, util
from controllers.deployment.rolling import rollout_rolling
from pinnace.machinery.wellknown import (
    ANNOTATION_DEPLOYMENT_REVISION,
    DEPLOYMENT_PROGRESSING,
    LABEL_POD_TEMPLATE_HASH,
)
from tests.unit.controllers.deployment.fakes import FakeControl, make_deployment, make_rs, syncer


def test_first_sync_creates_new_rs_with_hash_and_revision() -> None:
    d = make_deployment(replicas=3, surge="25%", unavailable="25%")
    fake = FakeControl(d)
    s = syncer(fake)
    delay = asyncio.run(rollout_rolling(s, d, []))
    (name,) = fake.rss
    pod_hash = util.compute_hash(d.spec.template, None)
    assert name == f"web-{pod_hash}"
    rs = fake.rss[name]
    assert rs.spec.replicas == 3  # nothing old to replace: straight to spec.replicas
    assert rs.spec.selector.match_labels[LABEL_POD_TEMPLATE_HASH] == pod_hash
    assert rs.spec.template.metadata.labels[LABEL_POD_TEMPLATE_HASH] == pod_hash
    assert rs.metadata.labels[LABEL_POD_TEMPLATE_HASH] == pod_hash
    assert rs.metadata.annotations[ANNOTATION_DEPLOYMENT_REVISION] == "1"
    assert rs.metadata.owner_references[0].uid == d.metadata.uid
    assert d.metadata.annotations[ANNOTATION_DEPLOYMENT_REVISION] == "1"
    assert (
        "Normal",
        "ScalingReplicaSet",
        f"Scaled up replica set {name} from 0 to 3",
    ) in fake.events
    progressing = [c for c in d.status.conditions if c.type == DEPLOYMENT_PROGRESSING]
    assert progressing[0].reason == util.NEW_RS_REASON
    assert delay is None


# (old RSs as (replicas, available), new RS (replicas, available)) -> scale actions
CASES = [
    pytest.param(
        dict(replicas=10, surge=3, unavailable=2, old=[(10, 10)], new=(3, 0)),
        [("web-old0", 8)],
        id="old-scaled-down-within-max-unavailable",
    ),
    pytest.param(
        dict(replicas=10, surge=3, unavailable=2, old=[(8, 8)], new=(3, 0)),
        [("web-new", 5)],
        id="new-grows-to-surge-ceiling",
    ),
    pytest.param(
        dict(replicas=10, surge=3, unavailable=2, old=[(8, 8)], new=(5, 0)),
        [],
        id="stuck-bad-image-8-old-5-new",
    ),
    pytest.param(
        dict(replicas=10, surge=3, unavailable=2, old=[(8, 8)], new=(5, 5)),
        [("web-old0", 3)],
        id="new-available-lets-old-go",
    ),
    pytest.param(
        dict(replicas=3, surge=1, unavailable=0, old=[(3, 3)], new=(0, 0)),
        [("web-new", 1)],
        id="max-unavailable-0-surges-first",
    ),
    pytest.param(
        dict(replicas=3, surge=1, unavailable=0, old=[(3, 3)], new=(1, 0)),
        [],
        id="max-unavailable-0-waits-for-new-pod",
    ),
    pytest.param(
        dict(replicas=3, surge=0, unavailable=1, old=[(3, 3)], new=(0, 0)),
        [("web-old0", 2)],
        id="no-surge-removes-first",
    ),
    pytest.param(
        # rollover: the intermediate RS (old1) is stuck with unavailable pods;
        # they are cleaned up first (they cost no availability).
        dict(replicas=3, surge=1, unavailable=0, old=[(3, 3), (1, 0)], new=(0, 0)),
        [("web-old1", 0)],
        id="rollover-scales-down-stuck-middle-rs",
    ),
    pytest.param(
        dict(replicas=4, surge=1, unavailable=1, old=[(2, 2), (2, 2)], new=(1, 1)),
        [("web-old0", 0)],
        id="oldest-old-rs-goes-first",
    ),
    pytest.param(
        dict(replicas=2, surge=1, unavailable=0, old=[(0, 0)], new=(3, 3)),
        [("web-new", 2)],
        id="new-above-replicas-shrinks",
    ),
]


@pytest.mark.parametrize(("case", "want"), CASES)
async def test_rolling_step(case: dict, want: list[tuple[str, int]]) -> None:
    d = make_deployment(
        replicas=case["replicas"], surge=case["surge"], unavailable=case["unavailable"]
    )
    olds = [
        make_rs(
            f"web-old{i}",
            owner=d,
            image=f"v0-{i}",
            replicas=r,
            available=a,
            created=i,
            revision=i + 1,
        )
        for i, (r, a) in enumerate(case["old"])
    ]
    nr, na = case["new"]
    new = make_rs("web-new", owner=d, replicas=nr, available=na, created=50, revision=len(olds) + 1)
    fake = FakeControl(d, *olds, new)
    s = syncer(fake)
    await rollout_rolling(s, d, [*olds, new])
    assert fake.scale_actions() == want


def test_bounds_hold_over_a_simulated_rollout() -> None:
    """Drive rollout_rolling to completion with pods becoming available at
    once; total never exceeds replicas + surge, available never drops below
    replicas - unavailable."""

    async def run() -> None:
        d = make_deployment(replicas=10, surge="25%", unavailable="25%")
        old = make_rs("web-old", owner=d, image="v0", replicas=10, revision=1)
        fake = FakeControl(d, old)
        for _ in range(40):
            s = syncer(fake)
            rss = list(fake.rss.values())
            for rs in rss:  # the RS controller: pods exist and are available
                rs.status.replicas = rs.status.available_replicas = rs.spec.replicas
            total = sum(rs.spec.replicas for rs in rss)
            available = sum(rs.status.available_replicas for rs in rss)
            assert total <= 13 and available >= 8
            await rollout_rolling(s, d, rss)
        new = [rs for rs in fake.rss.values() if rs.spec.template.spec.containers[0].image == "v1"]
        assert new[0].spec.replicas == 10
        assert fake.rss["web-old"].spec.replicas == 0

    asyncio.run(run())


def test_unhealthy_cleanup_plan_is_oldest_first_and_bounded() -> None:
    a = make_rs("web-a", replicas=3, available=1, created=1)
    b = make_rs("web-b", replicas=2, available=0, created=0)
    plan = rolling.unhealthy_cleanup_plan([a, b], budget=3)
    assert [(rs.metadata.name, n) for rs, n in plan] == [("web-b", 0), ("web-a", 2)]


def test_max_scaled_down_worked_example() -> None:
    d = make_deployment(replicas=10, surge=3, unavailable=2)
    old = make_rs("web-old", image="v0", replicas=10)
    new = make_rs("web-new", replicas=3, available=0)
    assert rolling.max_scaled_down([old, new], new, d) == 2


def test_scale_down_ignores_pods_a_shrinking_rs_still_reports() -> None:
    """Old RS just scaled 8 -> 7, its status still says 8 available (the
    pod is being deleted): with 2 new available and min 7 available, only
    2 more may go, not 3."""
    d = make_deployment(replicas=8, surge=2, unavailable=1)
    old = make_rs("web-old", image="v0", replicas=7, available=8, actual=8)
    new = make_rs("web-new", replicas=3, available=2)
    plan = rolling.rolling_scale_down_plan([old, new], [old], d)
    assert [(rs.metadata.name, n) for rs, n in plan] == [("web-old", 5)]
