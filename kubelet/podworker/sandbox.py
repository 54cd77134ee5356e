"""The pod's network sandbox: made before any container starts, removed
once none runs any more.

``setup_sandbox`` asks the pod network (kubelet/network) for the pod's
namespace and IP; a hostNetwork pod gets none and the node's IP. It is
done once per worker (``PodState.sandboxed``); after a kubelet restart it
finds the sandbox the earlier process made (the network's ``setup`` is
idempotent), so running containers keep their namespace and IP. A failure
is returned as a message: the worker reports FailedCreatePodSandBox and
retries after its back-off, as Kubernetes does.

``teardown_sandbox`` removes the namespace and frees the IP once every
container has stopped (a terminal or deleted pod). The IP stays in the
pod's status, as in Kubernetes.
"""

from __future__ import annotations

import logging

from kubelet.network import NetworkNotReady
from kubelet.podworker.state import PodState
from pinnace.api.core.v1 import pod_pb2

__all__ = ["setup_sandbox", "teardown_sandbox"]

log = logging.getLogger(__name__)


async def setup_sandbox(ps: PodState, pod: pod_pb2.Pod) -> str:
    """The pod's namespace and IP into ``ps``; an error message, or ""."""
    if pod.spec.host_network:
        ps.netns, ps.pod_ip = "", ps.ctx.host_ip
    else:
        try:
            sandbox = await ps.ctx.network.setup(pod)
        except NetworkNotReady as e:
            return str(e)
        ps.netns, ps.pod_ip = sandbox.netns, sandbox.ip
    ps.sandboxed = True
    ps.sandbox_removed = False
    return ""


async def teardown_sandbox(ps: PodState) -> None:
    """Remove the pod's namespace and free its IP (once)."""
    if ps.sandbox_removed or ps.last_pod.spec.host_network:
        return
    await ps.ctx.network.teardown(ps.uid)
    ps.sandbox_removed = True
    ps.sandboxed = False
