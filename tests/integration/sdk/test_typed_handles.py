"""The SDK's per-kind handles are typed by kind: a type checker reads
``client.deployments(ns).get(name)`` as a Deployment (sync and asyncio), and
at run time the handles return those very message classes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api as mypy_api

from pinnace.api.apps.v1 import deployment_pb2
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.client import AsyncClient, Client

SNIPPET = """
from pinnace.api.core.v1 import pod_pb2
from pinnace.client import AsyncClient, Client

def sync(c: Client) -> None:
    reveal_type(c.deployments("ns").get("web"))
    reveal_type(c.nodes().list().items)
    reveal_type(c.resource(pod_pb2.Pod, "ns").get("p"))
    reveal_type(c.resource("pods", "ns").get("p"))
    reveal_type(c.create(pod_pb2.Pod()))
    reveal_type(c.stateful_sets("ns").get_scale("web"))
    for ev in c.jobs("ns").watch():
        reveal_type(ev.object)

async def aio(c: AsyncClient) -> None:
    reveal_type(await c.daemon_sets("ns").get("ds"))
    reveal_type((await c.cron_jobs("ns").list()).items)
    async for ev in c.leases("ns").watch():
        reveal_type(ev)
"""

WANT = [
    "pinnace.api.apps.v1.deployment_pb2.Deployment",
    "list[pinnace.api.core.v1.node_pb2.Node]",
    "pinnace.api.core.v1.pod_pb2.Pod",
    "Any",
    "pinnace.api.core.v1.pod_pb2.Pod",
    "pinnace.api.autoscaling.v1.scale_pb2.Scale",
    "pinnace.api.batch.v1.job_pb2.Job | None",
    "pinnace.api.apps.v1.daemonset_pb2.DaemonSet",
    "list[pinnace.api.batch.v1.cronjob_pb2.CronJob]",
    "pinnace.client._requests.WatchEvent[pinnace.api.coordination.v1.lease_pb2.Lease]",
]


def test_a_type_checker_reads_the_kind(tmp_path: Path) -> None:
    source = tmp_path / "snippet.py"
    source.write_text(textwrap.dedent(SNIPPET))
    out, err, _ = mypy_api.run(
        [
            "--ignore-missing-imports",
            "--follow-imports=silent",
            "--no-incremental",
            "--cache-dir=/dev/null",
            "--no-error-summary",
            str(source),
        ]
    )
    revealed = [
        line.split('Revealed type is "', 1)[1].rstrip('"')
        for line in out.splitlines()
        if "Revealed type is" in line
    ]
    assert revealed == WANT, out + err


def test_sync_handles_return_the_kind(client: Client, namespace: str) -> None:
    node = client.nodes().list().items
    assert all(isinstance(n, node_pb2.Node) for n in node)
    pod = pod_pb2.Pod(api_version="v1", kind="Pod")
    pod.metadata.name = "typed"
    pod.spec.containers.add(name="c", image="busybox")
    made = client.pods(namespace).create(pod)
    assert isinstance(made, pod_pb2.Pod) and made.metadata.uid
    assert isinstance(client.resource(pod_pb2.Pod, namespace).get("typed"), pod_pb2.Pod)


async def test_async_handles_return_the_kind(aclient: AsyncClient, namespace: str) -> None:
    listed = await aclient.deployments(namespace).list()
    assert listed.items == [] and listed.resource_version
    d = deployment_pb2.Deployment(api_version="apps/v1", kind="Deployment")
    d.metadata.name, d.metadata.namespace = "typed", namespace
    d.spec.selector.match_labels["app"] = "typed"
    d.spec.template.metadata.labels["app"] = "typed"
    d.spec.template.spec.containers.add(name="c", image="busybox")
    made = await aclient.create(d)
    assert isinstance(made, deployment_pb2.Deployment)
    got = await aclient.deployments(namespace).get("typed")
    assert isinstance(got, deployment_pb2.Deployment) and got.metadata.uid == made.metadata.uid
