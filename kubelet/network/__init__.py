"""The pod network: what the kubelet asks of it, as a small plugin boundary
(CNI's ADD/DEL in spirit).

``PodNetwork`` is the boundary. Two implementations:

* ``BridgeNetwork`` (bridge.py): every pod in its own network namespace with
  an IP from the node's podCIDR, on a per-node bridge. Needs root.
* ``HostNetwork`` (this module): no namespaces; pods share the node's
  network and IP. The fallback without root (``--pod-network auto``),
  announced on the Node (annotation ``pinnace.io/pod-network: host``) so
  the scheduler treats declared containerPorts as host ports.

hostNetwork pods never get a sandbox from either.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Protocol

from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery.wellknown import POD_NETWORK_HOST

__all__ = [
    "HostNetwork",
    "NetworkNotReady",
    "NetworkUnavailable",
    "PodNetwork",
    "Sandbox",
    "netns_argv",
]


# iproute2's ``ip``, by absolute path: a container's PATH may not name its directory.
IP_COMMAND = shutil.which("ip") or "/usr/sbin/ip"


class NetworkUnavailable(Exception):
    """The pod network the flags ask for cannot be had on this machine."""


class NetworkNotReady(Exception):
    """Pods cannot get a network yet (no podCIDR, or setting it up failed)."""


@dataclass(frozen=True)
class Sandbox:
    """A pod's network: its namespace ("" = the host's) and IP."""

    netns: str
    ip: str


def netns_argv(netns: str, argv: list[str]) -> list[str]:
    """``argv`` run inside the network namespace ``netns`` ("" = as is).

    ``ip netns exec`` execs the command (same pid), and bind-mounts
    ``/etc/netns/<netns>/resolv.conf`` and ``hosts`` over ``/etc`` in a
    private mount namespace, which is how a pod gets its DNS settings."""
    return [IP_COMMAND, "netns", "exec", netns, *argv] if netns else list(argv)


class PodNetwork(Protocol):
    mode: str  # wellknown.POD_NETWORK_*

    def not_ready_reason(self) -> str:
        """Why pods cannot get a network now ("" when they can)."""
        ...

    async def configure(self, pod_cidr: str) -> None:
        """Set up the node's side for ``pod_cidr`` (idempotent)."""
        ...

    async def setup(self, pod: pod_pb2.Pod) -> Sandbox:
        """The pod's sandbox, made now or found from before (idempotent)."""
        ...

    async def teardown(self, uid: str) -> None:
        """Remove the pod's sandbox and free its IP (idempotent)."""
        ...

    async def cleanup(self, keep: set[str]) -> list[str]:
        """Remove the sandboxes of pods not in ``keep``; what was removed."""
        ...

    async def shutdown(self) -> None:
        """Remove the node's side (the kubelet is leaving for good)."""
        ...


class HostNetwork:
    """Pods share the node's network (see the module docstring)."""

    mode = POD_NETWORK_HOST

    def __init__(self, node_ip: str) -> None:
        self.node_ip = node_ip

    def not_ready_reason(self) -> str:
        return ""

    async def configure(self, pod_cidr: str) -> None:
        return None

    async def setup(self, pod: pod_pb2.Pod) -> Sandbox:
        return Sandbox("", self.node_ip)

    async def teardown(self, uid: str) -> None:
        return None

    async def cleanup(self, keep: set[str]) -> list[str]:
        return []

    async def shutdown(self) -> None:
        return None
