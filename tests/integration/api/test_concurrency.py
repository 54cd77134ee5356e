"""Optimistic concurrency: stale writes are conflicts, and many concurrent
read-modify-write loops end exactly right."""

from __future__ import annotations

import asyncio
import random

import grpc

from pinnace.client import AsyncClient, Client
from pinnace.machinery import errors
from tests.integration.api.helpers import expect_error
from tests.integration.api.objects import BY_RESOURCE, pod

WRITERS = 200


async def test_concurrent_increments_end_exactly_right(
    aclient: AsyncClient, namespace: str
) -> None:
    """200 concurrent get → increment → update loops; every conflict is retried
    from a fresh read (with jittered backoff, as client-go's RetryOnConflict),
    so the counter ends at exactly 200 and every write got its own
    resourceVersion."""
    leases = aclient.leases(namespace)
    obj = BY_RESOURCE["leases.coordination.k8s.io"].new("counter")
    obj.metadata.annotations["n"] = "0"
    await leases.create(obj)
    conflicts = 0
    versions: list[int] = []

    async def increment() -> None:
        nonlocal conflicts
        for attempt in range(1, 1000):
            current = await leases.get("counter")
            current.metadata.annotations["n"] = str(int(current.metadata.annotations["n"]) + 1)
            try:
                written = await leases.update(current)
            except errors.Conflict as e:
                assert "modified" in e.message
                conflicts += 1
                await asyncio.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))
                continue
            versions.append(int(written.metadata.resource_version))
            return
        raise AssertionError("an increment never got through")

    await asyncio.gather(*(increment() for _ in range(WRITERS)))
    final = await leases.get("counter")
    assert final.metadata.annotations["n"] == str(WRITERS)
    assert len(set(versions)) == WRITERS, "two writes claimed the same resourceVersion"
    assert max(versions) == int(final.metadata.resource_version)
    assert conflicts > 0, "200 concurrent writers never conflicted: the test proves nothing"


async def test_concurrent_creates_of_one_name(aclient: AsyncClient, namespace: str) -> None:
    pods = aclient.pods(namespace)
    results = await asyncio.gather(
        *(pods.create(pod("same", labels={"try": str(i)})) for i in range(20)),
        return_exceptions=True,
    )
    made = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(made) == 1
    assert all(isinstance(e, errors.AlreadyExists) for e in failed), failed
    assert (await pods.get("same")).metadata.uid == made[0].metadata.uid


def test_stale_update_is_aborted_with_message(client: Client, namespace: str) -> None:
    pods = client.pods(namespace)
    pods.create(pod("p"))
    first = pods.get("p")
    second = pods.get("p")
    first.metadata.labels["w"] = "first"
    pods.update(first)
    second.metadata.labels["w"] = "second"
    err = expect_error(
        errors.Conflict,
        lambda: pods.update(second),
        contains=('pods "p"', "the object has been modified", "try again"),
    )
    assert err.grpc_code == grpc.StatusCode.ABORTED
    assert err.status.reason == "Conflict" and err.status.code == 409
    assert pods.get("p").metadata.labels["w"] == "first"
    # An update without resourceVersion is unconditional (last write wins).
    second.metadata.resource_version = ""
    assert pods.update(second).metadata.labels["w"] == "second"


def test_scale_with_stale_resource_version_conflicts(client: Client, namespace: str) -> None:
    deploys = client.deployments(namespace)
    made = deploys.create(BY_RESOURCE["deployments.apps"].new("d"))
    deploys.patch("d", {"metadata": {"labels": {"x": "y"}}})
    expect_error(
        errors.Conflict,
        lambda: deploys.scale("d", 5, resource_version=made.metadata.resource_version),
    )
    assert deploys.get("d").spec.replicas == 1
