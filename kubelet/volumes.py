"""Volumes without mount namespaces: directories, and symlinks to them.

A container's ``volumeMounts[].mountPath`` is taken inside the pod
directory (runtime.py): mountPath "/data" is ``<pod dir>/data``, a symlink
to the volume's directory (or to ``subPath`` inside it). Programs that use
relative paths from their working directory, or ``$PINNACE_POD_DIR``, see
the volume; absolute paths are the host's.

* emptyDir: ``<pod dir>/.pinnace/volumes/<name>``, removed with the pod;
  group-owned by the pod group (fsGroup), setgid (podfiles.py).
* hostPath: the host path itself; type DirectoryOrCreate / FileOrCreate
  create it, Directory / File / Socket / ... require it to exist.
* persistentVolumeClaim: the directory of the PersistentVolume the claim
  is bound to (``resolve_claims``, before the pod starts: the claim must
  exist and be bound, else setup fails and is retried): a ``local`` PV's
  ``spec.local.path`` or a ``hostPath`` PV's path. It outlives the pod, so
  a pod that comes back with the same claim (a StatefulSet replica) finds
  its data. The PV must be usable on this node (its required node affinity
  matches the node's labels).

Node-local volumes: the kubelet publishes ``--local-volume-dir`` (default
``<root-dir>/local-volumes``, absolute) as the Node annotation
``pinnace.io/local-volume-dir`` (wellknown.ANNOTATION_LOCAL_VOLUME_DIR); the provisioner (controllers/volumes)
makes PVs whose ``local.path`` is ``<that dir>/<pv name>``. The kubelet
creates such a directory when a pod first mounts it, and removes every
directory there whose PV no longer exists (``cleanup_local_volumes``,
from housekeeping): a PV with reclaimPolicy Delete is deleted by the
provisioner once its claim is gone, and its data go with it.

Anything else (configMap, secret, projected, ...) is not supported:
setting up the pod fails with a message naming the volume.
Blocking file-system calls: run ``setup_volumes`` in a thread.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kubelet.paths import PathError, PodPaths, RootPaths, inside
from kubelet.podfiles import share
from kubelet.security import pod_group
from pinnace.api.core.v1 import affinity_pb2, pod_pb2, volume_pb2
from pinnace.client.aio import AsyncClient
from pinnace.machinery import errors
from pinnace.machinery.wellknown import LABEL_HOSTNAME

__all__ = [
    "VolumeError",
    "cleanup_local_volumes",
    "resolve_claims",
    "setup_volumes",
    "volume_sources",
]


class VolumeError(Exception):
    """A volume could not be set up (event FailedMount)."""


async def resolve_claims(
    client: AsyncClient, pod: pod_pb2.Pod, *, node_name: str, node_labels: dict[str, str]
) -> dict[str, Path]:
    """The directory of each persistentVolumeClaim volume of ``pod``, by
    volume name, read from its claim and the claim's bound volume."""
    out: dict[str, Path] = {}
    namespace = pod.metadata.namespace
    for vol in pod.spec.volumes:
        if not vol.HasField("persistent_volume_claim"):
            continue
        name = vol.persistent_volume_claim.claim_name
        try:
            claim = await client.persistent_volume_claims(namespace).get(name)
        except errors.NotFound:
            raise VolumeError(f'persistentvolumeclaim "{name}" not found') from None
        if not claim.spec.volume_name:
            raise VolumeError(f'persistentvolumeclaim "{name}" is not bound yet')
        try:
            pv = await client.persistent_volumes().get(claim.spec.volume_name)
        except errors.NotFound:
            raise VolumeError(
                f'persistentvolume "{claim.spec.volume_name}" of claim "{name}" not found'
            ) from None
        if pv.spec.claim_ref.uid and pv.spec.claim_ref.uid != claim.metadata.uid:
            raise VolumeError(f'persistentvolume "{pv.metadata.name}" is bound to another claim')
        if not _affinity_matches(pv, node_name, node_labels):
            raise VolumeError(
                f'persistentvolume "{pv.metadata.name}" has a node affinity conflict with '
                f'node "{node_name}"'
            )
        if pv.spec.HasField("local"):
            out[vol.name] = Path(pv.spec.local.path)
        elif pv.spec.HasField("host_path"):
            out[vol.name] = Path(pv.spec.host_path.path)
        else:
            raise VolumeError(
                f'persistentvolume "{pv.metadata.name}": only local and hostPath volumes '
                "are supported by Pinnace"
            )
    return out


