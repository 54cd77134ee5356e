"""``pinnace rollout status / history / undo`` for StatefulSets and DaemonSets
on the whole `cluster` (real kubelets): the CLI reads the ControllerRevisions
the controllers keep and rolls the workload back by writing the old template
into it."""

from __future__ import annotations

import subprocess
from typing import Any

from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from tests.integration.cli.clirun import pinnace_cli
from tests.integration.controllers.conftest import wait_for
from tests.integration.controllers.nodes_helpers import daemon_set, edit, is_ready, pods_of
from tests.integration.controllers.test_statefulset import sts, wait_settled


def cli(server: LocalCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return pinnace_cli(server, *args, check=False)


def ok(server: LocalCluster, *args: str) -> str:
    return pinnace_cli(server, *args).stdout


def history_rows(stdout: str) -> list[list[str]]:
    lines = stdout.strip().splitlines()
    assert lines[1] == "REVISION  CHANGE-CAUSE", stdout
    return [line.split() for line in lines[2:]]


def set_version(resource: Any, name: str, value: str) -> None:
    def change(obj: Any) -> None:
        obj.spec.template.spec.containers[0].env[0].value = value

    edit(resource, name, change)


def test_statefulset_status_history_undo(
    cluster: Any, cluster_client: Client, cluster_namespace: str
) -> None:
    server, ns = cluster, cluster_namespace
    sets = cluster_client.stateful_sets(ns)
    sets.create(sts("web", 2, volumes=False))
    wait_settled(cluster_client, ns, "web")
    first = sets.get("web").status.current_revision

    set_version(sets, "web", "v2")
    out = ok(server, "rollout", "status", "sts/web", "-n", ns, "--timeout", "60s")
    assert out.strip().splitlines()[-1] == (
        "partitioned roll out complete: 2 new pods have been updated..."
    )
    settled = wait_settled(cluster_client, ns, "web")
    assert settled.status.update_revision != first

    out = ok(server, "rollout", "history", "statefulset/web", "-n", ns)
    assert out.splitlines()[0] == "statefulset.apps/web"
    assert history_rows(out) == [["1", "<none>"], ["2", "<none>"]]
    out = ok(server, "rollout", "history", "sts/web", "-n", ns, "--revision", "1")
    assert out.splitlines()[0] == "statefulset.apps/web with revision #1"
    assert "VERSION:\tv1" in out
    out = ok(server, "rollout", "history", "sts/web", "-n", ns, "--revision", "2", "-o", "yaml")
    assert "value: v2" in out and "$patch" not in out

    missing = cli(server, "rollout", "undo", "sts/web", "-n", ns, "--to-revision", "7")
    assert missing.returncode == 1
    assert "unable to find specified revision 7 in history" in missing.stderr
    out = ok(server, "rollout", "undo", "sts/web", "-n", ns, "--to-revision", "2")
    assert out.strip() == (
        "statefulset.apps/web skipped rollback (current template already matches revision 2)"
    )

    out = ok(server, "rollout", "undo", "sts/web", "-n", ns)
    assert out.strip() == "statefulset.apps/web rolled back"
    assert sets.get("web").spec.template.spec.containers[0].env[0].value == "v1"
    ok(server, "rollout", "status", "sts/web", "-n", ns, "--timeout", "60s")
    back = wait_settled(cluster_client, ns, "web")
    assert back.status.update_revision == first  # the old revision, renumbered
    pods = cluster_client.pods(ns).list(label_selector="app=web").items
    assert {p.spec.containers[0].env[0].value for p in pods} == {"v1"}
    out = ok(server, "rollout", "history", "sts/web", "-n", ns)
    assert [row[0] for row in history_rows(out)] == ["2", "3"]


def test_statefulset_on_delete_has_no_rollout_status(
    cluster: Any, cluster_client: Client, cluster_namespace: str
) -> None:
    cluster_client.stateful_sets(cluster_namespace).create(
        sts("od", 1, volumes=False, updateStrategy={"type": "OnDelete"})
    )
    out = cli(cluster, "rollout", "status", "sts/od", "-n", cluster_namespace)
    assert out.returncode == 1
    assert "rollout status is only available for RollingUpdate strategy type" in out.stderr


def _ready_by_node(client: Client, ns: str, uid: str) -> dict[str, Any]:
    pods = pods_of(client, ns, uid)
    placed = {p.spec.node_name: p for p in pods if p.spec.node_name}
    if len(placed) != 3 or len(pods) != 3 or not all(is_ready(p) for p in pods):
        return {}
    return placed


def test_daemonset_status_history_undo_keeps_pods_at_the_restored_revision(
    cluster: Any, cluster_client: Client, cluster_namespace: str
) -> None:
    server, ns = cluster, cluster_namespace
    dss = cluster_client.daemon_sets(ns)
    ds = dss.create(daemon_set("agent"))
    uid = ds.metadata.uid
    out = ok(server, "rollout", "status", "ds/agent", "-n", ns, "--timeout", "60s")
    assert out.strip().splitlines()[-1] == 'daemon set "agent" successfully rolled out'
    before = wait_for(lambda: _ready_by_node(cluster_client, ns, uid), timeout=20, what="3 pods")

    # A template whose pods never get ready: maxUnavailable 1 stalls the
    # rollout with one node at the new revision.
    def break_it(d: Any) -> None:
        c = d.spec.template.spec.containers[0]
        c.image = "broken"
        c.readiness_probe.exec.command.extend(["false"])
        c.readiness_probe.period_seconds = 1

    edit(dss, "agent", break_it)
    wait_for(
        lambda: (
            sum(p.spec.containers[0].image == "broken" for p in pods_of(cluster_client, ns, uid))
            == 1
        ),
        timeout=20,
        what="one broken pod",
    )
    stuck = cli(server, "rollout", "status", "daemonset/agent", "-n", ns, "--timeout", "2s")
    assert stuck.returncode == 1
    assert 'Waiting for daemon set "agent" rollout to finish' in stuck.stdout
    assert "timed out waiting for the condition" in stuck.stderr

    out = ok(server, "rollout", "history", "ds/agent", "-n", ns)
    assert out.splitlines()[0] == "daemonset.apps/agent"
    assert history_rows(out) == [["1", "<none>"], ["2", "<none>"]]
    out = ok(server, "rollout", "history", "ds/agent", "-n", ns, "--revision", "2")
    assert "Image:\tbroken" in out

    out = ok(server, "rollout", "undo", "ds/agent", "-n", ns, "--to-revision", "1")
    assert out.strip() == "daemonset.apps/agent rolled back"
    ok(server, "rollout", "status", "ds/agent", "-n", ns, "--timeout", "60s")
    after = wait_for(lambda: _ready_by_node(cluster_client, ns, uid), timeout=30, what="3 pods")
    assert all(p.spec.containers[0].image == "v1" for p in after.values())
    # Only the broken node's pod was replaced: the others were already at revision 1.
    restarted = {n for n in after if after[n].metadata.uid != before[n].metadata.uid}
    assert len(restarted) == 1
    out = ok(server, "rollout", "history", "ds/agent", "-n", ns)
    assert [row[0] for row in history_rows(out)] == ["2", "3"]
    out = ok(server, "rollout", "undo", "ds/agent", "-n", ns, "--to-revision", "3")
    assert "skipped rollback (current template already matches revision 3)" in out
