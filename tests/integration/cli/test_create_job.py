"""``pinnace create job NAME --from=cronjob/X`` on the whole `cluster`: the
Job is controlled by the CronJob, so the garbage collector removes it when
the CronJob is deleted (as in Kubernetes)."""

from __future__ import annotations

from typing import Any

from pinnace.client import Client, NotFound
from tests.integration.cli.clirun import pinnace_cli
from tests.integration.controllers.conftest import wait_for
from tests.integration.controllers.test_cronjob import make_cronjob


def test_job_from_cronjob_is_collected_with_its_cronjob(
    cluster: Any, cluster_client: Client, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    cj = cluster_client.cron_jobs(ns).create(make_cronjob("nightly", "0 3 * * *", suspend=True))
    pinnace_cli(cluster, "create", "job", "now", "--from=cronjob/nightly", "-n", ns)
    job = cluster_client.jobs(ns).get("now")
    owner = job.metadata.owner_references[0]
    assert (owner.uid, owner.controller) == (cj.metadata.uid, True)

    pinnace_cli(cluster, "delete", "cronjob", "nightly", "-n", ns)

    def job_gone() -> bool:
        try:
            cluster_client.jobs(ns).get("now")
        except NotFound:
            return True
        return False

    wait_for(job_gone, timeout=30, what="the Job is garbage-collected with its CronJob")
