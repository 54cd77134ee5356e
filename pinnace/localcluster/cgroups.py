"""Removing the cgroups a cluster's kubelets made (``pinnace down``).

Each kubelet lists the parents of its containers' cgroups in
``<root dir>/cgroups.json`` (kubelet/cgroups.py, which owns the layout
``<parent>/<pod uid>/<container>-<attempt>``). A kubelet removes a
container's cgroup when the container ends; after a crash (the kubelet
or ``pinnace up`` killed) some remain. ``cleanup_cgroups`` kills what is
left in them and removes them, bottom up. Plain file operations: the
cgroup file systems need nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

__all__ = ["CGROUPS_FILE", "cleanup_cgroups"]

CGROUPS_FILE = "cgroups.json"  # kubelet/cgroups.py writes it


def _remove_tree(d: Path) -> bool:
    """Kill the processes of ``d`` and its children; rmdir them, leaves first."""
    for child in (p for p in d.iterdir() if p.is_dir()) if d.is_dir() else ():
        _remove_tree(child)
    with contextlib.suppress(OSError, ValueError):
        for pid in (d / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(pid), signal.SIGKILL)
    try:
        d.rmdir()
    except FileNotFoundError:
        return False
    except OSError:
        return False  # still busy: a process that has not exited yet
    return True


def cleanup_cgroups(data_dir: Path) -> list[str]:
    """Remove the cgroups of the kubelets under ``data_dir/nodes``; what was removed."""
    removed = []
    nodes_dir = data_dir / "nodes"
    for root in sorted(nodes_dir.iterdir()) if nodes_dir.is_dir() else []:
        try:
            parents = json.loads((root / CGROUPS_FILE).read_text())
        except (OSError, ValueError):
            continue
        for parent in parents:
            if _remove_tree(Path(parent)):
                removed.append(f"cgroup {parent}")
    return removed
