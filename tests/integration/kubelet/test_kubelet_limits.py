"""resources.limits in cgroups: a container over its memory limit is
OOMKilled (exit code 137) and restarted, and the node keeps working; the
cpu quota is written; cgroups survive a kubelet restart and are removed
when their container ends.

Needs root and a writable cgroup (v1 memory+cpu or v2): skipped otherwise."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest

from kubelet.cgroups import Cgroups
from kubelet.server import read_exec_frames
from pinnace.client import Client
from tests.integration.kubelet.helpers import container_status, get_pod, make_pod, run_pod, wait_for


def _usable_cgroups(tmp: Path) -> Cgroups:
    cg = Cgroups.detect(node_name="probe", root_dir=tmp)
    for h in cg.hierarchies:
        h.parent.rmdir()
    return cg


@pytest.fixture
def cgroup_kubelet(start_kubelet: Callable[..., object], tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("cgroups need root")
    cg = _usable_cgroups(tmp_path / "probe")
    if not (cg.enforces("memory") and cg.enforces("cpu")):
        pytest.skip(f"no writable cgroup with memory and cpu controllers ({cg.describe()})")
    return start_kubelet()


def _state(kubelet, uid: str, container: str, attempt: int) -> dict:
    path = kubelet.root / "pods" / uid / ".pinnace" / "containers" / container / str(attempt)
    return json.loads((path / "state.json").read_text())


def _status(client: Client, ns: str, pod: str, container: str):
    return container_status(get_pod(client, ns, pod), container)


def test_a_container_over_its_memory_limit_is_oomkilled_and_the_node_keeps_working(
    client: Client, namespace: str, cgroup_kubelet
) -> None:
    hog = make_pod(
        "hog",
        [
            {
                "name": "c",
                "command": ["python3", "-c", "b = bytearray(200 * 1024 * 1024); print('survived')"],
                "resources": {"limits": {"memory": "32Mi"}},
            }
        ],
        restartPolicy="Always",
    )
    neighbour = make_pod(
        "neighbour",
        [
            {
                "name": "c",
                "command": [
                    "python3",
                    "-c",
                    "b = bytearray(8 * 1024 * 1024); import time; time.sleep(300)",
                ],
                "resources": {"limits": {"memory": "64Mi", "cpu": "250m"}},
            }
        ],
    )
    hog_uid = run_pod(client, namespace, cgroup_kubelet.node, hog).metadata.uid

    def oom_killed_and_restarted():
        cs = _status(client, namespace, "hog", "c")
        if cs is None or cs.restart_count < 1:
            return None
        return cs if cs.last_state.terminated.reason == "OOMKilled" else None

    cs = wait_for(oom_killed_and_restarted, timeout=30, what="hog OOMKilled and restarted")
    assert cs.last_state.terminated.exit_code == 137
    events = [e for e in client.events(namespace).list().items if e.reason == "BackOff"]
    assert events or cs.restart_count >= 1

    run_pod(client, namespace, cgroup_kubelet.node, neighbour)

    def running():
        c = _status(client, namespace, "neighbour", "c")
        return c if c is not None and c.state.HasField("running") else None

    wait_for(running, what="the neighbour runs")
    uid = get_pod(client, namespace, "neighbour").metadata.uid
    dirs = [Path(d) for d in _state(cgroup_kubelet, uid, "c", 0)["cgroups"]]
    assert dirs
    pid = _state(cgroup_kubelet, uid, "c", 0)["pid"]
    for d in dirs:  # the wrapper joins its cgroups first thing, maybe just after "running"
        wait_for(lambda d=d: str(pid) in (d / "cgroup.procs").read_text().split())
        if (d / "cpu.cfs_quota_us").exists():
            assert (d / "cpu.cfs_quota_us").read_text().strip() == "25000"
            assert (d / "cpu.cfs_period_us").read_text().strip() == "100000"
        if (d / "memory.limit_in_bytes").exists():
            assert (d / "memory.limit_in_bytes").read_text().strip() == str(64 * 1024 * 1024)
        if (d / "cpu.max").exists():
            assert (d / "cpu.max").read_text().split() == ["25000", "100000"]
    # The hog's finished attempts left no cgroup behind (only the running one, if any).
    hog_attempts = sorted(
        int(p.name)
        for p in (cgroup_kubelet.root / "pods" / hog_uid / ".pinnace/containers/c").iterdir()
    )
    for attempt in hog_attempts[:-1]:
        for d in _state(cgroup_kubelet, hog_uid, "c", attempt)["cgroups"]:
            assert not Path(d).exists()
    client.pods(namespace).delete("hog", grace_period_seconds=0)
    client.pods(namespace).delete("neighbour", grace_period_seconds=0)
    wait_for(lambda: not any(d.exists() for d in dirs), what="the neighbour's cgroup removed")


def test_a_kubelet_restart_keeps_the_container_its_user_and_its_cgroup(
    client: Client, namespace: str, start_kubelet, cgroup_kubelet
) -> None:
    pod = make_pod(
        "steady",
        [
            {
                "name": "c",
                "command": ["sleep", "300"],
                "resources": {"limits": {"memory": "32Mi"}},
                "securityContext": {"runAsUser": 1000},
            }
        ],
    )
    uid = run_pod(client, namespace, cgroup_kubelet.node, pod).metadata.uid
    wait_for(
        lambda: (cs := _status(client, namespace, "steady", "c")) and cs.state.HasField("running")
    )
    state = _state(cgroup_kubelet, uid, "c", 0)
    dirs = [Path(d) for d in state["cgroups"]]
    procs = dirs[0] / "cgroup.procs"

    # The wrapper joins, then runs the command: both listed once it started.
    def joined() -> list[str] | None:
        pids = procs.read_text().split()
        return pids if len(pids) == 2 else None

    members = wait_for(joined, what="the wrapper and its command in the cgroup")
    sleeper = int(max(members, key=lambda pid: pid != str(state["pid"])))
    before = Path(f"/proc/{sleeper}/status").read_text()
    assert "Uid:\t1000\t1000\t1000\t1000" in before
    cgroup_kubelet.kill()  # a crash: nothing cleans up
    again = start_kubelet(node=cgroup_kubelet.node, root=cgroup_kubelet.root)
    assert again.root == cgroup_kubelet.root
    wait_for(lambda: "re-adopted container c" in again.log(), what="the container re-adopted")
    cs = _status(client, namespace, "steady", "c")
    assert cs.restart_count == 0 and cs.state.HasField("running")
    assert all(d.exists() for d in dirs)
    assert str(sleeper) in (dirs[0] / "cgroup.procs").read_text().split()
    assert Path(f"/proc/{sleeper}/status").read_text().count("Uid:\t1000") == 1


def test_without_cgroups_a_memory_limit_is_an_rlimit(
    client: Client, namespace: str, start_kubelet
) -> None:
    """--cgroups=false: the allocation fails inside the program (exit 1,
    reason Error), there is no OOM kill to report; nothing is made in cgroups."""
    kubelet = start_kubelet("--cgroups=false")
    pod = make_pod(
        "capped",
        [
            {
                "name": "c",
                "command": ["python3", "-c", "b = bytearray(200 * 1024 * 1024)"],
                "resources": {"limits": {"memory": "32Mi"}},
            }
        ],
        restartPolicy="Never",
    )
    uid = run_pod(client, namespace, kubelet.node, pod).metadata.uid

    def terminated():
        cs = _status(client, namespace, "capped", "c")
        return cs if cs is not None and cs.state.HasField("terminated") else None

    cs = wait_for(terminated, what="capped terminated")
    assert (cs.state.terminated.exit_code, cs.state.terminated.reason) == (1, "Error")
    assert _state(kubelet, uid, "c", 0)["cgroups"] == []
    assert (
        "MemoryError"
        in (kubelet.root / "pods" / uid / ".pinnace" / "logs" / "c" / "0.log").read_text()
    )


def test_exec_sessions_and_exec_probes_run_in_the_containers_cgroup(
    client: Client, namespace: str, cgroup_kubelet
) -> None:
    probe = {"exec": {"command": ["sh", "-c", "grep memory /proc/self/cgroup > probe-cgroup"]}}
    pod = make_pod(
        "joined",
        [
            {
                "name": "c",
                "command": ["sleep", "300"],
                "resources": {"limits": {"memory": "64Mi"}},
                "readinessProbe": {**probe, "periodSeconds": 1},
            }
        ],
    )
    uid = run_pod(client, namespace, cgroup_kubelet.node, pod).metadata.uid

    def ready():
        cs = _status(client, namespace, "joined", "c")
        return cs if cs is not None and cs.ready else None

    wait_for(ready, what="joined ready")
    memory = next(Path(d) for d in _state(cgroup_kubelet, uid, "c", 0)["cgroups"] if "memory" in d)
    own = str(memory).split("/sys/fs/cgroup/memory", 1)[-1]
    probe_cgroup = (cgroup_kubelet.root / "pods" / uid / "probe-cgroup").read_text()
    assert probe_cgroup.strip().endswith(own)
    query = urlencode(
        [("command", "grep"), ("command", "memory"), ("command", "/proc/self/cgroup")]
    )
    status, body = cgroup_kubelet.get(f"/exec/{namespace}/joined/c?{query}", method="POST")
    assert status == 200
    out = b"".join(p for ch, p in read_exec_frames(body) if ch == 1).decode()
    assert out.strip().endswith(own)
    status, body = cgroup_kubelet.get(
        f"/exec/{namespace}/joined/c?command=no-such-binary", method="POST"
    )
    assert json.loads(read_exec_frames(body)[-1][1])["exitCode"] == -1
