"""The persistent volume binder with a node-local provisioner (Kubernetes'
pkg/controller/volume/persistentvolume with WaitForFirstConsumer binding,
and the local static provisioner's role, in one controller).

Claims (``claim:<ns>/<name>`` keys):

* unbound, and the scheduler chose a node for its first consumer
  (annotation ``volume.kubernetes.io/selected-node``): a PersistentVolume
  ``pvc-<claim uid>`` is created on that node (util.new_volume: a ``local``
  directory under the node's published local volume dir, required node
  affinity for the node, reclaimPolicy Delete, ``claimRef`` to the claim),
  then the claim gets ``spec.volumeName`` and the bind-completed /
  bound-by-controller annotations, then status Bound with the volume's
  capacity and access modes. Each step is idempotent, so a crash between
  them is finished by the next sync;
* unbound with ``spec.volumeName`` set by the user (static binding): the
  named Available volume gets the claim's ``claimRef``;
* bound: status Bound; Lost when its volume is gone.

Volumes (``volume:<name>`` keys): the phase Available / Bound / Released
(util.volume_phase); a Released volume with reclaimPolicy Delete that this
provisioner made is deleted; the node's kubelet then removes its directory
(the controller-manager cannot reach node disks).
"""

from __future__ import annotations

from typing import Any, ClassVar

from controllers.base import Controller, unwrap
from controllers.volumes import util
from controllers.volumes.util import PV, PVC
from pinnace.api.core.v1 import node_pb2, volume_pb2
from pinnace.client.informer import object_key
from pinnace.machinery import errors
from pinnace.machinery.wellknown import (
    ANNOTATION_BIND_COMPLETED,
    ANNOTATION_BOUND_BY_CONTROLLER,
    ANNOTATION_LOCAL_VOLUME_DIR,
    ANNOTATION_SELECTED_NODE,
    ANNOTATION_STORAGE_PROVISIONER,
)

# How often to look again at a claim whose node has not published its
# local volume directory yet.
NODE_WAIT = 2.0


