"""Health, Prometheus metrics, and the one etcd watch behind every client watch."""

from __future__ import annotations

import asyncio
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from pinnace.client import AsyncClient
from pinnace.localcluster.etcd import free_port
from pinnace.machinery import errors
from tests.integration.api.helpers import await_for
from tests.integration.api.objects import BY_RESOURCE, KIND_CASES, pod


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample at url: {(name, sorted labels): value}."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples, name: str, **labels: str) -> float:
    """Sum over samples of name whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def test_health_service_serving(apiserver) -> None:
    with apiserver.channel() as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "pinnace.api.service.v1.Api"):
            resp = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert resp.status == health_pb2.HealthCheckResponse.SERVING
        try:
            stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.NOT_FOUND
        else:
            raise AssertionError("an unknown service must not report SERVING")


async def test_prometheus_metrics(own_apiserver, namespace: str) -> None:
    port = free_port()
    server = own_apiserver("--metrics-listen", f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}/metrics"
    async with AsyncClient(config=server.config, timeout=10) as c:
        pods = c.pods(namespace)
        for i in range(3):
            await pods.create(pod(f"p{i}"))
        await pods.get("p0")
        try:
            await pods.get("missing")
        except errors.NotFound:
            pass
        await pods.list()
        before = await asyncio.to_thread(scrape, url)
        assert (
            value(before, "apiserver_request_total", verb="create", resource="pods", code="OK") == 3
        )
        assert value(before, "apiserver_request_total", verb="get", resource="pods", code="OK") == 1
        assert (
            value(before, "apiserver_request_total", verb="get", resource="pods", code="NOT_FOUND")
            == 1
        )
        assert (
            value(before, "apiserver_request_total", verb="list", resource="pods", code="OK") == 1
        )
        assert (
            value(
                before, "apiserver_request_duration_seconds_count", verb="create", resource="pods"
            )
            == 3
        )
        assert (
            value(before, "apiserver_request_duration_seconds_sum", verb="create", resource="pods")
            > 0
        )
        assert total(before, "etcd_request_duration_seconds_count", operation="create") >= 3
        assert total(before, "etcd_request_duration_seconds_count") > 3
        assert value(before, "apiserver_registered_watchers", resource="pods") == 0

        stream = pods.watch(resource_version="0")
        await asyncio.wait_for(stream.__anext__(), 5)

        async def watchers(n: int) -> bool:
            now = await asyncio.to_thread(scrape, url)
            return value(now, "apiserver_registered_watchers", resource="pods") == n

        await await_for(lambda: watchers(1), timeout=5, what="one registered watcher")
        await stream.aclose()
        await await_for(lambda: watchers(0), timeout=5, what="the watcher to go")
        after = await asyncio.to_thread(scrape, url)
        assert (
            value(after, "apiserver_request_total", verb="watch", resource="pods", code="OK") == 1
        )


def _etcd_watchers(etcd) -> tuple[float, float]:
    samples = scrape(f"{etcd.client_url}/metrics")
    return (
        value(samples, "etcd_debugging_mvcc_watcher_total"),
        value(samples, "etcd_debugging_mvcc_watch_stream_total"),
    )


async def test_hundred_watchers_cost_one_etcd_watch(
    own_apiserver, own_etcd, namespace: str
) -> None:
    """100 client watches over every kind add no etcd watch: the apiserver
    serves them all from its one watch over /registry/."""
    server = own_apiserver(etcd=own_etcd.endpoint)
    async with AsyncClient(config=server.config, timeout=10) as c:
        await c.namespaces().create(BY_RESOURCE["namespaces"].new(namespace))
        watchers_before, streams_before = await asyncio.to_thread(_etcd_watchers, own_etcd)
        assert watchers_before == 1 and streams_before == 1, "the apiserver's one registry watch"

        streams = []
        for i in range(100):
            case = KIND_CASES[i % len(KIND_CASES)]
            ns = namespace if case.info.namespaced else ""
            streams.append(c.resource(case.info, ns).watch(allow_bookmarks=True))
        try:
            # Every watch is registered once it delivers something: a bookmark.
            firsts = await asyncio.wait_for(
                asyncio.gather(*(s.__anext__() for s in streams)), timeout=15
            )
            assert len(firsts) == 100
            # A write reaches the watchers of its kind.
            await c.pods(namespace).create(pod("p"))
            pod_streams = [
                s
                for i, s in enumerate(streams)
                if KIND_CASES[i % len(KIND_CASES)].resource == "pods"
            ]

            async def next_added(s) -> str:
                ev = await s.__anext__()
                while ev.type == "BOOKMARK":
                    ev = await s.__anext__()
                return ev.object.metadata.name

            names = await asyncio.wait_for(
                asyncio.gather(*(next_added(s) for s in pod_streams)), timeout=10
            )
            assert names == ["p"] * len(pod_streams)
            after = await asyncio.to_thread(_etcd_watchers, own_etcd)
            assert after == (watchers_before, streams_before), (
                f"etcd watchers/streams went from {(watchers_before, streams_before)} to {after}"
            )
        finally:
            for s in streams:
                await s.aclose()
