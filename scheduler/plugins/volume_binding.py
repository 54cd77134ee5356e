"""VolumeBinding: a pod's PersistentVolumeClaims constrain where it can run.

Filter, per claim volume of the pod (Kubernetes' VolumeBinding plugin, with
every unbound claim treated as WaitForFirstConsumer, since Pinnace has no
StorageClasses and its provisioner makes node-local volumes):

* the claim does not exist: unschedulable ("persistentvolumeclaim "x" not
  found"), retried when claims change;
* bound: the volume's required node affinity must match the node
  ("node(s) had volume node affinity conflict");
* unbound, a node already selected for it (annotation
  ``volume.kubernetes.io/selected-node``, being provisioned there): only
  that node;
* unbound, no node selected: any node.

``pre_bind`` runs before the pod is bound: it records the chosen node on
each unbound claim (the annotation), which is what the provisioner waits
for, then waits until those claims are bound (up to ``bind_timeout``), so
the kubelet finds the volume ready.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pinnace.machinery.nodematch import term_matches
from pinnace.machinery.wellknown import ANNOTATION_SELECTED_NODE
from scheduler.framework import SUCCESS, Status, unresolvable, unschedulable
from scheduler.nodeinfo import NodeInfo, PodInfo

CONFLICT = "node(s) had volume node affinity conflict"
SELECTED_ELSEWHERE = "node(s) did not match the node selected for an unbound PersistentVolumeClaim"


class Lister(Protocol):
    def get_by_name(self, namespace: str, name: str) -> Any | None: ...


def claim_names(pod: Any) -> list[str]:
    return [
        v.persistent_volume_claim.claim_name
        for v in pod.spec.volumes
        if v.HasField("persistent_volume_claim")
    ]


def volume_fits(pv: Any, node: NodeInfo) -> bool:
    if not pv.spec.HasField("node_affinity") or not pv.spec.node_affinity.HasField("required"):
        return True
    terms = pv.spec.node_affinity.required.node_selector_terms
    return any(term_matches(t, node.labels, node.name) for t in terms)


class VolumeBinding:
    name = "VolumeBinding"

    def __init__(self, claims: Lister, volumes: Lister) -> None:
        self.claims = claims
        self.volumes = volumes

    def pre_filter_skip(self, pod: PodInfo) -> bool:
        """No PersistentVolumeClaim volume: no volume to bind anywhere."""
        return not claim_names(pod.pod)

    def filter(self, pod: PodInfo, node: NodeInfo) -> Status:
        namespace = pod.pod.metadata.namespace
        for name in claim_names(pod.pod):
            claim = self.claims.get_by_name(namespace, name)
            if claim is None:
                return unresolvable(f'persistentvolumeclaim "{name}" not found')
            if claim.metadata.deletion_timestamp:
                return unresolvable(f'persistentvolumeclaim "{name}" is being deleted')
            if claim.spec.volume_name:
                pv = self.volumes.get_by_name("", claim.spec.volume_name)
                if pv is None:
                    return unschedulable(f'persistentvolume "{claim.spec.volume_name}" not found')
                if not volume_fits(pv, node):
                    return unresolvable(CONFLICT)
                continue
            selected = claim.metadata.annotations.get(ANNOTATION_SELECTED_NODE)
            if selected and selected != node.name:
                return unresolvable(SELECTED_ELSEWHERE)
        return SUCCESS


PatchClaim = Callable[[str, str, dict], Awaitable[Any]]
"""patch(namespace, name, merge patch)."""


async def pre_bind(
    pod: Any,
    node: str,
    *,
    claims: Lister,
    patch_claim: PatchClaim,
    bind_timeout: float = 30.0,
    poll: float = 0.02,
) -> None:
    """Select ``node`` on the pod's unbound claims and wait until they are
    bound. Raises TimeoutError when they are not bound in time."""
    namespace = pod.metadata.namespace
    waiting = []
    for name in claim_names(pod):
        claim = claims.get_by_name(namespace, name)
        if claim is None or claim.spec.volume_name:
            continue
        if claim.metadata.annotations.get(ANNOTATION_SELECTED_NODE) != node:
            await patch_claim(
                namespace,
                name,
                {
                    "metadata": {
                        "uid": claim.metadata.uid,
                        "annotations": {ANNOTATION_SELECTED_NODE: node},
                    }
                },
            )
        waiting.append(name)
    deadline = time.monotonic() + bind_timeout
    while waiting:
        waiting = [
            n
            for n in waiting
            if not ((c := claims.get_by_name(namespace, n)) is not None and c.spec.volume_name)
        ]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"persistentvolumeclaims {', '.join(waiting)} were not bound within "
                f"{bind_timeout:.0f}s"
            )
        await asyncio.sleep(poll)
