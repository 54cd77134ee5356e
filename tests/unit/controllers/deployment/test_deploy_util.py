"""The pure rollout arithmetic: fenceposts, proportions, saturation, hashes."""

from __future__ import annotations

import pytest

from controllers.deployment import plan, util
from pinnace.machinery.intstr import intstr
from pinnace.machinery.wellknown import (
    ANNOTATION_CHANGE_CAUSE,
    ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS,
    ANNOTATION_DEPLOYMENT_MAX_REPLICAS,
    ANNOTATION_DEPLOYMENT_REVISION,
    ANNOTATION_DEPLOYMENT_REVISION_HISTORY,
    ANNOTATION_LAST_APPLIED,
    LABEL_POD_TEMPLATE_HASH,
)
from tests.unit.controllers.deployment.fakes import make_deployment, make_rs, template


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "want"),
    [
        ("25%", "25%", 10, (3, 2)),  # surge rounds up, unavailable down
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 1, (1, 0)),
        ("0%", "25%", 1, (0, 1)),  # both resolve to 0: unavailable becomes 1
        (0, "10%", 5, (0, 1)),
        (3, 2, 10, (3, 2)),
        ("50%", 0, 3, (2, 0)),
        ("100%", "100%", 7, (7, 7)),
    ],
    ids=[
        "25pct-of-10",
        "25pct-of-4",
        "25pct-of-1",
        "both-zero",
        "int0-pct-rounds-to-0",
        "ints",
        "surge-only",
        "all",
    ],
)
def test_resolve_fenceposts(surge, unavailable, desired, want) -> None:
    assert util.resolve_fenceposts(intstr(surge), intstr(unavailable), desired) == want


def test_max_unavailable_is_capped_and_zero_for_recreate() -> None:
    assert util.max_unavailable(make_deployment(replicas=2, unavailable=5, surge=0)) == 2
    assert util.max_unavailable(make_deployment(replicas=0)) == 0
    assert util.max_unavailable(make_deployment(strategy="Recreate")) == 0
    assert util.max_surge(make_deployment(strategy="Recreate")) == 0


@pytest.mark.parametrize(
    ("old", "new", "want"),
    [
        (10, 0, 3),  # ceiling 13: 3 new
        (8, 3, 5),  # 11 of 13
        (8, 5, 5),  # at the ceiling: stays
        (0, 9, 10),  # never past spec.replicas
    ],
)
def test_new_rs_new_replicas_rolling(old: int, new: int, want: int) -> None:
    d = make_deployment(replicas=10, surge=3, unavailable=2)
    old_rs = make_rs("web-old", replicas=old, image="v0")
    new_rs = make_rs("web-new", replicas=new)
    assert plan.new_rs_new_replicas(d, [old_rs, new_rs], new_rs) == want


def test_new_rs_new_replicas_recreate_is_full_size() -> None:
    d = make_deployment(replicas=4, strategy="Recreate")
    new_rs = make_rs("web-new", replicas=0)
    assert plan.new_rs_new_replicas(d, [new_rs], new_rs) == 4


def _stuck_rollout(replicas: int) -> tuple:
    """The conformance test's state: 10 replicas, maxSurge 3, maxUnavailable
    2, a template whose pods never become ready (old 8, new 5)."""
    d = make_deployment(replicas=replicas, surge=3, unavailable=2)
    d.status.replicas = 13
    old = make_rs("web-old", image="v0", replicas=8, created=0, desired=10, max_replicas=13)
    new = make_rs("web-new", replicas=5, available=0, created=10, desired=10, max_replicas=13)
    return d, new, old


