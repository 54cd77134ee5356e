"""Creating and deleting pods for a controller, with events and slow start.

``PodControl`` is the seam controllers act through (a fake records calls in
unit tests); ``ApiPodControl`` is the real one. ``slow_start_batch`` creates
in batches of 1, 2, 4, ... and stops at the first failing batch, so a
controller whose pods cannot be created (quota, invalid template) makes one
failing call, not hundreds (Kubernetes' slowStartBatch).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from google.protobuf.message import Message

from controllers.controllerref import owner_reference
from pinnace.api.core.v1 import pod_pb2
from pinnace.client.aio import AsyncClient
from pinnace.client.events import EventRecorder
from pinnace.machinery import errors, kinds
from pinnace.machinery.objects import object_meta

SLOW_START_INITIAL_BATCH = 1


class PodControl(Protocol):
    async def create_pod(
        self,
        namespace: str,
        template: pod_pb2.PodTemplateSpec,
        owner: Message,
        *,
        name: str = "",
        generate_name: str = "",
        mutate: Callable[[pod_pb2.Pod], None] | None = None,
    ) -> pod_pb2.Pod: ...

    async def delete_pod(
        self, namespace: str, name: str, owner: Message, *, uid: str = ""
    ) -> None: ...


def pod_from_template(
    template: pod_pb2.PodTemplateSpec, owner: Message, *, name: str = "", generate_name: str = ""
) -> pod_pb2.Pod:
    """A pod as Kubernetes' GetPodFromTemplate builds it: the template's
    labels, annotations, finalizers and spec, owned by owner."""
    pod = pod_pb2.Pod(api_version="v1", kind="Pod")
    meta = pod.metadata
    tmeta = template.metadata
    meta.labels.update(tmeta.labels)
    meta.annotations.update(tmeta.annotations)
    meta.finalizers.extend(tmeta.finalizers)
    owner_meta = object_meta(owner)
    meta.namespace = owner_meta.namespace
    if name:
        meta.name = name
    else:
        meta.generate_name = generate_name or f"{owner_meta.name}-"
    meta.owner_references.append(owner_reference(owner))
    pod.spec.CopyFrom(template.spec)
    return pod


class ApiPodControl:
    """PodControl through the API, recording Kubernetes' events."""

    def __init__(self, client: AsyncClient, recorder: EventRecorder) -> None:
        self._client = client
        self._recorder = recorder

    async def create_pod(
        self,
        namespace: str,
        template: pod_pb2.PodTemplateSpec,
        owner: Message,
        *,
        name: str = "",
        generate_name: str = "",
        mutate: Callable[[pod_pb2.Pod], None] | None = None,
    ) -> pod_pb2.Pod:
        pod = pod_from_template(template, owner, name=name, generate_name=generate_name)
        if mutate is not None:
            mutate(pod)
        try:
            made = await self._client.pods(namespace).create(pod)
        except errors.ApiError as e:
            self._recorder.event(owner, "Warning", "FailedCreate", f"Error creating: {e.message}")
            raise
        self._recorder.event(
            owner, "Normal", "SuccessfulCreate", f"Created pod: {made.metadata.name}"
        )
        return made

    async def delete_pod(self, namespace: str, name: str, owner: Message, *, uid: str = "") -> None:
        options: dict[str, Any] = {"uid": uid} if uid else {}
        try:
            await self._client.pods(namespace).delete(name, **options)
        except errors.NotFound:
            return
        except errors.ApiError as e:
            self._recorder.event(owner, "Warning", "FailedDelete", f"Error deleting: {e.message}")
            raise
        self._recorder.event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")


async def slow_start_batch(
    count: int, fn: Callable[[int], Awaitable[Any]], *, initial: int = SLOW_START_INITIAL_BATCH
) -> tuple[int, BaseException | None]:
    """Call fn(i) for i in range(count) in batches of initial, 2*initial, ...;
    stop after the first batch with a failure. Returns (successes, first error).
    A kind's AlreadyExists counts as success (the cache was behind)."""
    done = 0
    batch = min(initial, count)
    while done < count:
        results = await asyncio.gather(
            *(fn(done + i) for i in range(batch)), return_exceptions=True
        )
        failures = [
            r
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, errors.AlreadyExists)
        ]
        for r in results:
            if isinstance(r, asyncio.CancelledError):
                raise r
        done += batch - len(failures)
        if failures:
            return done, failures[0]
        batch = min(2 * batch, count - done)
    return done, None


def kind_name(obj: Message) -> str:
    return kinds.by_message(obj).kind
