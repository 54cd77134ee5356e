"""Who may read what under ``--root-dir``: one pod cannot read another's files.

Containers of different pods run as different users (security.py); the
modes below keep each pod's files to its own containers (and root):

* ``<root dir>``, ``pods/`` and the local volume directory: 0711, owned by
  the kubelet. Containers may pass through (to reach their own pod
  directory) but not list them, so no pod learns the others' uids, and
  nothing else in the root dir (certificates, keys, the network state)
  is readable unless its own mode says so (keys are 0600).
* a pod directory ``pods/<uid>``: 2770, owned by the kubelet, group the
  pod group (``security.pod_group``: fsGroup, else the pod's own group),
  setgid so that what its containers create there stays shared with the
  pod's other containers. A pod whose containers all run as root has no
  pod group: 0700.
* ``pods/<uid>/.pinnace``: 0710, group the pod group (traversable, for
  the emptyDir volumes below it, not listable); its ``containers/`` and
  ``logs/`` (state, exit codes, logs): 0700, the kubelet's alone.
* an emptyDir volume: 2770, group the pod group, as Kubernetes makes an
  emptyDir for a pod with an fsGroup (group-owned by fsGroup, setgid,
  group-writable); a claimed volume's directory gets the same when the
  pod has an fsGroup (the top directory only: Kubernetes also changes
  the ownership of what is inside, recursively).
* a working directory the kubelet creates inside the pod directory:
  2770, group the pod group, so the container's user can write there.

The kubelet does not check the directories *above* ``--root-dir``: they
must be traversable (``o+x``) for containers that do not run as root to
reach their pod directory by its absolute path (``$PINNACE_POD_DIR``,
volume links); ``warn_untraversable`` logs which are not.
Blocking file-system calls: run in a thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from kubelet.paths import PodPaths, RootPaths

__all__ = [
    "make_pod_dir",
    "make_workdir",
    "secure_root",
    "share",
    "warn_untraversable",
]

log = logging.getLogger(__name__)

PASS_THROUGH = 0o711
SHARED = 0o2770
PRIVATE_TRAVERSE = 0o710
PRIVATE = 0o700


def _set(path: Path, mode: int, group: int | None = None) -> None:
    """chmod ``path`` (and chgrp it to ``group``; not possible for a
    kubelet that is not root and not in the group: it then runs every
    container as itself, security.py)."""
    if group is not None:
        with contextlib.suppress(PermissionError):
            os.chown(path, -1, group, follow_symlinks=False)
    os.chmod(path, mode)


def share(path: Path, group: int | None) -> None:
    """``path`` (a directory) shared with ``group``: 2770 (nothing if None)."""
    if group is not None:
        _set(path, SHARED, group)


def secure_root(root: RootPaths, local_volumes: Path) -> None:
    """The root dir, ``pods/`` and the local volume dir: 0711."""
    for d in (root.root, root.pods_dir, local_volumes):
        d.mkdir(parents=True, exist_ok=True)
        _set(d, PASS_THROUGH)


def make_pod_dir(paths: PodPaths, group: int | None) -> None:
    """The pod directory and its private part, with their modes (module docstring)."""
    paths.dir.mkdir(parents=True, exist_ok=True)
    if group is None:
        _set(paths.dir, PRIVATE)
    else:
        share(paths.dir, group)
    paths.private.mkdir(exist_ok=True)
    _set(paths.private, PRIVATE_TRAVERSE if group is not None else PRIVATE, group)
    for d in (paths.private / "containers", paths.private / "logs"):
        d.mkdir(exist_ok=True)
        _set(d, PRIVATE)
    volumes = paths.private / "volumes"
    volumes.mkdir(exist_ok=True)
    _set(volumes, PRIVATE_TRAVERSE if group is not None else PRIVATE, group)


def make_workdir(pod_dir: Path, workdir: Path, group: int | None) -> None:
    """Create ``workdir`` (inside ``pod_dir``); the directories made here
    are shared with ``group``. Existing ones (a volume, a link to a host
    path) keep their modes."""
    missing = []
    p = workdir
    while p != pod_dir and pod_dir in p.parents and not p.exists() and not p.is_symlink():
        missing.append(p)
        p = p.parent
    workdir.mkdir(parents=True, exist_ok=True)
    for d in missing:
        share(d, group)


def warn_untraversable(root_dir: Path) -> list[Path]:
    """The directories above ``root_dir`` that others cannot pass through
    (logged: containers that do not run as root cannot reach their files)."""
    blocked = []
    for d in root_dir.resolve().parents:
        try:
            mode = d.stat().st_mode
        except OSError:
            continue
        if not mode & stat.S_IXOTH:
            blocked.append(d)
    if blocked:
        log.warning(
            "%s not traversable by others (o+x): containers running as a non-root "
            "user cannot reach their pod directories below %s",
            ", ".join(map(str, blocked)),
            root_dir,
        )
    return blocked
