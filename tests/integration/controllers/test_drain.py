"""`pinnace drain` on the whole `cluster`: refuses DaemonSet pods without
--ignore-daemonsets; with it, cordons the node, moves a Deployment's pods
to the other nodes and leaves the DaemonSet pod where it is."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from tests.integration.controllers.conftest import wait_for
from tests.integration.controllers.nodes_helpers import (
    daemon_set,
    deployment,
    edit_node,
    is_ready,
    pods_of,
)


def _cli(cluster: Any, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", *cluster.cli_args, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_drain_moves_deployment_pods_and_leaves_daemon_pods(
    cluster: Any, cluster_client: Any, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    web_name, agent_name = f"web-{ns}", f"agent-{ns}"
    web = cluster_client.deployments(ns).create(deployment(web_name, 3))
    agent = cluster_client.daemon_sets(ns).create(daemon_set(agent_name))

    def web_pods() -> list[Any]:
        return [
            p
            for p in cluster_client.pods(ns).list(label_selector=f"app={web_name}").items
            if not p.metadata.deletion_timestamp
        ]

    def settled() -> list[Any]:
        pods = web_pods()
        daemons = pods_of(cluster_client, ns, agent.metadata.uid)
        ok = (
            len(pods) == 3
            and all(is_ready(p) and p.spec.node_name for p in pods)
            and len(daemons) == 3
            and all(is_ready(p) for p in daemons)
        )
        return pods if ok else []

    settled_pods = wait_for(settled, timeout=30, what="web and agent pods ready")
    node = settled_pods[0].spec.node_name
    selector = f"app in ({web_name},{agent_name})"
    try:
        refused = _cli(cluster, "drain", node, "--pod-selector", selector)
        assert refused.returncode == 1
        assert "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets" in refused.stderr
        assert f"node/{node} cordoned" in refused.stdout

        done = _cli(
            cluster,
            "drain",
            node,
            "--ignore-daemonsets",
            "--pod-selector",
            selector,
            "--grace-period",
            "1",
            "--timeout",
            "30",
        )
        assert done.returncode == 0, done.stderr
        assert f"node/{node} drained" in done.stdout
        assert "Warning: ignoring DaemonSet-managed Pods" in done.stderr
        assert cluster_client.nodes().get(node).spec.unschedulable
        # Nothing of the Deployment is left on the node (drain waited for it).
        assert not [
            p
            for p in cluster_client.pods(ns).list(label_selector=f"app={web_name}").items
            if p.spec.node_name == node
        ]

        def moved() -> bool:
            pods = web_pods()
            return len(pods) == 3 and all(is_ready(p) and p.spec.node_name != node for p in pods)

        wait_for(moved, timeout=20, what="web pods running on the other nodes")
        daemons = pods_of(cluster_client, ns, agent.metadata.uid)
        assert node in {p.spec.node_name for p in daemons}
    finally:
        edit_node(cluster_client, node, lambda n: setattr(n.spec, "unschedulable", False))
    assert web.metadata.uid