@pytest.mark.parametrize(
    ("replicas", "want_old", "want_new"),
    [
        (30, 20, 13),  # the conformance numbers
        (10, 8, 5),  # no change
        (20, 14, 9),  # 23 = round(8*23/13)=14, round(5*23/13)=9
        (5, 5, 3),  # shrink: ceiling 8; old round(8*8/13)=5, new round(5*8/13)=3
        (0, 0, 0),
    ],
    ids=["scale-to-30", "same", "scale-to-20", "scale-to-5", "scale-to-0"],
)
def test_proportional_scaling(replicas: int, want_old: int, want_new: int) -> None:
    d, new, old = _stuck_rollout(replicas)
    sizes = {rs.metadata.name: size for rs, size in plan.proportional_sizes(d, new, [old])}
    assert sizes == {"web-old": want_old, "web-new": want_new}
    assert sum(sizes.values()) == (replicas + 3 if replicas else 0)


def test_proportional_leftover_goes_to_largest() -> None:
    # Three equal RSs of 1 (ceiling 3 before) scaled to a ceiling of 4: each
    # fraction rounds 1*4/3 = 1.33 down to 0 extra; the leftover 1 goes to the
    # first in order (largest, newest first when growing).
    d = make_deployment(replicas=4, surge=0, unavailable=1)
    rss = [
        make_rs(f"web-{i}", image=f"v{i}", replicas=1, created=i, max_replicas=3) for i in range(3)
    ]
    sizes = plan.proportional_sizes(d, rss[2], rss[:2])
    assert [(rs.metadata.name, n) for rs, n in sizes] == [("web-2", 2), ("web-1", 1), ("web-0", 1)]


def test_proportion_without_annotation_uses_status_replicas() -> None:
    d = make_deployment(replicas=20, surge=0, unavailable=1)
    d.status.replicas = 10
    rs = make_rs("web-a", replicas=5)
    assert plan.get_replica_set_fraction(rs, d) == 5
    d.status.replicas = 0
    assert plan.get_replica_set_fraction(rs, d) == 0


def test_proportion_never_scales_up_from_zero() -> None:
    d = make_deployment(replicas=20)
    assert plan.get_proportion(make_rs("web-a", replicas=0, max_replicas=13), d, 10, 0) == 0


@pytest.mark.parametrize(
    ("rs_replicas", "desired", "available", "want"),
    [
        (10, 10, 10, True),
        (10, 10, 9, False),
        (10, 8, 10, False),
        (9, 10, 10, False),
        (10, None, 10, False),
    ],
)
def test_is_saturated(rs_replicas, desired, available, want) -> None:
    d = make_deployment(replicas=10)
    rs = make_rs("web-a", replicas=rs_replicas, available=available, desired=desired)
    assert plan.is_saturated(d, rs) is want


def test_find_active_or_latest() -> None:
    old1 = make_rs("web-1", image="v1", replicas=0, created=1)
    old2 = make_rs("web-2", image="v2", replicas=0, created=2)
    new = make_rs("web-3", image="v3", replicas=0, created=3)
    assert plan.find_active_or_latest(new, [old1, old2]) is new
    assert plan.find_active_or_latest(None, [old1, old2]) is old2
    old1.spec.replicas = 3
    assert plan.find_active_or_latest(new, [old1, old2]) is old1
    new.spec.replicas = 1
    assert plan.find_active_or_latest(new, [old1, old2]) is None


def test_hash_is_stable_and_changes_with_template_and_collisions() -> None:
    a, b = template("v1"), template("v1")
    assert util.compute_hash(a, None) == util.compute_hash(b, None)
    assert util.compute_hash(a, None) != util.compute_hash(template("v2"), None)
    assert util.compute_hash(a, None) != util.compute_hash(a, 1)
    assert util.compute_hash(a, 1) != util.compute_hash(a, 2)
    h = util.compute_hash(a, None)
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(h) <= 10
    # Pinned values: the hash must not change between runs or machines (a
    # change renames every new ReplicaSet after an upgrade).
    assert util.compute_hash(template("nginx:1.25"), None) == "66fc89b79"
    assert util.compute_hash(template("nginx:1.25"), 1) == "7cfc8d7486"


