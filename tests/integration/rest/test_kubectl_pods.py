"""kubectl's pod commands against Pinnace: logs (--tail, -p, -f, deploy/x),
exec over WebSocket (with stdin and exit codes), create job --from=cronjob,
and drain --ignore-daemonsets through the eviction API."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from pinnace.localcluster.cluster import LocalCluster
from tests.integration.rest.test_kubectl_basics import Kubectl
from tests.kubectl import kubectl_binary
from tests.waiting import wait_for

COUNTER = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: counter}
spec:
  replicas: 1
  selector: {matchLabels: {app: counter}}
  template:
    metadata: {labels: {app: counter}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox
        command: ["sh", "-c", "i=0; while [ $i -lt 5 ]; do echo line-$i; i=$((i+1)); done; sleep 1; echo late; exit 3"]
"""


@pytest.fixture
def kubectl(cluster: LocalCluster, cluster_namespace: str) -> Kubectl:
    return Kubectl(cluster, cluster_namespace)


def test_logs(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=COUNTER)
    pod = wait_for(
        lambda: kubectl("get", "pods", "-l", "app=counter", "-o", "name").stdout.strip(),
        60,
        "the pod",
    )
    # The container prints, exits 3, and is restarted: the previous instance's log is -p.
    wait_for(
        lambda: (
            kubectl("get", pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}").stdout
            not in ("", "0")
        ),
        60,
        "a restart",
    )
    previous = kubectl("logs", pod, "-p").stdout.splitlines()
    assert previous == ["line-0", "line-1", "line-2", "line-3", "line-4", "late"]
    assert kubectl("logs", pod, "-p", "--tail=2").stdout.splitlines() == ["line-4", "late"]
    wait_for(lambda: "line-0" in kubectl("logs", "deploy/counter").stdout, 60, "logs via deploy/x")


def test_logs_follow(kubectl: Kubectl) -> None:
    kubectl("run", "ticker", "--image=busybox", "--restart=Never", "--command", "--",
            "sh", "-c", "for i in 1 2 3 4 5 6; do echo tick-$i; sleep 0.3; done")  # fmt: skip
    kubectl("wait", "--for=condition=Ready", "pod/ticker", "--timeout=60s")
    follow = kubectl("logs", "-f", "ticker")  # returns when the container ends
    assert follow.stdout.splitlines() == [f"tick-{i}" for i in range(1, 7)]


def test_exec_with_stdin_and_exit_codes(kubectl: Kubectl) -> None:
    kubectl("run", "shell", "--image=busybox", "--command", "--", "sleep", "300")
    kubectl("wait", "--for=condition=Ready", "pod/shell", "--timeout=60s")
    out = kubectl("exec", "shell", "--", "sh", "-c", "echo out; echo err >&2")
    assert out.stdout == "out\n" and "err" in out.stderr
    piped = kubectl("exec", "-i", "shell", "--", "sh", "-c", "tr a-z A-Z", input="hello\nworld\n")
    assert piped.stdout == "HELLO\nWORLD\n"
    failed = kubectl("exec", "shell", "--", "sh", "-c", "exit 7", ok=False)
    assert failed.returncode == 7


def test_create_job_from_cronjob(kubectl: Kubectl) -> None:
    kubectl("create", "cronjob", "cj", "--image=busybox", "--schedule=*/30 * * * *", "--",
            "echo", "from-cron")  # fmt: skip
    kubectl("create", "job", "manual", "--from=cronjob/cj")
    kubectl("wait", "--for=condition=Complete", "job/manual", "--timeout=60s")
    assert kubectl("logs", "job/manual").stdout == "from-cron\n"
    owner = kubectl("get", "job", "manual", "-o", "jsonpath={.metadata.ownerReferences[0].kind}")
    assert owner.stdout == "CronJob"


def test_drain_evicts_and_uncordon(cluster: LocalCluster, kubectl: Kubectl) -> None:
    kubectl("create", "deployment", "spread", "--image=busybox", "--replicas=3", "--",
            "sleep", "300")  # fmt: skip
    kubectl("rollout", "status", "deployment/spread", "--timeout=60s")
    node = kubectl(
        "get", "pods", "-l", "app=spread", "-o", "jsonpath={.items[0].spec.nodeName}"
    ).stdout
    admin = Kubectl(cluster, "default")
    try:
        out = admin("drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                    "--grace-period=1", "--timeout=60s")  # fmt: skip
        assert f"node/{node} drained" in out.stdout
        assert "evicting pod" in out.stderr or "evicted" in out.stdout

        def moved() -> bool:
            nodes = kubectl("get", "pods", "-l", "app=spread", "-o",
                            "jsonpath={.items[*].spec.nodeName}").stdout.split()  # fmt: skip
            return len(nodes) == 3 and node not in nodes

        wait_for(moved, 60, "replicas replaced on other nodes")
    finally:
        admin("uncordon", node)


def test_exec_is_interrupted_cleanly(kubectl: Kubectl) -> None:
    """A long exec whose client goes away ends its command in the pod."""
    kubectl("run", "long", "--image=busybox", "--command", "--", "sleep", "300")
    kubectl("wait", "--for=condition=Ready", "pod/long", "--timeout=60s")
    proc = subprocess.Popen(
        [kubectl_binary(), "--kubeconfig", str(kubectl.kubeconfig), "-n", kubectl.namespace,
         "exec", "long", "--", "sh", "-c", "echo started; exec sleep 1234"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        if proc.stdout.readline() == "started\n":
            started.set()

    threading.Thread(target=read, daemon=True).start()
    assert started.wait(30)
    proc.kill()
    proc.wait()
    wait_for(lambda: not _running(b"sleep\x001234\x00"), 30, "the exec'd command ended")


def _running(cmdline: bytes) -> bool:
    """Whether a process with exactly this command line runs on the machine."""
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if path.read_bytes() == cmdline:
                return True
        except OSError:
            continue
    return False
