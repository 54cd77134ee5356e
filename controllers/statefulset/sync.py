"""The API side of a StatefulSet sync (Kubernetes' StatefulPodControl in
stateful_pod_control.go): carrying out the actions plan.py decided, in
order, with the events Kubernetes records; a pod's claims are created (or
their owners fixed for the retention policy) before the pod itself.

``StatefulPodControl`` reads claims from the informer cache it is given and
writes through the API client; ``claims_ok`` and ``claim_stale`` are the
claim predicates the plan asks.
"""

from __future__ import annotations

from collections.abc import Callable

from controllers.podcontrol import slow_start_batch
from controllers.statefulset import util
from controllers.statefulset.plan import CLAIMS, CREATE, DELETE, UPDATE, Action
from controllers.statefulset.util import Claim, Pod, StatefulSet
from pinnace.client.aio import AsyncClient
from pinnace.client.events import EventRecorder
from pinnace.machinery import codec, errors


class StatefulPodControl:
    """Creates, fixes and deletes a StatefulSet's pods and claims."""

    def __init__(
        self,
        client: AsyncClient,
        recorder: EventRecorder,
        claim_of: Callable[[str, str], Claim | None],
    ) -> None:
        self.client = client
        self.recorder = recorder
        self._claim_of = claim_of

    def claims_ok(self, set_: StatefulSet, pod: Pod) -> bool:
        """Every claim of the pod exists (for a replica) and has the owners
        the retention policy wants."""
        replica = util.in_ordinal_range(pod, set_)
        for claim in util.pod_claims(set_, util.ordinal_of(pod)).values():
            have = self._claim_of(set_.metadata.namespace, claim.metadata.name)
            if have is None:
                if replica:
                    return False
                continue
            if not util.claim_owners_match(set_, pod, have):
                return False
        return True

    def claim_stale(self, set_: StatefulSet, ordinal: int) -> bool:
        for claim in util.pod_claims(set_, ordinal).values():
            have = self._claim_of(set_.metadata.namespace, claim.metadata.name)
            if have is not None and have.metadata.deletion_timestamp:
                return True
        return False

    async def ensure_claims(self, set_: StatefulSet, pod: Pod) -> None:
        """Create the pod's missing claims, fix the owners of existing ones."""
        api = self.client.persistent_volume_claims(set_.metadata.namespace)
        for claim in util.pod_claims(set_, util.ordinal_of(pod)).values():
            have = self._claim_of(set_.metadata.namespace, claim.metadata.name)
            if have is None:
                claim.metadata.owner_references.extend(util.claim_owner_refs(set_, pod, claim))
                try:
                    await api.create(claim)
                except errors.AlreadyExists:
                    continue
                except errors.ApiError as e:
                    self.recorder.event(
                        set_,
                        "Warning",
                        "FailedCreate",
                        f"create Claim {claim.metadata.name} for Pod {pod.metadata.name} "
                        f"in StatefulSet {set_.metadata.name} failed error: {e.message}",
                    )
                    raise
                self.recorder.event(
                    set_,
                    "Normal",
                    "SuccessfulCreate",
                    f"create Claim {claim.metadata.name} Pod {pod.metadata.name} "
                    f"in StatefulSet {set_.metadata.name} success",
                )
            elif have.metadata.deletion_timestamp:
                raise errors.Conflict(
                    f"pvc {have.metadata.name} is being deleted; waiting for it to be gone"
                )
            elif not util.claim_owners_match(set_, pod, have):
                refs = [codec.to_dict(r) for r in util.claim_owner_refs(set_, pod, have)]
                patch = {
                    "metadata": {
                        "uid": have.metadata.uid,
                        "resourceVersion": have.metadata.resource_version,
                        "ownerReferences": refs or None,
                    }
                }
                await api.patch(have.metadata.name, patch)

    async def execute(self, set_: StatefulSet, actions: list[Action]) -> None:
        """Carry out the plan in order; creates of a Parallel set in
        slow-start batches. The first failure stops the rest (raised)."""
        creates = [a for a in actions if a.kind == CREATE]
        if len(creates) > 1:
            others = [a for a in actions if a.kind != CREATE]
            _, err = await slow_start_batch(
                len(creates), lambda i: self.create_pod(set_, creates[i].pod)
            )
            if err is not None:
                raise err
            actions = others
        for action in actions:
            if action.kind == CREATE:
                await self.create_pod(set_, action.pod)
            elif action.kind == DELETE:
                await self.delete_pod(set_, action.pod)
            elif action.kind in (UPDATE, CLAIMS):
                await self.fix_pod(set_, action.pod, labels=action.kind == UPDATE)

    async def create_pod(self, set_: StatefulSet, pod: Pod) -> None:
        await self.ensure_claims(set_, pod)
        try:
            await self.client.pods(set_.metadata.namespace).create(pod)
        except errors.AlreadyExists:
            return  # the cache is behind
        except errors.ApiError as e:
            self._pod_event("create", set_, pod, e)
            raise
        self._pod_event("create", set_, pod, None)

    async def delete_pod(self, set_: StatefulSet, pod: Pod) -> None:
        try:
            await self.client.pods(set_.metadata.namespace).delete(
                pod.metadata.name, uid=pod.metadata.uid
            )
        except (errors.NotFound, errors.Conflict):
            return  # gone, or another pod of that name now
        except errors.ApiError as e:
            self._pod_event("delete", set_, pod, e)
            raise
        self._pod_event("delete", set_, pod, None)

    def _pod_event(
        self, verb: str, set_: StatefulSet, pod: Pod, error: errors.ApiError | None
    ) -> None:
        """Kubernetes' recordPodEvent: SuccessfulCreate/FailedDelete... on the set."""
        what = f"{verb} Pod {pod.metadata.name} in StatefulSet {set_.metadata.name}"
        if error is None:
            self.recorder.event(set_, "Normal", f"Successful{verb.title()}", f"{what} successful")
        else:
            self.recorder.event(
                set_, "Warning", f"Failed{verb.title()}", f"{what} failed error: {error.message}"
            )

    async def fix_pod(self, set_: StatefulSet, pod: Pod, *, labels: bool) -> None:
        """Fix the pod's claims and (for a replica) its identity labels."""
        await self.ensure_claims(set_, pod)
        if labels and not util.identity_matches(set_, pod):
            fixed = Pod()
            fixed.CopyFrom(pod)
            util.update_identity(set_, fixed)
            patch = {
                "metadata": {
                    "uid": pod.metadata.uid,
                    "resourceVersion": pod.metadata.resource_version,
                    "labels": dict(fixed.metadata.labels),
                }
            }
            try:
                await self.client.pods(set_.metadata.namespace).patch(pod.metadata.name, patch)
            except errors.NotFound:
                return