def _affinity_matches(
    pv: volume_pb2.PersistentVolume, node_name: str, labels: dict[str, str]
) -> bool:
    if not pv.spec.HasField("node_affinity") or not pv.spec.node_affinity.HasField("required"):
        return True
    labels = {**labels, LABEL_HOSTNAME: labels.get(LABEL_HOSTNAME, node_name)}
    for term in pv.spec.node_affinity.required.node_selector_terms:
        if all(_requirement(r, labels) for r in term.match_expressions) and (
            term.match_expressions or term.match_fields
        ):
            return True
    return False


def _requirement(req: affinity_pb2.NodeSelectorRequirement, labels: dict[str, str]) -> bool:
    value = labels.get(req.key)
    if req.operator == "In":
        return value in req.values
    if req.operator == "NotIn":
        return value not in req.values
    if req.operator == "Exists":
        return value is not None
    if req.operator == "DoesNotExist":
        return value is None
    return False


def cleanup_local_volumes(local_dir: Path, candidates: list[str], existing: set[str]) -> list[str]:
    """Remove the directories ``candidates`` under ``local_dir`` whose PV
    (same name) is not in ``existing``; their names. The candidates must be
    listed *before* the PVs: a directory is only made after its PV was read,
    so a directory listed first whose PV is missing from a later list is
    one whose PV was deleted."""
    removed = []
    for name in candidates:
        if name not in existing:
            shutil.rmtree(local_dir / name, ignore_errors=True)
            removed.append(name)
    return removed


def volume_sources(
    pod: pod_pb2.Pod, root: RootPaths, paths: PodPaths, claims: dict[str, Path] | None = None
) -> dict[str, Path]:
    """Create every volume of ``pod``; its directory by volume name.
    ``claims``: the resolved directories of its claim volumes."""
    out: dict[str, Path] = {}
    claims = claims or {}
    group = pod_group(pod)
    psc = pod.spec.security_context
    fs_group = psc.fs_group if psc.HasField("fs_group") else None
    for vol in pod.spec.volumes:
        if vol.HasField("host_path"):
            out[vol.name] = _host_path(vol.name, vol.host_path)
        elif vol.HasField("persistent_volume_claim"):
            if vol.name not in claims:
                raise VolumeError(f'volume "{vol.name}": claim not resolved')
            d = claims[vol.name]
            d.mkdir(parents=True, exist_ok=True)
            share(d, fs_group)
            out[vol.name] = d
        elif vol.HasField("empty_dir") or len(vol.ListFields()) <= 1:
            d = paths.volume(vol.name)
            d.mkdir(parents=True, exist_ok=True)
            share(d, group)
            out[vol.name] = d
        else:
            kind = vol.ListFields()[-1][0].json_name  # configMap, as in a manifest
            raise VolumeError(f'volume "{vol.name}": {kind} volumes are not supported by Pinnace')
    return out


def _host_path(name: str, src: volume_pb2.HostPathVolumeSource) -> Path:
    path = Path(src.path)
    kind = src.type if src.HasField("type") else ""
    if kind == "DirectoryOrCreate":
        path.mkdir(parents=True, exist_ok=True)
    elif kind == "FileOrCreate":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    elif kind == "Directory" and not path.is_dir():
        raise VolumeError(f'volume "{name}": hostPath type check failed: {path} is not a directory')
    elif kind == "File" and not path.is_file():
        raise VolumeError(f'volume "{name}": hostPath type check failed: {path} is not a file')
    elif kind and kind not in ("Directory", "File") and not path.exists():
        raise VolumeError(f'volume "{name}": hostPath type check failed: {path} does not exist')
    return path


def setup_volumes(
    pod: pod_pb2.Pod, root: RootPaths, paths: PodPaths, claims: dict[str, Path] | None = None
) -> None:
    """Create the volumes and link every container's mounts into the pod dir."""
    sources = volume_sources(pod, root, paths, claims)
    for ctr in (*pod.spec.init_containers, *pod.spec.containers):
        for m in ctr.volume_mounts:
            if m.name not in sources:
                raise VolumeError(f'container "{ctr.name}": volumeMount "{m.name}" has no volume')
            target = sources[m.name]
            if m.sub_path:
                try:
                    target = inside(target, m.sub_path)
                except PathError as e:
                    raise VolumeError(f'container "{ctr.name}": subPath: {e}') from None
                target.mkdir(parents=True, exist_ok=True)
            try:
                link = inside(paths.dir, m.mount_path)
            except PathError as e:
                raise VolumeError(f'container "{ctr.name}": mountPath: {e}') from None
            _link(link, target)


def _link(link: Path, target: Path) -> None:
    if link.is_symlink():
        if os.readlink(link) == str(target):
            return
        link.unlink()
    elif link.exists():
        raise VolumeError(f"mount path {link} exists and is not a volume link")
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