def test_hash_pinned_value() -> None:
    # FNV-1a 32 of the deterministic serialization, decimal, safe-encoded.
    data = template("nginx:1.25").SerializeToString(deterministic=True)
    assert util.compute_hash(template("nginx:1.25"), None) == util.safe_encode(
        str(util.fnv32a(data))
    )
    assert util.fnv32a(b"") == 0x811C9DC5
    assert util.fnv32a(b"a") == 0xE40C292C  # the published FNV-1a test vector


def test_equal_ignore_hash() -> None:
    a = template("v1")
    b = template("v1")
    b.metadata.labels[LABEL_POD_TEMPLATE_HASH] = "abc"
    assert util.equal_ignore_hash(a, b)
    assert LABEL_POD_TEMPLATE_HASH in b.metadata.labels  # inputs untouched
    assert not util.equal_ignore_hash(a, template("v2"))


def test_find_new_and_old_replica_sets() -> None:
    d = make_deployment(image="v2")
    older = make_rs("web-a", image="v2", replicas=1, created=1)
    newer_dup = make_rs("web-b", image="v2", replicas=1, created=2)
    old = make_rs("web-c", image="v1", replicas=0, created=0)
    assert util.find_new_replica_set(d, [newer_dup, old, older]) is older
    active, all_old = util.find_old_replica_sets(d, [newer_dup, old, older])
    assert [rs.metadata.name for rs in active] == ["web-b"]
    assert {rs.metadata.name for rs in all_old} == {"web-b", "web-c"}


@pytest.mark.parametrize(
    ("existing", "history", "new", "want_rev", "want_history", "changed"),
    [
        (None, None, "1", "1", None, True),
        ("1", None, "1", "1", None, False),
        ("2", None, "5", "5", "2", True),  # a rollback to this RS
        ("4", "1,2", "6", "6", "1,2,4", True),
        ("7", None, "5", "7", None, False),  # never lowered
    ],
)
def test_new_replica_set_revision_annotations(
    existing, history, new, want_rev, want_history, changed
) -> None:
    d = make_deployment(annotations={"team": "a", ANNOTATION_LAST_APPLIED: "{}"})
    rs = make_rs("web-a", revision=int(existing) if existing else None)
    rs.metadata.annotations["team"] = "a"
    if history:
        rs.metadata.annotations[ANNOTATION_DEPLOYMENT_REVISION_HISTORY] = history
    assert util.set_new_replica_set_annotations(d, rs, new, exists=True) is changed
    assert rs.metadata.annotations.get(ANNOTATION_DEPLOYMENT_REVISION) == want_rev
    assert rs.metadata.annotations.get(ANNOTATION_DEPLOYMENT_REVISION_HISTORY) == want_history
    assert ANNOTATION_LAST_APPLIED not in rs.metadata.annotations


def test_revision_history_is_trimmed_oldest_first() -> None:
    long = ",".join(str(i) for i in range(1000))
    out = util._append_history(long, "1000")
    assert len(out) <= util.MAX_REVISION_HISTORY_CHARS
    assert out.endswith(",999,1000") and not out.startswith("0,")


def test_new_rs_annotations_on_create_include_replicas() -> None:
    d = make_deployment(replicas=10, surge=3, annotations={"kubernetes.io/change-cause": "v2"})
    rs = make_rs("web-a")
    util.set_new_replica_set_annotations(d, rs, "3", exists=False)
    ann = rs.metadata.annotations
    assert (
        ann[ANNOTATION_DEPLOYMENT_DESIRED_REPLICAS],
        ann[ANNOTATION_DEPLOYMENT_MAX_REPLICAS],
    ) == (
        "10",
        "13",
    )
    assert ann[ANNOTATION_CHANGE_CAUSE] == "v2"


def test_last_revision() -> None:
    rss = [make_rs(f"web-{i}", revision=r) for i, r in enumerate([3, 1, 7, 5])]
    assert (util.max_revision(rss), util.last_revision(rss)) == (7, 5)
    assert util.last_revision([make_rs("web-x", revision=1)]) == 0
