"""Mark DisruptionTarget, then delete (controllers/disruption.py), as the
taint eviction controller and the pod GC call it, over the shared fake client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from controllers.disruption import mark_and_delete
from pinnace.api.core.v1 import pod_pb2
from pinnace.client.fake import FakeClient
from pinnace.machinery import codec, errors
from pinnace.machinery.wellknown import POD_DISRUPTION_TARGET

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def pod(*, phase: str = "Running", conditions: list[dict] | None = None) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "p", "namespace": "ns"},
            "status": {"phase": phase, "conditions": conditions or []},
        },
    )


MARKED = {"type": POD_DISRUPTION_TARGET, "status": "True", "reason": "R", "message": "m"}


@pytest.mark.parametrize(
    ("given", "fail", "grace", "written_phase", "verbs"),
    [
        pytest.param(pod(), False, None, "Running", ["update", "delete"], id="taint-eviction"),
        pytest.param(pod(), True, 0, "Failed", ["update", "delete"], id="pod-gc"),
        pytest.param(pod(conditions=[MARKED]), False, None, None, ["delete"], id="already-marked"),
        pytest.param(
            pod(conditions=[MARKED]),
            True,
            0,
            "Failed",
            ["update", "delete"],
            id="marked-not-failed",
        ),
    ],
)
async def test_mark_and_delete(
    given: Any, fail: bool, grace: int | None, written_phase: str | None, verbs: list[str]
) -> None:
    client = FakeClient(given)
    stored = await client.pods("ns").get("p")
    done = await mark_and_delete(
        client, stored, reason="R", message="m", now=NOW, fail=fail, grace_period_seconds=grace
    )
    assert done
    assert [a.verb for a in client.verbs("update", "delete")] == verbs
    if written_phase is not None:
        (update,) = client.verbs("update")
        assert update.subresource == "status"
        assert update.object.status.phase == written_phase
        (cond,) = [c for c in update.object.status.conditions if c.type == POD_DISRUPTION_TARGET]
        assert (cond.status, cond.reason, cond.message) == ("True", "R", "m")
    (delete,) = client.verbs("delete")
    assert delete.options.get("uid") == stored.metadata.uid
    assert delete.options.get("grace_period_seconds") == grace


async def test_a_pod_gone_meanwhile_is_no_error() -> None:
    assert not await mark_and_delete(FakeClient(), pod(), reason="R", message="m", now=NOW)
    present = FakeClient(pod())
    present.fail("delete", "pods", errors.NotFound("gone"))
    stored = await present.pods("ns").get("p")
    assert not await mark_and_delete(present, stored, reason="R", message="m", now=NOW)
