"""Where a node's kubelet answers: its InternalIP and the kubelet port it
publishes in ``status.daemonEndpoints`` (for logs, exec and port-forward,
read by the CLI and by the apiserver's HTTP API)."""

from __future__ import annotations

from pinnace.api.core.v1 import node_pb2

__all__ = ["kubelet_endpoint"]


def kubelet_endpoint(node: node_pb2.Node) -> tuple[str, int] | None:
    """The node's kubelet (InternalIP, port), None if it publishes none."""
    port = node.status.daemon_endpoints.kubelet_endpoint.port
    host = next((a.address for a in node.status.addresses if a.type == "InternalIP"), "")
    return (host, port) if host and port else None
