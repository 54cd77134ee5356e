"""The CLI on Jobs and CronJobs: create job --from=cronjob, get columns,
wait --for=condition=complete, logs job/X."""

from __future__ import annotations

import subprocess
import sys

from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from tests.integration.controllers.test_cronjob import make_cronjob


def cli(cluster: LocalCluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", *cluster.cli_args, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_job_from_cronjob_wait_logs_get(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    server = cluster
    cj = make_cronjob("nightly", "0 3 * * *", suspend=True)
    cj.spec.job_template.spec.template.spec.containers[0].command[:] = ["echo", "hello"]
    cluster_client.cron_jobs(ns).create(cj)
    out = cli(server, "create", "job", "now", "--from=cronjob/nightly", "-n", ns)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "job.batch/now created"
    out = cli(server, "wait", "--for=condition=complete", "job/now", "-n", ns, "--timeout=40s")
    assert out.returncode == 0, out.stderr
    out = cli(server, "logs", "job/now", "-n", ns)
    assert out.returncode == 0 and out.stdout.strip() == "hello", out.stderr
    job = cluster_client.jobs(ns).get("now")
    assert job.metadata.annotations["cronjob.kubernetes.io/instantiate"] == "manual"
    out = cli(server, "get", "job", "-n", ns)
    header, row = out.stdout.splitlines()[:2]
    assert header.split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert row.split()[:3] == ["now", "Complete", "1/1"]
    out = cli(server, "get", "cj", "-n", ns)
    header, row = out.stdout.splitlines()[:2]
    assert header.split()[:4] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND"]
    assert row.split()[:6] == ["nightly", "0", "3", "*", "*", "*"]
