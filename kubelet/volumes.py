"""Volumes without mount namespaces: directories, and symlinks to them.

A container's ``volumeMounts[].mountPath`` is taken inside the pod
directory (runtime.py): mountPath "/data" is ``<pod dir>/data``, a symlink
to the volume's directory (or to ``subPath`` inside it). Programs that use
relative paths from their working directory, or ``$PINNACE_POD_DIR``, see
the volume; absolute paths are the host's.

* emptyDir: ``<pod dir>/.pinnace/volumes/<name>``, removed with the pod.
* hostPath: the host path itself; type DirectoryOrCreate / FileOrCreate
  create it, Directory / File / Socket / ... require it to exist.
* persistentVolumeClaim: a node-local directory
  ``<root>/pvc/<namespace>/<claim>`` that outlives the pod, so a pod that
  comes back with the same claim (a StatefulSet replica) finds its data.

Anything else (configMap, secret, projected, ...) is not supported:
setting up the pod fails with a message naming the volume.
Blocking file-system calls: run ``setup_volumes`` in a thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kubelet.paths import PathError, PodPaths, RootPaths, inside

__all__ = ["VolumeError", "setup_volumes", "volume_sources"]


class VolumeError(Exception):
    """A volume could not be set up (event FailedMount)."""


def volume_sources(pod: Any, root: RootPaths, paths: PodPaths) -> dict[str, Path]:
    """Create every volume of ``pod``; its directory by volume name."""
    out: dict[str, Path] = {}
    for vol in pod.spec.volumes:
        if vol.HasField("host_path"):
            out[vol.name] = _host_path(vol.name, vol.host_path)
        elif vol.HasField("persistent_volume_claim"):
            d = root.pvc(pod.metadata.namespace, vol.persistent_volume_claim.claim_name)
            d.mkdir(parents=True, exist_ok=True)
            out[vol.name] = d
        elif vol.HasField("empty_dir") or len(vol.ListFields()) <= 1:
            d = paths.volume(vol.name)
            d.mkdir(parents=True, exist_ok=True)
            out[vol.name] = d
        else:
            kind = vol.ListFields()[-1][0].name
            raise VolumeError(f'volume "{vol.name}": {kind} volumes are not supported by Pinnace')
    return out


def _host_path(name: str, src: Any) -> Path:
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


def setup_volumes(pod: Any, root: RootPaths, paths: PodPaths) -> None:
    """Create the volumes and link every container's mounts into the pod dir."""
    sources = volume_sources(pod, root, paths)
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
