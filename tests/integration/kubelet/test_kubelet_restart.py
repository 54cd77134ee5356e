"""A kubelet killed with SIGKILL and started again re-adopts its containers
(no restart, no duplicate), learns how the ones that exited meanwhile
ended, and kills the processes of pods deleted while it was down."""

from __future__ import annotations

from pinnace.client import Client
from tests.integration.kubelet.helpers import (
    container_status,
    get_pod,
    make_pod,
    pid_alive,
    pids_running,
    run_pod,
    wait_for,
)


def test_restart_readopts_and_cleans_orphans(
    client: Client, namespace: str, start_kubelet, tmp_path
) -> None:
    k = start_kubelet()
    marker = "sleep 3017"  # a command line no other test uses
    keep = make_pod(
        "keep",
        [
            {"name": "long", "command": ["sh", "-c", f"echo $$$$ > long.pid; exec {marker}"]},
            {
                "name": "short",
                "command": ["sh", "-c", "while [ ! -f go ]; do sleep 0.05; done; exit 3"],
            },
        ],
        restartPolicy="Never",
    )
    doomed = make_pod(
        "doomed", [{"name": "c", "command": ["sh", "-c", "echo $$$$ > pid; exec sleep 299"]}]
    )
    keep_uid = run_pod(client, namespace, k.node, keep).metadata.uid
    doomed_uid = run_pod(client, namespace, k.node, doomed).metadata.uid
    keep_dir, doomed_dir = k.root / "pods" / keep_uid, k.root / "pods" / doomed_uid

    def both_running():
        p = get_pod(client, namespace, "keep")
        return p.status.phase == "Running" and all(
            cs.state.HasField("running") for cs in p.status.container_statuses
        )

    wait_for(both_running, what="keep running")
    long_pid = int(
        wait_for(
            lambda: (keep_dir / "long.pid").exists() and (keep_dir / "long.pid").read_text().strip()
        )
    )
    doomed_pid = int(
        wait_for(lambda: (doomed_dir / "pid").exists() and (doomed_dir / "pid").read_text().strip())
    )
    before = get_pod(client, namespace, "keep")

    k.kill()  # SIGKILL: the containers live on
    (keep_dir / "go").touch()  # "short" exits 3 while nobody watches
    client.pods(namespace).delete("doomed", grace_period_seconds=0)  # gone from the API at once
    wait_for(
        lambda: not pid_alive(int((keep_dir / ".pinnace/containers/short/0/pid").read_text())),
        what="short exited",
    )
    assert pid_alive(long_pid) and pid_alive(doomed_pid)

    start_kubelet(node=k.node, root=k.root)

    def short_terminated():
        cs = container_status(get_pod(client, namespace, "keep"), "short")
        return cs.state.HasField("terminated") and cs

    short = wait_for(short_terminated, what="short terminated")
    assert short.state.terminated.exit_code == 3 and short.state.terminated.reason == "Error"
    after = get_pod(client, namespace, "keep")
    long_cs = container_status(after, "long")
    assert long_cs.state.HasField("running") and long_cs.restart_count == 0
    assert (
        long_cs.state.running.started_at
        == container_status(before, "long").state.running.started_at
    )
    assert long_cs.container_id == container_status(before, "long").container_id
    assert after.status.phase == "Running"
    assert pid_alive(long_pid)
    assert pids_running(marker) == [long_pid]  # adopted, not started twice
    wait_for(lambda: not pid_alive(doomed_pid), what="orphan killed")
    wait_for(lambda: not doomed_dir.exists(), what="orphan dir removed")
