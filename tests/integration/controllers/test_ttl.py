"""TTL-after-finished on a whole cluster: finished Jobs and their pods go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinnace.client import Client
from pinnace.machinery import errors
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.timeutil import parse_rfc3339
from tests.integration.controllers.conftest import wait_for
from tests.integration.controllers.test_job import job_pods, make_job, wait_condition


def gone(client: Client, ns: str, name: str) -> bool:
    try:
        client.jobs(ns).get(name)
    except errors.NotFound:
        return True
    return False


@pytest.mark.parametrize("ttl", [0, 2])
def test_ttl_deletes_job_and_pods(cluster_client: Client, cluster_namespace: str, ttl: int) -> None:
    ns = cluster_namespace
    job = cluster_client.jobs(ns).create(make_job("short", "exit 0", ttlSecondsAfterFinished=ttl))
    if ttl == 0:  # deleted at once: it may be gone before we see it Complete
        wait_for(lambda: gone(cluster_client, ns, "short"), timeout=30, what="job deleted")
        wait_for(lambda: not job_pods(cluster_client, ns, job), timeout=10, what="pods deleted")
        return
    job = wait_condition(cluster_client, ns, "short", "Complete")
    complete = find_condition(job.status.conditions, "Complete")
    assert complete is not None
    assert job_pods(cluster_client, ns, job)
    wait_for(lambda: gone(cluster_client, ns, "short"), timeout=ttl + 10, what="job deleted")
    # Causality, not speed: not deleted before ttl seconds after the Complete
    # condition's transition time (a slow machine only makes it later).
    finished = parse_rfc3339(complete.last_transition_time)
    assert datetime.now(UTC) >= finished + timedelta(seconds=ttl)
    wait_for(lambda: not job_pods(cluster_client, ns, job), timeout=10, what="pods deleted")
