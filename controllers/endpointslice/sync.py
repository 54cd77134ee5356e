"""The API side of an EndpointSlice sync: carry out a SlicePlan.

Creates first, then updates, then deletes (Kubernetes' order: a consumer
sees new endpoints before old slices go). Every successful write is
recorded in the tracker. A failed call ends the sync with its error (the
work queue retries with backoff; the next sync recomputes from the caches);
a slice already gone counts as deleted, and a Conflict on an update means
the cache is behind, which the retry sorts out.
"""

from __future__ import annotations

from controllers.endpointslice.plan import SlicePlan
from controllers.endpointslice.tracker import SliceTracker
from pinnace.client.aio import AsyncClient
from pinnace.machinery import errors

__all__ = ["apply_plan"]


async def apply_plan(
    client: AsyncClient, tracker: SliceTracker, *, key: str, namespace: str, plan: SlicePlan
) -> None:
    """Write the plan's slices for the Service at key."""
    slices = client.endpoint_slices(namespace)
    for es in plan.create:
        tracker.wrote(key, await slices.create(es))
    for es in plan.update:
        tracker.wrote(key, await slices.update(es))
    for name in plan.delete:
        try:
            await slices.delete(name)
        except errors.NotFound:
            pass
        tracker.deleted(key, name)