class PersistentVolumeBinder(Controller):
    name: ClassVar[str] = "persistentvolume-binder"
    default_workers: ClassVar[int] = 3

    def setup(self) -> None:
        self.claims = self.ctx.informer(volume_pb2.PersistentVolumeClaim)
        self.volumes = self.ctx.informer(volume_pb2.PersistentVolume)
        self.nodes = self.ctx.informer(node_pb2.Node)
        self.claims.add_handler(
            on_add=self.on_claim,
            on_update=lambda old, cur: self.on_claim(cur),
            on_delete=self.on_claim,
        )
        self.volumes.add_handler(
            on_add=self.on_volume,
            on_update=lambda old, cur: self.on_volume(cur),
            on_delete=self.on_volume,
        )

    def on_claim(self, obj: Any) -> None:
        claim = unwrap(obj)
        self.queue.add(f"claim:{object_key(claim)}")
        if claim.spec.volume_name:
            self.queue.add(f"volume:{claim.spec.volume_name}")
        for pv in self.volumes.store.list():
            if util.claim_ref_key(pv) == object_key(claim):
                self.queue.add(f"volume:{pv.metadata.name}")

    def on_volume(self, obj: Any) -> None:
        pv = unwrap(obj)
        self.queue.add(f"volume:{pv.metadata.name}")
        if key := util.claim_ref_key(pv):
            self.queue.add(f"claim:{key}")

    async def sync(self, key: str) -> float | None:
        kind, _, rest = key.partition(":")
        if kind == "claim":
            return await self.sync_claim(rest)
        return await self.sync_volume(rest)

    # ---- claims ------------------------------------------------------------------------

    async def sync_claim(self, key: str) -> float | None:
        cached = self.claims.store.get(key)
        if cached is None or cached.metadata.deletion_timestamp:
            return None
        claim = PVC()
        claim.CopyFrom(cached)
        api = self.client.persistent_volume_claims(claim.metadata.namespace)
        if claim.spec.volume_name:
            pv = self.volumes.store.get(claim.spec.volume_name)
            if pv is None:
                try:
                    pv = await self.client.persistent_volumes().get(claim.spec.volume_name)
                except errors.NotFound:
                    pv = None
            if pv is None:
                await self._claim_phase(api, claim, util.LOST, None)
                return None
            if not pv.spec.claim_ref.name:
                await self._bind_volume(pv, claim)  # static binding
                return None
            if pv.spec.claim_ref.uid != claim.metadata.uid:
                return None  # bound elsewhere: stays Pending
            await self._claim_phase(api, claim, util.BOUND, pv)
            return None
        node_name = claim.metadata.annotations.get(ANNOTATION_SELECTED_NODE)
        if not node_name:
            return None  # waiting for the first consumer to be scheduled
        pv = self.volumes.store.get(util.volume_name(claim))
        if pv is None:
            node = self.nodes.store.get(node_name)
            directory = node.metadata.annotations.get(ANNOTATION_LOCAL_VOLUME_DIR) if node else None
            if not directory:
                self.recorder.event(
                    claim,
                    "Warning",
                    "ProvisioningFailed",
                    f'node "{node_name}" has not published its local volume directory '
                    f"(annotation {ANNOTATION_LOCAL_VOLUME_DIR})",
                )
                return NODE_WAIT
            pv = util.new_volume(claim, node_name, directory)
            try:
                pv = await self.client.persistent_volumes().create(pv)
            except errors.AlreadyExists:
                pv = await self.client.persistent_volumes().get(pv.metadata.name)
            self.recorder.event(
                claim,
                "Normal",
                "ProvisioningSucceeded",
                f"Successfully provisioned volume {pv.metadata.name} on node {node_name}",
            )
        claim.spec.volume_name = pv.metadata.name
        claim.metadata.annotations[ANNOTATION_BIND_COMPLETED] = "yes"
        claim.metadata.annotations[ANNOTATION_BOUND_BY_CONTROLLER] = "yes"
        claim.metadata.annotations[ANNOTATION_STORAGE_PROVISIONER] = util.PROVISIONER
        claim = await api.update(claim)
        await self._claim_phase(api, claim, util.BOUND, pv)
        return None

    async def _claim_phase(self, api: Any, claim: PVC, phase: str, pv: PV | None) -> None:
        if phase == util.BOUND and pv is not None:
            status = util.bound_claim_status(claim, pv)
        else:
            status = volume_pb2.PersistentVolumeClaimStatus()
            status.CopyFrom(claim.status)
            status.phase = phase
        if status == claim.status:
            return
        claim.status.CopyFrom(status)
        try:
            await api.update_status(claim)
        except errors.NotFound:
            return

    async def _bind_volume(self, pv: PV, claim: PVC) -> None:
        updated = PV()
        updated.CopyFrom(pv)
        util.set_claim_ref(updated, claim)
        await self.client.persistent_volumes().update(updated)

    # ---- volumes -----------------------------------------------------------------------

    async def sync_volume(self, name: str) -> float | None:
        cached = self.volumes.store.get(name)
        if cached is None or cached.metadata.deletion_timestamp:
            return None
        pv = PV()
        pv.CopyFrom(cached)
        claim = None
        if key := util.claim_ref_key(pv):
            claim = self.claims.store.get(key)
            if claim is None:
                # Never release a volume on a cache miss: ask the API.
                ns, _, cname = key.partition("/")
                try:
                    claim = await self.client.persistent_volume_claims(ns).get(cname)
                except errors.NotFound:
                    claim = None
        phase = util.volume_phase(pv, claim)
        if pv.status.phase != phase:
            pv.status.phase = phase
            pv.status.last_phase_transition_time = self.ctx.clock.now().strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            try:
                pv = await self.client.persistent_volumes().update_status(pv)
            except errors.NotFound:
                return None
        if (
            phase == util.RELEASED
            and pv.spec.persistent_volume_reclaim_policy == "Delete"
            and util.is_ours(pv)
        ):
            try:
                await self.client.persistent_volumes().delete(pv.metadata.name, uid=pv.metadata.uid)
            except errors.NotFound:
                return None
            self.recorder.event(
                pv, "Normal", "VolumeDelete", f"deleted released volume {pv.metadata.name}"
            )
        return None
