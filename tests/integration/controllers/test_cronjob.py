"""CronJobs on a whole cluster. Schedules, missed times and policies are
covered with a fake clock in tests/unit/controllers/cronjob; this runs one
real schedule end to end: ``@every 5s``, which the apiserver accepts and so
the controller must run (issue 10: it used to be accepted and never run)."""

from __future__ import annotations

from typing import Any

import pytest

from pinnace.api.batch.v1 import cronjob_pb2
from pinnace.client import Client
from pinnace.machinery import codec
from pinnace.machinery.timeutil import parse_rfc3339
from tests.integration.controllers.conftest import wait_for


def make_cronjob(name: str, schedule: str, **spec: Any) -> cronjob_pb2.CronJob:
    template = {
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
                }
            }
        }
    }
    body = {"schedule": schedule, "jobTemplate": template, **spec}
    return codec.from_dict(cronjob_pb2.CronJob, {"metadata": {"name": name}, "spec": body})


@pytest.mark.timeout(120)
def test_every_schedule_runs_a_job(cluster_client: Client, cluster_namespace: str) -> None:
    ns = cluster_namespace
    cj = cluster_client.cron_jobs(ns).create(make_cronjob("tick", "@every 5s"))

    def owned_complete() -> Any:
        for job in cluster_client.jobs(ns).list().items:
            if any(r.uid == cj.metadata.uid for r in job.metadata.owner_references) and any(
                c.type == "Complete" and c.status == "True" for c in job.status.conditions
            ):
                return job
        return None

    job = wait_for(owned_complete, timeout=60, what="a Job of the CronJob completes")
    minutes = int(job.metadata.name.rsplit("-", 1)[1])
    stamp = job.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp
    cur = wait_for(
        lambda: (c := cluster_client.cron_jobs(ns).get("tick")).status.last_successful_time and c,
        timeout=10,
        what="lastSuccessfulTime",
    )
    assert cur.status.last_schedule_time
    assert int(parse_rfc3339(cur.status.last_schedule_time).timestamp()) // 60 >= minutes
