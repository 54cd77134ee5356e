"""pinnace logs / exec / get -o wide against a whole cluster with real pods."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pinnace.localcluster.cluster import LocalCluster
from tests.integration.cli.clirun import pinnace_cli

POD = """
apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo line-1; echo line-2; echo to-stderr >&2; echo $(MSG); sleep 300"]
    env: [{name: MSG, value: expanded}]
  - name: side
    image: busybox
    command: ["sh", "-c", "echo side-car; sleep 300"]
"""


def run(cluster: LocalCluster, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return pinnace_cli(cluster, *args, check=check)


def test_logs_exec_and_wide(cluster: LocalCluster, cluster_namespace: str, tmp_path: Path) -> None:
    ns = cluster_namespace
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD)
    run(cluster, "apply", "-f", str(manifest), "-n", ns)
    run(cluster, "wait", "pod/talker", "-n", ns, "--for=condition=Ready", "--timeout=30s")

    out = run(cluster, "logs", "talker", "-n", ns)
    assert out.stdout.splitlines()[:2] == ["line-1", "line-2"]
    assert "to-stderr" in out.stdout and "expanded" in out.stdout
    assert 'Defaulted container "main" out of: main, side' in out.stderr
    assert run(cluster, "logs", "talker", "side", "-n", ns).stdout.strip() == "side-car"
    assert (
        run(cluster, "logs", "talker", "-c", "main", "--tail", "1", "-n", ns).stdout.strip()
        == "expanded"
    )
    bad = run(cluster, "logs", "talker", "-c", "nope", "-n", ns, check=False)
    assert bad.returncode == 1 and "choose one of: main, side" in bad.stderr

    ran = run(
        cluster,
        "exec",
        "talker",
        "-n",
        ns,
        "-c",
        "main",
        "--",
        "sh",
        "-c",
        "echo $MSG; echo oops >&2; exit 3",
        check=False,
    )
    assert ran.returncode == 3
    assert ran.stdout.strip() == "expanded" and ran.stderr.strip() == "oops"

    wide = run(cluster, "get", "pods", "-n", ns, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    row = wide[1].split()
    assert row[:3] == ["talker", "2/2", "Running"] and row[6].startswith("node-")
    run(cluster, "delete", "pod", "talker", "-n", ns)
    run(cluster, "wait", "pod/talker", "-n", ns, "--for=delete", "--timeout=30s")
