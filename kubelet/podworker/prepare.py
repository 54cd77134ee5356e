"""Setting up the pod's sandbox: its directory and its volumes.

Before any container starts, the worker creates the pod directory (with
the modes of podfiles.py), records
the pod's namespace, name and uid in it (so a later kubelet can tell whose
it is, manager.py), resolves each persistentVolumeClaim to its bound
volume's directory (one API read per claim) and creates the volumes and
their mount links (volumes.py). The file-system part runs in a thread.

A failure (a claim not bound yet, an unsupported volume, ...) is returned
as a message: the worker reports FailedMount and the containers as
ContainerCreating, and the sync fails (``SyncError``): it is tried again
after the pod's sync back-off (worker.py). Success is recorded
once (``PodState.prepared``, the PodReadyToStartContainers condition).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from kubelet.podfiles import make_pod_dir
from kubelet.podworker.state import PodState
from kubelet.security import pod_group
from kubelet.volumes import VolumeError, resolve_claims, setup_volumes
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import errors

__all__ = ["prepare"]


async def prepare(ps: PodState, pod: pod_pb2.Pod) -> str:
    """Create the pod dir and volumes; an error message, or ""."""
    try:
        claims = await resolve_claims(
            ps.ctx.client,
            pod,
            node_name=ps.ctx.config.node_name,
            node_labels=ps.ctx.node_labels,
        )
        await asyncio.to_thread(_prepare_blocking, ps, pod, claims)
    except (VolumeError, OSError) as e:
        return str(e)
    except errors.ApiError as e:
        return f"reading the pod's claims failed: {e}"
    ps.prepared = True
    return ""


def _prepare_blocking(ps: PodState, pod: pod_pb2.Pod, claims: dict[str, Path]) -> None:
    make_pod_dir(ps.paths, pod_group(pod))
    ps.paths.write_info(pod.metadata.namespace, pod.metadata.name, ps.uid)
    setup_volumes(pod, ps.ctx.paths, ps.paths, claims)
