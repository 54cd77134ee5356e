"""The controller framework's pure parts: expectations, slow start, owner refs."""

from __future__ import annotations

import pytest

from controllers.controllerref import adoption_patch, controller_ref, owner_reference, release_patch
from controllers.expectations import Expectations
from controllers.podcontrol import pod_from_template, slow_start_batch
from controllers.registry import CONTROLLERS, enabled
from pinnace.api.apps.v1 import replicaset_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec, errors
from pinnace.machinery.timeutil import FakeClock


def test_expectations_block_until_observed() -> None:
    clock = FakeClock()
    exp = Expectations(clock=clock.monotonic, timeout=300)
    assert exp.satisfied("ns/rs")
    exp.expect_creations("ns/rs", 2)
    assert not exp.satisfied("ns/rs")
    exp.creation_observed("ns/rs")
    assert not exp.satisfied("ns/rs")
    exp.creation_observed("ns/rs")
    assert exp.satisfied("ns/rs")


def test_expectations_deletions_count_each_uid_once() -> None:
    exp = Expectations(clock=FakeClock().monotonic)
    exp.expect_deletions("k", ["a", "b"])
    exp.deletion_observed("k", "a")
    exp.deletion_observed("k", "a")
    assert not exp.satisfied("k")
    exp.deletion_observed("k", "b")
    assert exp.satisfied("k")


def test_expectations_expire() -> None:
    clock = FakeClock()
    exp = Expectations(clock=clock.monotonic, timeout=300)
    exp.expect_creations("k", 5)
    clock.advance(299)
    assert not exp.satisfied("k")
    clock.advance(2)
    assert exp.satisfied("k")


@pytest.mark.parametrize(
    ("count", "fail_at", "want_done", "want_calls"),
    [
        (10, None, 10, 10),  # batches 1, 2, 4, 3
        (10, 0, 0, 1),  # the first call fails: one call only
        (10, 2, 2, 3),  # batch 2 (calls 1, 2) has a failure: stop after it
        (10, 5, 6, 7),  # batch 3 (calls 3..6) has a failure
        (0, None, 0, 0),
    ],
    ids=["all-succeed", "first-fails", "second-batch-fails", "third-batch-fails", "nothing"],
)
async def test_slow_start_batch(
    count: int, fail_at: int | None, want_done: int, want_calls: int
) -> None:
    calls: list[int] = []

    async def fn(i: int) -> None:
        calls.append(i)
        if i == fail_at:
            raise errors.Invalid("no")

    done, err = await slow_start_batch(count, fn)
    assert (done, len(calls)) == (want_done, want_calls)
    assert (err is None) == (fail_at is None)


async def test_slow_start_counts_already_exists_as_success() -> None:
    async def fn(i: int) -> None:
        raise errors.AlreadyExists("cache behind")

    assert await slow_start_batch(3, fn) == (3, None)


def _rs() -> replicaset_pb2.ReplicaSet:
    return codec.from_dict(
        replicaset_pb2.ReplicaSet,
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web", "namespace": "ns", "uid": "rs-uid"},
            "spec": {
                "template": {
                    "metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                }
            },
        },
    )


def test_pod_from_template_is_owned_and_labelled() -> None:
    rs = _rs()
    pod = pod_from_template(rs.spec.template, rs)
    assert pod.metadata.generate_name == "web-"
    assert dict(pod.metadata.labels) == {"app": "web"}
    assert dict(pod.metadata.annotations) == {"a": "b"}
    ref = controller_ref(pod)
    assert ref is not None and (ref.kind, ref.name, ref.uid, ref.block_owner_deletion) == (
        "ReplicaSet",
        "web",
        "rs-uid",
        True,
    )
    assert pod.spec.containers[0].name == "c"


def test_adoption_and_release_patches_are_uid_guarded() -> None:
    rs = _rs()
    pod = codec.from_dict(pod_pb2.Pod, {"metadata": {"name": "p", "uid": "pod-uid"}})
    patch = adoption_patch(rs, pod)
    assert patch["metadata"]["uid"] == "pod-uid"
    assert patch["metadata"]["ownerReferences"][0]["uid"] == "rs-uid"
    pod.metadata.owner_references.append(owner_reference(rs))
    assert release_patch(rs, pod) == {"metadata": {"uid": "pod-uid", "ownerReferences": None}}


def test_enabled_controllers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CONTROLLERS, "a", lambda ctx: None)  # type: ignore[arg-type,return-value]
    monkeypatch.setitem(CONTROLLERS, "b", lambda ctx: None)  # type: ignore[arg-type,return-value]
    assert {"a", "b"} <= set(enabled("*"))
    assert "a" not in enabled("*,-a")
    assert enabled("b") == ["b"]
    with pytest.raises(ValueError, match="unknown controller"):
        enabled("nope")
