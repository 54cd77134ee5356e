"""Jobs on a whole cluster: real kubelets run the pods as processes.

Pods fail or succeed by their exit codes; marker files under the test's
tmp_path (pods run on this machine) make "fail once, then succeed".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pinnace.api.batch.v1 import job_pb2
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
    script = f'if [ -e {marker} ]; then rm {marker}; exit 0; else touch {marker}; exit 1; fi'
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
