"""Jobs on a whole cluster: real kubelets run the pods as processes.

Pods fail or succeed by their exit codes; marker files under the test's
tmp_path (pods run on this machine) make "fail once, then succeed".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pinnace.api.batch.v1 import job_pb2
from pinnace.api.core.v1.pod_pb2 import Pod
from pinnace.client import Client
from pinnace.machinery import codec
from tests.integration.controllers.conftest import wait_for


def make_job(name: str, script: str, *, restart: str = "Never", **spec: Any) -> job_pb2.Job:
    body = {
        "template": {
            "spec": {
                "restartPolicy": restart,
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", script]}],
            }
        },
        **spec,
    }
    return codec.from_dict(job_pb2.Job, {"metadata": {"name": name}, "spec": body})


def condition(job: job_pb2.Job, kind: str) -> Any:
    for c in job.status.conditions:
        if c.type == kind and c.status == "True":
            return c
    return None


def wait_condition(client: Client, ns: str, name: str, kind: str, timeout: float = 40) -> Any:
    def check() -> Any:
        job = client.jobs(ns).get(name)
        return job if condition(job, kind) else None

    return wait_for(check, timeout=timeout, what=f"job {name} {kind}")


def job_pods(client: Client, ns: str, job: job_pb2.Job) -> list[Any]:
    return [
        p
        for p in client.pods(ns).list().items
        if any(r.uid == job.metadata.uid for r in p.metadata.owner_references)
    ]


def test_completions_with_failing_pods(
    cluster_client: Client, cluster_namespace: str, tmp_path: Path
) -> None:
    """5 completions, parallelism 2; each pod fails unless its marker exists
    (it creates one marker per attempt number), so some attempts fail."""
    marker = tmp_path / "m"
    script = f"if [ -e {marker} ]; then rm {marker}; exit 0; else touch {marker}; exit 1; fi"
    ns = cluster_namespace
    cluster_client.jobs(ns).create(
        make_job("work", script, completions=5, parallelism=2, backoffLimit=20)
    )
    job = wait_condition(cluster_client, ns, "work", "Complete", timeout=60)
    assert condition(job, "SuccessCriteriaMet") is not None
    assert job.status.succeeded == 5
    assert job.status.failed >= 1
    assert job.status.active == 0
    assert job.status.completion_time
    assert not job.status.uncounted_terminated_pods.succeeded
    pods = job_pods(cluster_client, ns, job)
    assert sum(p.status.phase == "Succeeded" for p in pods) == 5
    assert sum(p.status.phase == "Failed" for p in pods) == job.status.failed
    assert all("batch.kubernetes.io/job-tracking" not in p.metadata.finalizers for p in pods)


def test_indexed_job_sees_its_index(
    cluster_client: Client, cluster_namespace: str, tmp_path: Path
) -> None:
    ns = cluster_namespace
    script = f'echo "$JOB_COMPLETION_INDEX $(hostname)" > {tmp_path}/out-$JOB_COMPLETION_INDEX'
    cluster_client.jobs(ns).create(
        make_job("idx", script, completions=3, parallelism=3, completionMode="Indexed")
    )
    job = wait_condition(cluster_client, ns, "idx", "Complete")
    assert job.status.completed_indexes == "0-2"
    assert job.status.succeeded == 3
    for i in range(3):
        assert (tmp_path / f"out-{i}").read_text().split()[0] == str(i)
    pods = job_pods(cluster_client, ns, job)
    assert sorted(p.spec.hostname for p in pods) == ["idx-0", "idx-1", "idx-2"]
    for p in pods:
        ix = p.metadata.annotations["batch.kubernetes.io/job-completion-index"]
        assert p.metadata.labels["batch.kubernetes.io/job-completion-index"] == ix
        assert p.metadata.name.startswith(f"idx-{ix}-")


def test_backoff_limit_one_gives_two_failed_pods(
    cluster_client: Client, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    cluster_client.jobs(ns).create(make_job("fails", "exit 3", backoffLimit=1))
    assert wait_condition(cluster_client, ns, "fails", "FailureTarget", timeout=30)
    job = wait_condition(cluster_client, ns, "fails", "Failed")
    assert condition(job, "Failed").reason == "BackoffLimitExceeded"
    assert job.status.failed == 2
    assert not job.status.completion_time
    pods = job_pods(cluster_client, ns, job)
    assert len(pods) == 2 and all(p.status.phase == "Failed" for p in pods)


def test_active_deadline(cluster_client: Client, cluster_namespace: str) -> None:
    ns = cluster_namespace
    cluster_client.jobs(ns).create(
        make_job("slow", "sleep 60", activeDeadlineSeconds=2, backoffLimit=0)
    )
    job = wait_condition(cluster_client, ns, "slow", "Failed", timeout=30)
    assert condition(job, "Failed").reason == "DeadlineExceeded"
    assert job.status.active == 0 and job.status.terminating == 0


@pytest.mark.parametrize(
    "action,extra,reason",
    [
        pytest.param("FailJob", {}, "PodFailurePolicy", id="failjob"),
        pytest.param("Count", {"backoffLimit": 0}, "BackoffLimitExceeded", id="count"),
        pytest.param(
            "FailIndex",
            {"completionMode": "Indexed", "completions": 1, "backoffLimitPerIndex": 3},
            "FailedIndexes",
            id="failindex",
        ),
    ],
)
def test_pod_failure_policy_terminating_actions(
    cluster_client: Client, cluster_namespace: str, action: str, extra: dict, reason: str
) -> None:
    ns = cluster_namespace
    policy = {"rules": [{"action": action, "onExitCodes": {"operator": "In", "values": [42]}}]}
    spec = {"backoffLimit": 5, **extra, "podFailurePolicy": policy}
    cluster_client.jobs(ns).create(make_job("pfp", "exit 42", **spec))
    job = wait_condition(cluster_client, ns, "pfp", "Failed")
    assert condition(job, "Failed").reason == reason
    assert job.status.failed == 1  # one pod: the rule decided at once


def test_pod_failure_policy_ignore(
    cluster_client: Client, cluster_namespace: str, tmp_path: Path
) -> None:
    """Exit 42 is ignored (not counted, replaced); the retry succeeds."""
    ns = cluster_namespace
    marker = tmp_path / "m"
    script = f"if [ -e {marker} ]; then exit 0; else touch {marker}; exit 42; fi"
    policy = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [42]}}]}
    cluster_client.jobs(ns).create(make_job("ign", script, backoffLimit=0, podFailurePolicy=policy))
    job = wait_condition(cluster_client, ns, "ign", "Complete")
    assert job.status.failed == 0 and job.status.succeeded == 1
    assert len(job_pods(cluster_client, ns, job)) == 2


def test_backoff_limit_per_index(cluster_client: Client, cluster_namespace: str) -> None:
    ns = cluster_namespace
    script = "exit $((JOB_COMPLETION_INDEX % 2))"
    cluster_client.jobs(ns).create(
        make_job(
            "perix",
            script,
            completions=4,
            parallelism=4,
            completionMode="Indexed",
            backoffLimitPerIndex=1,
        )
    )
    job = wait_condition(cluster_client, ns, "perix", "Failed", timeout=40)
    assert condition(job, "Failed").reason == "FailedIndexes"
    assert job.status.failed_indexes == "1,3"
    assert job.status.completed_indexes == "0,2"
    assert job.status.failed == 4 and job.status.succeeded == 2
    counts = sorted(
        p.metadata.annotations["batch.kubernetes.io/job-index-failure-count"]
        for p in job_pods(cluster_client, ns, job)
        if p.metadata.annotations["batch.kubernetes.io/job-completion-index"] == "1"
    )
    assert counts == ["0", "1"]


def test_success_policy(cluster_client: Client, cluster_namespace: str) -> None:
    """Index 0 succeeds at once, the others would run for a minute: the
    policy on index 0 completes the Job and the rest are terminated."""
    ns = cluster_namespace
    script = 'if [ "$JOB_COMPLETION_INDEX" = 0 ]; then exit 0; fi; sleep 60'
    cluster_client.jobs(ns).create(
        make_job(
            "sp",
            script,
            completions=3,
            parallelism=3,
            completionMode="Indexed",
            successPolicy={"rules": [{"succeededIndexes": "0"}]},
        )
    )
    job = wait_condition(cluster_client, ns, "sp", "Complete")
    assert condition(job, "SuccessCriteriaMet").reason == "SuccessPolicy"
    assert condition(job, "Complete").reason == "SuccessPolicy"
    assert job.status.completed_indexes == "0"
    assert job.status.active == 0 and job.status.terminating == 0


def test_suspend_and_resume(cluster_client: Client, cluster_namespace: str) -> None:
    ns = cluster_namespace
    jobs = cluster_client.jobs(ns)
    jobs.create(make_job("sus", "sleep 60", parallelism=2, completions=2, suspend=True))
    job = wait_condition(cluster_client, ns, "sus", "Suspended")
    assert not job.status.start_time and not job_pods(cluster_client, ns, job)
    jobs.patch("sus", {"spec": {"suspend": False}})
    wait_for(lambda: jobs.get("sus").status.active == 2, timeout=20, what="2 active")
    first_start = jobs.get("sus").status.start_time
    jobs.patch("sus", {"spec": {"suspend": True}})
    job = wait_condition(cluster_client, ns, "sus", "Suspended")

    def all_gone() -> bool:
        return not job_pods(cluster_client, ns, job)

    wait_for(all_gone, timeout=20, what="pods deleted")
    job = jobs.get("sus")
    assert job.status.failed == 0 and job.status.active == 0
    jobs.patch("sus", {"spec": {"suspend": False}})
    wait_for(lambda: jobs.get("sus").status.active == 2, timeout=20, what="2 active again")
    job = jobs.get("sus")
    assert job.status.start_time >= first_start
    assert any(c.type == "Suspended" and c.status == "False" for c in job.status.conditions)


def test_pod_deleted_by_hand_is_counted_once(
    cluster_client: Client, cluster_namespace: str, tmp_path: Path
) -> None:
    ns = cluster_namespace
    go = tmp_path / "go"
    script = f"while [ ! -e {go} ]; do sleep 0.1; done"
    jobs = cluster_client.jobs(ns)
    jobs.create(make_job("byhand", script, backoffLimit=5))

    def running_pod() -> Any:
        job = jobs.get("byhand")
        pods = [p for p in job_pods(cluster_client, ns, job) if p.status.phase == "Running"]
        return pods[0] if pods else None

    victim = wait_for(running_pod, timeout=20, what="a running pod")
    cluster_client.pods(ns).delete(victim.metadata.name)
    wait_for(lambda: jobs.get("byhand").status.failed == 1, timeout=20, what="failed=1")
    go.touch()
    job = wait_condition(cluster_client, ns, "byhand", "Complete")
    assert job.status.failed == 1 and job.status.succeeded == 1
    names = {p.metadata.name for p in job_pods(cluster_client, ns, job)}
    assert victim.metadata.name not in names  # it went once counted


def test_controller_manager_killed_mid_job(
    cluster: Any, cluster_client: Client, cluster_namespace: str, tmp_path: Path
) -> None:
    """SIGKILL the controller-manager while pods finish; after the restart
    every pod is counted exactly once and no extra pod is made."""
    ns = cluster_namespace
    go = tmp_path / "go"
    script = f"while [ ! -e {go} ]; do sleep 0.05; done"
    jobs = cluster_client.jobs(ns)
    jobs.create(make_job("kill", script, completions=6, parallelism=3))
    wait_for(lambda: jobs.get("kill").status.active == 3, timeout=20, what="3 active")
    manager = next(c for c in cluster.components if c.name == "controller-manager")
    try:
        go.touch()  # pods finish while the manager dies
        manager.kill()
    finally:
        manager.start()
    job = wait_condition(cluster_client, ns, "kill", "Complete", timeout=60)
    assert job.status.succeeded == 6 and job.status.failed == 0
    pods = job_pods(cluster_client, ns, job)
    assert len(pods) == 6
    assert all(p.status.phase == "Succeeded" for p in pods)


def test_adopts_a_matching_orphan_and_releases_a_relabelled_pod(
    cluster_client: Client, cluster_namespace: str
) -> None:
    """With manualSelector, an orphan pod matching the selector is adopted
    (owner reference + tracking finalizer) instead of creating another; a
    pod whose labels stop matching is released (both removed)."""
    ns = cluster_namespace
    pods = cluster_client.pods(ns)
    orphan = codec.from_dict(
        Pod,
        {
            "metadata": {"name": "stray", "labels": {"task": "adopt-me"}},
            "spec": {
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "60"]}],
            },
        },
    )
    pods.create(orphan)
    job = make_job(
        "adopter",
        "sleep 60",
        parallelism=1,
        completions=1,
        manualSelector=True,
        selector={"matchLabels": {"task": "adopt-me"}},
    )
    job.spec.template.metadata.labels["task"] = "adopt-me"
    made = cluster_client.jobs(ns).create(job)

    def adopted() -> Any:
        p = pods.get("stray")
        refs = [
            r for r in p.metadata.owner_references if r.uid == made.metadata.uid and r.controller
        ]
        return p if refs and "batch.kubernetes.io/job-tracking" in p.metadata.finalizers else None

    wait_for(adopted, timeout=20, what="the orphan adopted")
    wait_for(
        lambda: cluster_client.jobs(ns).get("adopter").status.active == 1,
        timeout=20,
        what="1 active",
    )
    assert [p.metadata.name for p in job_pods(cluster_client, ns, made)] == ["stray"], (
        "no extra pod"
    )

    pods.patch("stray", {"metadata": {"labels": {"task": "elsewhere"}}})

    def released() -> Any:
        p = pods.get("stray")
        return p if not p.metadata.owner_references and not p.metadata.finalizers else None

    wait_for(released, timeout=20, what="the relabelled pod released")
    wait_for(
        lambda: len(job_pods(cluster_client, ns, made)) == 1, timeout=20, what="a replacement pod"
    )
    pods.delete("stray", grace_period_seconds=0)
