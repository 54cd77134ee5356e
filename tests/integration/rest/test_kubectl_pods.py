"""kubectl's pod commands against Pinnace: logs (--tail, -p, -f, --timestamps, deploy/x),
exec over WebSocket (with stdin and exit codes), create job --from=cronjob,
and drain --ignore-daemonsets through the eviction API."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pinnace.localcluster.cluster import LocalCluster
from tests.integration.controllers.nodes_helpers import extra_kubelet, node_ready
from tests.integration.rest.test_kubectl_basics import Kubectl
from tests.kubectl import kubectl_binary
from tests.waiting import wait_for

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")
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
    stamped = kubectl("logs", "--timestamps", "ticker").stdout.splitlines()
    assert [line.partition(" ")[2] for line in stamped] == [f"tick-{i}" for i in range(1, 7)]
    stamps = [line.partition(" ")[0] for line in stamped]
    assert all(STAMP.fullmatch(s) for s in stamps), stamps
    times = [datetime.fromisoformat(s[:26].rstrip("Z") + "+00:00") for s in stamps]
    assert times == sorted(times)


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


def test_drain_evicts_and_uncordon(
    cluster: LocalCluster, cluster_client: Any, kubectl: Kubectl, tmp_path: Path
) -> None:
    """A node of this test's own (tainted, so no other test's pods land on it)
    runs two replicas; `kubectl drain` evicts them through the eviction API."""
    node = f"drain-{kubectl.namespace}"
    taint = "pinnace.test/drain=only:NoSchedule"
    with extra_kubelet(
        cluster, cluster_client, node, tmp_path / node, "--register-with-taints", taint
    ):
        wait_for(lambda: node_ready(cluster_client, node), 30, f"{node} Ready")
        kubectl("apply", "-f", "-", input=PINNED.format(node=node))
        kubectl("rollout", "status", "deployment/pinned", "--timeout=60s")
        admin = Kubectl(cluster, "default")
        out = admin("drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                    "--grace-period=1", "--timeout=50s")  # fmt: skip
        assert f"node/{node} drained" in out.stdout
        assert out.stderr.count("evicting pod") == 2 or out.stdout.count("evicted") == 2
        assert get_json_unschedulable(admin, node)

        def evicted() -> bool:
            pods = json.loads(kubectl("get", "pods", "-l", "app=pinned", "-o", "json").stdout)
            return all(p["spec"].get("nodeName") != node for p in pods["items"])

        wait_for(evicted, 60, "the replicas gone from the drained node")
        admin("uncordon", node)
        assert not get_json_unschedulable(admin, node)


PINNED = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: pinned}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: pinned}}}}
  template:
    metadata: {{labels: {{app: pinned}}}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {{kubernetes.io/hostname: {node}}}
      tolerations: [{{key: pinnace.test/drain, operator: Exists, effect: NoSchedule}}]
      containers: [{{name: c, image: busybox, command: [sleep, "300"]}}]
"""


def get_json_unschedulable(k: Kubectl, node: str) -> bool:
    spec = json.loads(k("get", "node", node, "-o", "json").stdout)["spec"]
    return bool(spec.get("unschedulable"))


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
