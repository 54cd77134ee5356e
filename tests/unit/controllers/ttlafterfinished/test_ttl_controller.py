"""TTL-after-finished: when a Job expires (pure) and the sync's re-read before delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controllers.base import ControllerContext
from controllers.ttlafterfinished.controller import TTLAfterFinishedController, time_left
from pinnace.api.batch.v1 import job_pb2
from pinnace.client.fake import FakeClient
from pinnace.client.informer import SharedInformerFactory
from pinnace.machinery.timeutil import FakeClock, format_rfc3339

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_job(ttl: int | None, *, finished: str = "Complete", deleting: bool = False) -> job_pb2.Job:
    job = job_pb2.Job()
    job.metadata.name, job.metadata.namespace, job.metadata.uid = "j", "ns", "u"
    if ttl is not None:
        job.spec.ttl_seconds_after_finished = ttl
    if finished:
        job.status.conditions.add(
            type=finished, status="True", last_transition_time=format_rfc3339(T0)
        )
    if deleting:
        job.metadata.deletion_timestamp = format_rfc3339(T0)
    return job


@pytest.mark.parametrize(
    "job,now,want",
    [
        pytest.param(make_job(None), 5, None, id="no-ttl"),
        pytest.param(make_job(10, finished=""), 5, None, id="running"),
        pytest.param(make_job(10, deleting=True), 50, None, id="being-deleted"),
        pytest.param(make_job(10), 4, 6.0, id="waits"),
        pytest.param(make_job(0, finished="Failed"), 0, 0.0, id="ttl-0-failed"),
        pytest.param(make_job(10), -5, 15.0, id="clock-skew-waits"),
    ],
)
def test_time_left(job: job_pb2.Job, now: float, want: float | None) -> None:
    assert time_left(job, T0 + timedelta(seconds=now)) == want


@pytest.mark.parametrize("fresh_ttl,deleted", [(10, True), (100, False)])
async def test_sync_rereads_before_deleting(fresh_ttl: int, deleted: bool) -> None:
    client = FakeClient(make_job(fresh_ttl))
    ctx = ControllerContext(
        client=client,  # type: ignore[arg-type]
        informers=SharedInformerFactory(client),  # type: ignore[arg-type]
        recorder=None,  # type: ignore[arg-type]
        clock=FakeClock(T0 + timedelta(seconds=20)),
    )
    ctl = TTLAfterFinishedController(ctx)
    ctl.jobs.store.upsert(make_job(10))
    delay = await ctl.sync("ns/j")
    deletes = [a.options for a in client.verbs("delete")]
    if deleted:
        assert deletes == [{"propagation_policy": "Foreground", "uid": "u"}] and delay is None
    else:
        assert deletes == [] and delay == pytest.approx(80)
