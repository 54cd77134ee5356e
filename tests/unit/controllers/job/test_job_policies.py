"""Pure policy modules of the Job controller, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controllers.job import backoff, indexed, pod_failure_policy, success_policy, tracking
from controllers.job import status as jobstatus
from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec
from pinnace.machinery.timeutil import format_rfc3339
from pinnace.machinery.wellknown import FINALIZER_JOB_TRACKING as JOB_TRACKING_FINALIZER

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def job(**spec: Any) -> job_pb2.Job:
    status = spec.pop("status", {})
    spec.setdefault("template", {"spec": {"restartPolicy": "Never", "containers": [{"name": "c"}]}})
    spec.setdefault("backoffLimit", 6)
    j = codec.from_dict(
        job_pb2.Job, {"metadata": {"name": "j", "uid": "u"}, "spec": spec, "status": status}
    )
    return j


def pod(
    name: str,
    phase: str = "Running",
    *,
    code: int | None = None,
    index: int | None = None,
    finalizer: bool = True,
    finished: float | None = None,
    failures: int | None = None,
    conditions: list[tuple[str, str]] = (),
) -> pod_pb2.Pod:
    p = pod_pb2.Pod()
    p.metadata.name, p.metadata.uid = name, f"uid-{name}"
    p.status.phase = phase
    if finalizer:
        p.metadata.finalizers.append(JOB_TRACKING_FINALIZER)
    if index is not None:
        p.metadata.annotations["batch.kubernetes.io/job-completion-index"] = str(index)
    if failures is not None:
        p.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] = str(failures)
    if code is not None or finished is not None:
        cs = p.status.container_statuses.add(name="c")
        cs.state.terminated.exit_code = code or 0
        if finished is not None:
            cs.state.terminated.finished_at = format_rfc3339(T0 + timedelta(seconds=finished))
    for kind, value in conditions:
        p.status.conditions.add(type=kind, status=value)
    return p


@pytest.mark.parametrize(
    "indexes,text",
    [([], ""), ([1], "1"), ([0, 1], "0,1"), ([1, 3, 4, 5, 7], "1,3-5,7"), ([0, 1, 2, 3], "0-3")],
)
def test_interval_form_round_trips(indexes: list[int], text: str) -> None:
    assert indexed.format_indexes(indexes) == text
    assert indexed.parse_indexes(text) == set(indexes)


def test_parse_indexes_drops_out_of_range_and_garbage() -> None:
    assert indexed.parse_indexes("1,x,3-9", 5) == {1, 3, 4}


def test_decorate_pod_gives_index_env_and_hostname() -> None:
    p = pod_pb2.Pod()
    p.spec.containers.add(name="c")
    indexed.decorate_pod(p, job_name="j", index=2, failures=0)
    assert p.metadata.annotations["batch.kubernetes.io/job-completion-index"] == "2"
    assert p.metadata.labels["batch.kubernetes.io/job-completion-index"] == "2"
    env = p.spec.containers[0].env[0]
    assert env.name == "JOB_COMPLETION_INDEX"
    assert env.value_from.field_ref.field_path == (
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    )
    assert p.spec.hostname == "j-2" and p.metadata.generate_name == "j-2-"
    assert p.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] == "0"


@pytest.mark.parametrize(
    "pods,now,want",
    [
        pytest.param([], 0, 0.0, id="no-failures"),
        pytest.param([pod("a", "Failed", finished=0)], 3, 7.0, id="first-10s"),
        pytest.param(
            [pod("a", "Failed", finished=0), pod("b", "Failed", finished=10)],
            10,
            20.0,
            id="doubles",
        ),
        pytest.param(
            [pod("a", "Failed", finished=0), pod("b", "Succeeded", finished=5)],
            5,
            0.0,
            id="success-resets",
        ),
        pytest.param(
            [pod(str(i), "Failed", finished=i) for i in range(12)], 11, 600.0, id="capped-10min"
        ),
    ],
)
def test_backoff(pods: list, now: float, want: float) -> None:
    rec = backoff.record_of(pods)
    assert backoff.remaining(rec, T0 + timedelta(seconds=now)) == pytest.approx(want)


def rule(action: str, codes: list[int] | None = None, op: str = "In", cond: str = "") -> dict:
    if cond:
        return {"action": action, "onPodConditions": [{"type": cond, "status": "True"}]}
    return {"action": action, "onExitCodes": {"operator": op, "values": codes}}


@pytest.mark.parametrize(
    "rules,p,action",
    [
        pytest.param([rule("FailJob", [42])], pod("a", "Failed", code=42), "FailJob", id="in"),
        pytest.param([rule("FailJob", [42])], pod("a", "Failed", code=1), "Count", id="no-match"),
        pytest.param(
            [rule("Ignore", [1, 2], op="NotIn")], pod("a", "Failed", code=3), "Ignore", id="notin"
        ),
        pytest.param(
            [rule("Ignore", [0], op="NotIn")],
            pod("a", "Failed", code=0),
            "Count",
            id="exit-0-never",
        ),
        pytest.param(
            [rule("Count", [5]), rule("FailJob", [5])],
            pod("a", "Failed", code=5),
            "Count",
            id="first-wins",
        ),
        pytest.param(
            [rule("Ignore", cond="DisruptionTarget")],
            pod("a", "Failed", conditions=[("DisruptionTarget", "True")]),
            "Ignore",
            id="condition",
        ),
        pytest.param(
            [rule("FailJob", [42])], pod("a", "Running", code=42), "Count", id="only-failed-pods"
        ),
    ],
)
def test_pod_failure_policy(rules: list, p: pod_pb2.Pod, action: str) -> None:
    j = job(podFailurePolicy={"rules": rules})
    assert pod_failure_policy.match(j, p).action == action


@pytest.mark.parametrize(
    "rules,done,met",
    [
        ([{"succeededIndexes": "0"}], {0}, True),
        ([{"succeededIndexes": "0-2"}], {0, 2}, False),
        ([{"succeededCount": 2}], {3, 4}, True),
        ([{"succeededIndexes": "0-3", "succeededCount": 2}], {1, 5}, False),
        ([{"succeededIndexes": "0-3", "succeededCount": 2}], {1, 3}, True),
    ],
)
def test_success_policy(rules: list, done: set, met: bool) -> None:
    j = job(completionMode="Indexed", completions=6, successPolicy={"rules": rules})
    assert (success_policy.met(j, done) is not None) == met


def counts(s: int = 0, f: int = 0, a: int = 0, r: int = 0) -> jobstatus.Counts:
    return jobstatus.Counts(succeeded=s, failed=f, active=a, restarts=r)


@pytest.mark.parametrize(
    "spec,c,fail_job,want",
    [
        pytest.param({"completions": 3}, counts(s=2, a=1), "", None, id="running"),
        pytest.param({"completions": 3}, counts(s=3), "", "CompletionsReached", id="done"),
        pytest.param({"backoffLimit": 1}, counts(f=2), "", "BackoffLimitExceeded", id="backoff"),
        pytest.param({"backoffLimit": 1}, counts(f=1), "", None, id="within-backoff"),
        pytest.param(
            {"backoffLimit": 1, "template": {"spec": {"restartPolicy": "OnFailure"}}},
            counts(f=0, a=1, r=2),
            "",
            "BackoffLimitExceeded",
            id="onfailure-restarts",
        ),
        pytest.param({}, counts(), "boom", "PodFailurePolicy", id="failjob-first"),
        pytest.param(
            {"activeDeadlineSeconds": 5, "status": {"startTime": format_rfc3339(T0)}},
            counts(a=1),
            "",
            "DeadlineExceeded",
            id="deadline",
        ),
        pytest.param(
            {
                "activeDeadlineSeconds": 5,
                "suspend": True,
                "status": {"startTime": format_rfc3339(T0)},
            },
            counts(),
            "",
            None,
            id="no-deadline-suspended",
        ),
        pytest.param(
            {"completions": None, "parallelism": 2},
            counts(s=1, a=1),
            "",
            None,
            id="workqueue-waits",
        ),
        pytest.param(
            {"completions": None, "parallelism": 2},
            counts(s=1),
            "",
            "CompletionsReached",
            id="workqueue-done",
        ),
        pytest.param(
            {
                "completionMode": "Indexed",
                "completions": 4,
                "backoffLimitPerIndex": 1,
                "status": {"completedIndexes": "0,2", "failedIndexes": "1,3"},
            },
            counts(),
            "",
            "FailedIndexes",
            id="failed-indexes",
        ),
        pytest.param(
            {
                "completionMode": "Indexed",
                "completions": 4,
                "backoffLimitPerIndex": 1,
                "maxFailedIndexes": 0,
                "status": {"failedIndexes": "1"},
            },
            counts(a=3),
            "",
            "MaxFailedIndexesExceeded",
            id="max-failed-indexes",
        ),
    ],
)
def test_interim_verdict(spec: dict, c: jobstatus.Counts, fail_job: str, want: str | None) -> None:
    spec = dict(spec)
    if spec.get("completions", 0) is None:
        del spec["completions"]
    j = job(**spec)
    v = jobstatus.interim(j, j.status, c, now=T0 + timedelta(seconds=10), fail_job=fail_job)
    assert (v.reason if v else None) == want


def test_tracking_counts_each_finished_pod_once() -> None:
    j = job(completions=5, status={"uncountedTerminatedPods": {"succeeded": ["uid-old"]}})
    pods = [
        pod("old", "Succeeded"),  # already uncounted
        pod("new", "Succeeded"),
        pod("bad", "Failed", code=1),
        pod("counted", "Succeeded", finalizer=False),  # finalizer gone: counted before
        pod("stale", "Succeeded"),  # finalizer removed by us, cache behind
        pod("run", "Running"),
    ]
    t = tracking.classify(j, pods, skip={"uid-stale"})
    assert t.succeeded == ["uid-new"] and t.failed == ["uid-bad"]
    status = tracking.with_uncounted(j, t)
    assert list(status.uncounted_terminated_pods.succeeded) == ["uid-old", "uid-new"]
    finalize = tracking.pods_to_finalize(status, pods)
    assert {p.metadata.name for p in finalize} == {"old", "new", "bad"}
    assert tracking.flush_uncounted(status, still_finalized={"uid-bad"})
    assert status.succeeded == 2 and status.failed == 0
    assert list(status.uncounted_terminated_pods.failed) == ["uid-bad"]


def test_tracking_indexed_duplicates_and_per_index_limit() -> None:
    j = job(
        completionMode="Indexed",
        completions=4,
        backoffLimitPerIndex=1,
        status={"completedIndexes": "0"},
    )
    pods = [
        pod("dup", "Succeeded", index=0),  # index 0 completed already: finalize only
        pod("two", "Succeeded", index=2),
        pod("one-a", "Failed", code=1, index=1, failures=0),  # first failure: retried
        pod("three-b", "Failed", code=1, index=3, failures=1),  # second: index failed
    ]
    t = tracking.classify(j, pods)
    assert t.finalize_only == ["uid-dup"]
    assert t.completed_indexes == {2} and t.failed_indexes == {3}
    status = tracking.with_uncounted(j, t)
    assert status.completed_indexes == "0,2" and status.failed_indexes == "3"


def test_tracking_ignore_is_not_counted() -> None:
    j = job(podFailurePolicy={"rules": [rule("Ignore", [42])]})
    t = tracking.classify(j, [pod("a", "Failed", code=42)])
    assert t.failed == [] and t.finalize_only == ["uid-a"]
