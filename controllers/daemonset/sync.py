"""The API side of a DaemonSet sync: carrying out a plan (plan.py) with
expectations and events (Kubernetes' syncNodes), and the ControllerRevision
calls history.py makes.
"""

from __future__ import annotations

from typing import Any

from controllers.daemonset.backoff import FailedPodBackoff
from controllers.daemonset.plan import Plan
from controllers.daemonset.util import DaemonSet, daemon_pod_template, pin_to_node, pinned_node
from controllers.expectations import Expectations
from controllers.podcontrol import PodControl, slow_start_batch
from pinnace.client.events import EventRecorder
from pinnace.machinery import errors

# Most pods created or deleted in one sync (Kubernetes' BurstReplicas).
BURST_REPLICAS = 250


class ApiRevisionControl:
    """ControllerRevision calls for history.py, through the API."""

    def __init__(self, client: Any, namespace: str) -> None:
        self._handle = client.controller_revisions(namespace)

    async def create(self, cr: Any) -> Any:
        return await self._handle.create(cr)

    async def update(self, cr: Any) -> Any:
        return await self._handle.update(cr)

    async def get(self, name: str) -> Any:
        return await self._handle.get(name)

    async def patch(self, name: str, body: dict) -> Any:
        return await self._handle.patch(name, body)

    async def delete(self, name: str, uid: str) -> None:
        await self._handle.delete(name, uid=uid)


async def carry_out(
    ds: DaemonSet,
    key: str,
    plan: Plan,
    hash_value: str,
    *,
    pod_control: PodControl,
    creations: Expectations,
    deletions: Expectations,
    backoff: FailedPodBackoff,
    recorder: EventRecorder,
) -> None:
    """Create and delete what the plan says, expectations first: at most
    BURST_REPLICAS of each; failed pods are reported and their node's backoff
    advanced; a create or delete that fails lowers its expectation."""
    namespace = ds.metadata.namespace
    creates = plan.create_on[:BURST_REPLICAS]
    deletes = plan.delete[:BURST_REPLICAS]
    creations.expect_creations(key, len(creates))
    deletions.expect_deletions(key, [p.metadata.uid for p in deletes])
    for pod in plan.failed:
        node = pinned_node(pod)
        recorder.event(
            ds,
            "Warning",
            "FailedDaemonPod",
            f"Found failed daemon pod {namespace}/{pod.metadata.name} on node {node}, "
            "will try to kill it",
        )
        backoff.next(f"{ds.metadata.uid}/{node}")
    template = daemon_pod_template(ds, hash_value)

    async def create(i: int) -> None:
        node = creates[i]
        await pod_control.create_pod(
            namespace,
            template,
            ds,
            generate_name=f"{ds.metadata.name}-",
            mutate=lambda pod: pin_to_node(pod.spec, node),
        )

    done, err = await slow_start_batch(len(creates), create)
    for _ in range(len(creates) - done):
        creations.creation_observed(key)  # never coming
    failures: list[BaseException] = [err] if err is not None else []
    for pod in deletes:
        try:
            await pod_control.delete_pod(namespace, pod.metadata.name, ds, uid=pod.metadata.uid)
        except errors.ApiError as e:
            deletions.deletion_observed(key, pod.metadata.uid)
            failures.append(e)
    errors.raise_aggregate(failures)
