"""CronJob controller sync on fakes with a fake clock (Kubernetes'
cronjob_controllerv2_test.go table): schedules, missed times, deadlines,
concurrency policies, suspend, history limits, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controllers.base import ControllerContext
from controllers.controllerref import owner_reference
from controllers.cronjob import schedule as cron
from controllers.cronjob.controller import CronJobController
from pinnace.api.batch.v1 import cronjob_pb2, job_pb2
from pinnace.client.fake import FakeClient
from pinnace.client.informer import SharedInformerFactory
from pinnace.machinery.timeutil import FakeClock, format_rfc3339

NS = "ns"
T0 = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC


class FakeRecorder:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def event(self, obj: Any, type: str, reason: str, message: str) -> None:
        self.reasons.append(reason)


def make_cj(schedule: str = "*/5 * * * *", *, created: datetime = T0, **spec: Any) -> Any:
    cj = cronjob_pb2.CronJob(api_version="batch/v1", kind="CronJob")
    cj.metadata.name, cj.metadata.namespace, cj.metadata.uid = "cj", NS, "uid-cj"
    cj.metadata.creation_timestamp = format_rfc3339(created)
    cj.spec.schedule = schedule
    cj.spec.concurrency_policy = spec.pop("policy", "Allow")
    cj.spec.suspend = spec.pop("suspend", False)
    cj.spec.successful_jobs_history_limit = spec.pop("keep_ok", 3)
    cj.spec.failed_jobs_history_limit = spec.pop("keep_failed", 1)
    if "deadline" in spec:
        cj.spec.starting_deadline_seconds = spec.pop("deadline")
    if "tz" in spec:
        cj.spec.time_zone = spec.pop("tz")
    if "last" in spec:
        cj.status.last_schedule_time = format_rfc3339(spec.pop("last"))
    cj.spec.job_template.metadata.labels["app"] = "x"
    cj.spec.job_template.spec.template.spec.restart_policy = "Never"
    return cj


def make_job(name: str, cj: Any, *, done: str = "", start: int = 0) -> job_pb2.Job:
    job = job_pb2.Job(api_version="batch/v1", kind="Job")
    job.metadata.name, job.metadata.namespace, job.metadata.uid = name, NS, f"uid-{name}"
    job.metadata.owner_references.append(owner_reference(cj))
    job.status.start_time = format_rfc3339(T0 + timedelta(minutes=start))
    if done:
        job.status.conditions.add(type=done, status="True")
        if done == "Complete":
            job.status.completion_time = format_rfc3339(T0 + timedelta(minutes=start + 1))
    return job


class Fixture:
    def __init__(self, now: datetime) -> None:
        self.clock = FakeClock(now)
        self.client = FakeClient(clock=self.clock)
        self.recorder = FakeRecorder()
        ctx = ControllerContext(
            client=self.client,  # type: ignore[arg-type]
            informers=SharedInformerFactory(self.client),  # type: ignore[arg-type]
            recorder=self.recorder,  # type: ignore[arg-type]
            clock=self.clock,
        )
        self.ctl = CronJobController(ctx)

    async def sync(self, cj: Any, *jobs: job_pb2.Job) -> float | None:
        self.ctl.cronjobs.store.upsert(cj)
        self.client.tracker.add(cj, *jobs)
        for job in jobs:
            self.ctl.jobs.store.upsert(job)
        return await self.ctl.sync(f"{NS}/cj")

    def created(self) -> list[str]:
        return [a.name for a in self.client.verbs("create")]

    def deleted(self) -> list[str]:
        return [a.name for a in self.client.verbs("delete")]

    def stored_job(self, name: str) -> Any:
        return self.client.tracker.get("jobs", NS, name)

    def statuses(self) -> list[Any]:
        """The CronJob statuses written, in order."""
        return [a.object.status for a in self.client.verbs("update") if a.subresource == "status"]


def minutes(when: datetime) -> int:
    return int(when.timestamp()) // 60


@pytest.mark.parametrize(
    "now,spec,want_job,want_events",
    [
        pytest.param(T0 + timedelta(minutes=3), {}, None, [], id="not-yet"),
        pytest.param(
            T0 + timedelta(minutes=5),
            {},
            T0 + timedelta(minutes=5),
            ["SuccessfulCreate"],
            id="on-time",
        ),
        pytest.param(
            T0 + timedelta(minutes=17),
            {},
            T0 + timedelta(minutes=15),
            ["SuccessfulCreate"],
            id="missed-three-starts-most-recent-only",
        ),
        pytest.param(
            T0 + timedelta(minutes=17), {"deadline": 60}, None, [], id="deadline-window-empty"
        ),
        pytest.param(
            T0 + timedelta(minutes=15, seconds=30),
            {"deadline": 10},
            None,
            [],
            id="past-deadline-not-started",
        ),
        pytest.param(
            T0 + timedelta(minutes=15, seconds=5),
            {"deadline": 10},
            T0 + timedelta(minutes=15),
            ["SuccessfulCreate"],
            id="within-deadline",
        ),
        pytest.param(T0 + timedelta(minutes=5), {"suspend": True}, None, [], id="suspended"),
        pytest.param(
            T0 + timedelta(hours=10),
            {},
            T0 + timedelta(hours=10),
            ["TooManyMissedTimes", "SuccessfulCreate"],
            id="more-than-100-missed-still-starts",
        ),
        pytest.param(
            T0 + timedelta(minutes=5),
            {"tz": "Mars/Olympus"},
            None,
            ["UnknownTimeZone"],
            id="unknown-time-zone",
        ),
        pytest.param(
            T0 + timedelta(minutes=10),
            {"last": T0 + timedelta(minutes=10)},
            None,
            [],
            id="already-scheduled",
        ),
    ],
)
async def test_schedule_table(
    now: datetime, spec: dict, want_job: datetime | None, want_events: list[str]
) -> None:
    f = Fixture(now)
    delay = await f.sync(make_cj(**spec))
    if want_job is None:
        assert f.created() == []
    else:
        assert f.created() == [f"cj-{minutes(want_job)}"]
        job = f.stored_job(f.created()[0])
        assert job.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        assert job.metadata.owner_references[0].uid == "uid-cj"
        assert f.statuses()[-1].last_schedule_time == format_rfc3339(want_job)
        assert [r.name for r in f.statuses()[-1].active] == f.created()
    assert f.recorder.reasons == want_events
    if not spec.get("suspend") and "tz" not in spec:
        assert delay is not None and 0 < delay <= 300.1


async def test_requeue_at_next_schedule() -> None:
    f = Fixture(T0 + timedelta(minutes=3))
    assert await f.sync(make_cj()) == pytest.approx(120.1)


@pytest.mark.parametrize(
    "policy,created,deleted,events",
    [
        pytest.param("Allow", True, [], ["SuccessfulCreate"], id="allow"),
        pytest.param("Forbid", False, [], ["JobAlreadyActive"], id="forbid"),
        pytest.param(
            "Replace", True, ["cj-old"], ["SuccessfulDelete", "SuccessfulCreate"], id="replace"
        ),
    ],
)
async def test_concurrency_policy(policy: str, created: bool, deleted: list, events: list) -> None:
    f = Fixture(T0 + timedelta(minutes=5))
    cj = make_cj(policy=policy)
    running = make_job("cj-old", cj)
    await f.sync(cj, running)
    assert bool(f.created()) == created
    assert f.deleted() == deleted
    assert f.recorder.reasons == events
    status = f.statuses()[-1]
    names = [r.name for r in status.active]
    if policy == "Allow":
        assert set(names) == {"cj-old", f.created()[0]}
    elif policy == "Forbid":
        assert names == ["cj-old"] and not status.last_schedule_time
    else:
        assert names == f.created()


async def test_finished_jobs_leave_active_and_history_is_trimmed() -> None:
    f = Fixture(T0 + timedelta(minutes=3))
    cj = make_cj(keep_ok=1, keep_failed=1)
    jobs = [
        make_job("ok-1", cj, done="Complete", start=1),
        make_job("ok-2", cj, done="Complete", start=2),
        make_job("bad-1", cj, done="Failed", start=1),
        make_job("bad-2", cj, done="Failed", start=2),
    ]
    cj.status.active.add(name="ok-2", uid="uid-ok-2", namespace=NS, kind="Job")
    await f.sync(cj, *jobs)
    assert sorted(f.deleted()) == ["bad-1", "ok-1"]
    status = f.statuses()[-1]
    assert not status.active
    assert status.last_successful_time == jobs[1].status.completion_time
    assert "SawCompletedJob" in f.recorder.reasons


async def test_missing_job_leaves_active() -> None:
    f = Fixture(T0 + timedelta(minutes=3))
    cj = make_cj()
    cj.status.active.add(name="gone", uid="uid-gone", namespace=NS, kind="Job")
    await f.sync(cj)
    assert not f.statuses()[-1].active
    assert "MissingJob" in f.recorder.reasons


async def test_already_exists_is_the_lock() -> None:
    f = Fixture(T0 + timedelta(minutes=5))
    cj = make_cj()
    name = f"cj-{minutes(T0 + timedelta(minutes=5))}"
    f.client.tracker.add(make_job(name, cj))  # created by a previous run, not yet cached
    await f.sync(cj)
    assert f.created() == [name]  # the one attempt, answered AlreadyExists
    assert "SuccessfulCreate" not in f.recorder.reasons
    assert [r.name for r in f.statuses()[-1].active] == [name]


@pytest.mark.parametrize(
    "schedule,tz,now,want",
    [
        pytest.param(
            "0 9 * * *",
            "Europe/Paris",
            datetime(2024, 1, 1, 8, 30, tzinfo=UTC),
            datetime(2024, 1, 1, 8, 0, tzinfo=UTC),
            id="paris-winter",
        ),
        pytest.param(
            "0 9 * * *",
            "America/New_York",
            datetime(2024, 7, 1, 13, 30, tzinfo=UTC),
            datetime(2024, 7, 1, 13, 0, tzinfo=UTC),
            id="new-york-summer",
        ),
        pytest.param(
            "@hourly",
            "UTC",
            datetime(2024, 1, 1, 10, 59, tzinfo=UTC),
            datetime(2024, 1, 1, 10, 0, tzinfo=UTC),
            id="macro",
        ),
        pytest.param(
            "0 0 ? * *",
            "UTC",
            datetime(2024, 1, 2, 0, 1, tzinfo=UTC),
            datetime(2024, 1, 2, 0, 0, tzinfo=UTC),
            id="question-mark",
        ),
    ],
)
def test_schedule_in_time_zone(schedule: str, tz: str, now: datetime, want: datetime) -> None:
    sched = cron.parse(schedule, tz)
    missed = cron.most_recent(
        sched, earliest=now - timedelta(days=1), now=now, starting_deadline=None
    )
    assert missed is not None and missed.time == want


@pytest.mark.parametrize("bad", ["* * * *", "@every-day", "61 * * * *"])
def test_bad_schedules(bad: str) -> None:
    with pytest.raises(cron.ScheduleError):
        cron.parse(bad, "UTC")


def test_missed_count_is_capped() -> None:
    sched = cron.parse("* * * * *", "UTC")
    missed = cron.most_recent(
        sched, earliest=T0, now=T0 + timedelta(hours=3), starting_deadline=None
    )
    assert missed is not None and missed.too_many and missed.count == 101
    few = cron.most_recent(
        sched,
        earliest=T0,
        now=T0 + timedelta(minutes=3),
        starting_deadline=None,
    )
    assert few is not None and few.count == 3 and not few.too_many


@pytest.mark.parametrize(
    "schedule,now,want_job,want_delay",
    [
        pytest.param(
            "@every 5m", T0 + timedelta(minutes=5), T0 + timedelta(minutes=5), 300.1, id="on-time"
        ),
        pytest.param(
            "@every 5m",
            T0 + timedelta(minutes=17),
            T0 + timedelta(minutes=15),
            180.1,
            id="missed-starts-most-recent",
        ),
        pytest.param("@every 1h30m", T0 + timedelta(hours=1), None, 1800.1, id="not-yet"),
        pytest.param(
            "@every 2m",
            T0 + timedelta(hours=10),
            T0 + timedelta(hours=10),
            120.1,
            id="more-than-100-missed",
        ),
    ],
)
async def test_every_schedule_runs(
    schedule: str, now: datetime, want_job: datetime | None, want_delay: float
) -> None:
    """`@every <duration>` passes validation, so the controller runs it
    (issue 10, defect 1: the controller's parser used to reject it)."""
    f = Fixture(now)
    delay = await f.sync(make_cj(schedule))
    assert "InvalidSchedule" not in f.recorder.reasons
    assert f.created() == ([] if want_job is None else [f"cj-{minutes(want_job)}"])
    assert delay == pytest.approx(want_delay)
