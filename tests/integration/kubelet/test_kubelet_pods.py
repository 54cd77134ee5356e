"""Pods run as processes: env, working dir, restart policy, CrashLoopBackOff,
init containers, termination, deadlines, volumes and cleanup."""

from __future__ import annotations

import os

from pinnace.client import Client, NotFound
from tests.integration.kubelet.helpers import (
    condition,
    container_status,
    get_pod,
    make_pod,
    pid_alive,
    run_pod,
    wait_for,
)


def _phase(client: Client, ns: str, name: str, phase: str):
    def check():
        pod = get_pod(client, ns, name)
        return pod if pod.status.phase == phase else None

    return check


def test_pod_runs_with_env_workdir_and_status(client: Client, namespace: str, kubelet) -> None:
    script = (
        'echo "$POD_NAME $POD_NS $POD_UID $NODE $POD_IP $HOST_IP $TIER $HOSTNAME $GREETING" > out.txt; '
        "echo $$$$ > pid; pwd > cwd; exec sleep 300"  # $$ is an escaped $
    )
    pod = make_pod(
        "web",
        [
            {
                "name": "main",
                "command": ["sh", "-c"],
                "args": [script],
                "workingDir": "/app",
                "env": [
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {
                        "name": "POD_NS",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                    },
                    {"name": "POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
                    {
                        "name": "TIER",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}},
                    },
                    {"name": "NAME", "value": "world"},
                    {"name": "GREETING", "value": "hello-$(NAME)-$$(NAME)"},
                ],
            }
        ],
    )
    pod.metadata.labels["tier"] = "front"
    created = run_pod(client, namespace, kubelet.node, pod)
    uid = created.metadata.uid
    running = wait_for(_phase(client, namespace, "web", "Running"), what="Running")
    workdir = kubelet.root / "pods" / uid / "app"
    out = wait_for(
        lambda: (workdir / "out.txt").exists() and (workdir / "out.txt").read_text(), what="out.txt"
    )
    # Root: the pod's own IP from the node's podCIDR; else the node's.
    pod_ip = running.status.pod_ip
    expected_ip = "10.240." if os.geteuid() == 0 else "127.0.0.1"
    assert pod_ip.startswith(expected_ip), pod_ip
    assert [ip.ip for ip in running.status.pod_ips] == [pod_ip]
    assert out.split() == [
        "web",
        namespace,
        uid,
        kubelet.node,
        pod_ip,
        "127.0.0.1",
        "front",
        "web",
        "hello-world-$(NAME)",
    ]
    assert (workdir / "cwd").read_text().strip() == str(workdir)
    pid = int(
        wait_for(lambda: (workdir / "pid").exists() and (workdir / "pid").read_text().strip())
    )
    assert pid_alive(pid)

    pod = wait_for(
        lambda: (
            (p := get_pod(client, namespace, "web"))
            and condition(p, "Ready").status == "True"
            and p
        )
    )
    cs = container_status(pod, "main")
    assert cs.state.HasField("running") and cs.ready and cs.started and cs.restart_count == 0
    assert cs.image == "busybox" and cs.container_id.startswith("pinnace://")
    assert pod.status.pod_ip == pod_ip and pod.status.host_ip == "127.0.0.1"
    assert pod.status.start_time and pod.status.qos_class == "BestEffort"
    types = [c.type for c in pod.status.conditions]
    for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled"):
        assert t in types
    assert running.status.phase == "Running"


MATRIX = [
    # (restartPolicy, exit code, phase, restarts)
    ("Always", 0, "Running", True),
    ("Always", 1, "Running", True),
    ("OnFailure", 0, "Succeeded", False),
    ("OnFailure", 1, "Running", True),
    ("Never", 0, "Succeeded", False),
    ("Never", 1, "Failed", False),
]


def test_restart_policy_matrix(client: Client, namespace: str, kubelet) -> None:
    """Kubernetes' phases and restart counts for each policy x exit code."""
    names = {}
    for policy, code, _, _ in MATRIX:
        name = f"{policy.lower()}-{code}"
        names[(policy, code)] = name
        pod = make_pod(
            name,
            [{"name": "c", "command": ["sh", "-c", f"sleep 0.2; exit {code}"]}],
            restartPolicy=policy,
        )
        run_pod(client, namespace, kubelet.node, pod)
    for policy, code, phase, restarts in MATRIX:
        name = names[(policy, code)]
        if restarts:
            pod = wait_for(
                lambda name=name: (
                    (p := get_pod(client, namespace, name))
                    and container_status(p, "c")
                    and container_status(p, "c").restart_count >= 2
                    and p
                ),
                what=f"{name} restarting",
            )
            assert pod.status.phase == phase, name
            last = container_status(pod, "c").last_state.terminated
            assert last.exit_code == code and last.reason == ("Completed" if code == 0 else "Error")
        else:
            pod = wait_for(_phase(client, namespace, name, phase), what=f"{name} {phase}")
            cs = container_status(pod, "c")
            assert cs.restart_count == 0
            assert cs.state.terminated.exit_code == code
            assert cs.state.terminated.reason == ("Completed" if code == 0 else "Error")
            assert cs.state.terminated.started_at and cs.state.terminated.finished_at
            assert not cs.ready
            assert condition(pod, "Ready").status == "False"
            assert condition(pod, "Ready").reason == ("PodCompleted" if code == 0 else "PodFailed")


def test_crash_loop_back_off(client: Client, namespace: str, kubelet) -> None:
    pod = make_pod("crash", [{"name": "c", "command": ["sh", "-c", "echo crashing; exit 2"]}])
    run_pod(client, namespace, kubelet.node, pod)

    def in_backoff():
        cs = container_status(get_pod(client, namespace, "crash"), "c")
        return cs is not None and cs.state.waiting.reason == "CrashLoopBackOff" and cs

    cs = wait_for(in_backoff, interval=0.02, what="CrashLoopBackOff")
    assert "back-off" in cs.state.waiting.message
    assert cs.last_state.terminated.exit_code == 2
    assert cs.restart_count >= 1
    assert get_pod(client, namespace, "crash").status.phase == "Running"


def test_missing_command_is_a_config_error(client: Client, namespace: str, kubelet) -> None:
    run_pod(client, namespace, kubelet.node, make_pod("nocmd", [{"name": "c"}]))

    def waiting():
        cs = container_status(get_pod(client, namespace, "nocmd"), "c")
        return cs is not None and cs.state.waiting.reason == "CreateContainerConfigError" and cs

    cs = wait_for(waiting, what="CreateContainerConfigError")
    assert "command" in cs.state.waiting.message
    assert get_pod(client, namespace, "nocmd").status.phase == "Pending"


def test_init_containers_run_in_order(client: Client, namespace: str, kubelet) -> None:
    pod = make_pod(
        "init",
        [{"name": "main", "command": ["sh", "-c", "echo main >> order"]}],
        initContainers=[
            {"name": "one", "command": ["sh", "-c", "echo one >> order"]},
            {"name": "two", "command": ["sh", "-c", "sleep 0.3; echo two >> order"]},
        ],
        restartPolicy="Never",
    )
    uid = run_pod(client, namespace, kubelet.node, pod).metadata.uid
    done = wait_for(_phase(client, namespace, "init", "Succeeded"), what="Succeeded")
    assert (kubelet.root / "pods" / uid / "order").read_text().split() == ["one", "two", "main"]
    for name in ("one", "two"):
        cs = container_status(done, name, init=True)
        assert cs.state.terminated.exit_code == 0 and cs.state.terminated.reason == "Completed"
    assert condition(done, "Initialized").status == "True"


def test_failed_init_container(client: Client, namespace: str, kubelet) -> None:
    never = make_pod(
        "init-never",
        [{"name": "main", "command": ["sleep", "300"]}],
        initContainers=[{"name": "bad", "command": ["sh", "-c", "exit 3"]}],
        restartPolicy="Never",
    )
    always = make_pod(
        "init-always",
        [{"name": "main", "command": ["sleep", "300"]}],
        initContainers=[{"name": "bad", "command": ["sh", "-c", "exit 3"]}],
    )
    run_pod(client, namespace, kubelet.node, never)
    run_pod(client, namespace, kubelet.node, always)
    failed = wait_for(_phase(client, namespace, "init-never", "Failed"), what="Failed")
    assert container_status(failed, "bad", init=True).state.terminated.exit_code == 3
    assert container_status(failed, "main").state.waiting.reason == "PodInitializing"

    def retried():
        p = get_pod(client, namespace, "init-always")
        cs = container_status(p, "bad", init=True)
        return cs is not None and cs.restart_count >= 2 and p

    pending = wait_for(retried, what="init retried")
    assert pending.status.phase == "Pending"
    assert condition(pending, "Initialized").status == "False"
    assert container_status(pending, "main").state.waiting.reason == "PodInitializing"


def test_graceful_termination(client: Client, namespace: str, kubelet, tmp_path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    polite = f"trap 'echo term > {marks}/polite; exit 0' TERM; while :; do sleep 0.05; done"
    stubborn = (
        f"trap 'date +%s.%N > {marks}/termed; echo ignored > {marks}/stubborn' TERM; "
        f"while :; do date +%s.%N > {marks}/alive.new; mv {marks}/alive.new {marks}/alive; "
        "sleep 0.05; done"
    )
    pod = make_pod(
        "bye",
        [
            {
                "name": "polite",
                "command": ["sh", "-c", polite],
                "lifecycle": {
                    "preStop": {"exec": {"command": ["sh", "-c", f"echo pre > {marks}/prestop"]}}
                },
            },
            {"name": "stubborn", "command": ["sh", "-c", stubborn]},
        ],
        terminationGracePeriodSeconds=3,
    )
    uid = run_pod(client, namespace, kubelet.node, pod).metadata.uid
    wait_for(_phase(client, namespace, "bye", "Running"), what="Running")
    pod_dir = kubelet.root / "pods" / uid
    wait_for(
        lambda: len(list(pod_dir.glob(".pinnace/containers/*/0/pid"))) == 2, what="both started"
    )
    wrappers = [int(p.read_text()) for p in pod_dir.glob(".pinnace/containers/*/0/pid")]
    client.pods(namespace).delete("bye")

    def gone():
        try:
            get_pod(client, namespace, "bye")
        except NotFound:
            return True
        return False

    wait_for(gone, timeout=15, what="pod deleted")
    assert (marks / "prestop").read_text().strip() == "pre"
    assert (marks / "polite").read_text().strip() == "term"
    assert (marks / "stubborn").read_text().strip() == "ignored"
    # The stubborn one was killed at the end of the grace period (3 s), not at
    # SIGTERM: by its own clock it was still alive well after the signal (half
    # the grace period is the margin for a loaded machine scheduling it late).
    termed = float((marks / "termed").read_text())
    last_alive = float((marks / "alive").read_text())
    assert last_alive - termed >= 1.5, (termed, last_alive)
    assert not any(pid_alive(p) for p in wrappers)
    wait_for(lambda: not pod_dir.exists(), timeout=5, what="pod dir removed")


def test_active_deadline(client: Client, namespace: str, kubelet) -> None:
    pod = make_pod(
        "deadline", [{"name": "c", "command": ["sleep", "300"]}], activeDeadlineSeconds=2
    )
    run_pod(client, namespace, kubelet.node, pod)
    failed = wait_for(_phase(client, namespace, "deadline", "Failed"), timeout=15, what="Failed")
    assert failed.status.reason == "DeadlineExceeded"
    cs = container_status(failed, "c")
    assert cs.state.terminated.exit_code in (137, 143)


def test_volumes_empty_dir_and_host_path(client: Client, namespace: str, kubelet, tmp_path) -> None:
    host = tmp_path / "host"
    pod = make_pod(
        "vols",
        [
            {
                "name": "c",
                "command": ["sh", "-c", "echo hi > cache/x; echo there > host/y; sleep 300"],
                "volumeMounts": [
                    {"name": "cache", "mountPath": "/cache"},
                    {"name": "host", "mountPath": "/host"},
                ],
            }
        ],
        volumes=[
            {"name": "cache", "emptyDir": {}},
            {"name": "host", "hostPath": {"path": str(host), "type": "DirectoryOrCreate"}},
        ],
    )
    uid = run_pod(client, namespace, kubelet.node, pod).metadata.uid
    pod_dir = kubelet.root / "pods" / uid
    wait_for(lambda: (host / "y").exists(), what="hostPath file")
    assert (pod_dir / ".pinnace" / "volumes" / "cache" / "x").read_text() == "hi\n"
    client.pods(namespace).delete("vols", grace_period_seconds=1)
    wait_for(lambda: not pod_dir.exists(), timeout=10, what="pod dir removed")
    assert (host / "y").read_text() == "there\n"  # hostPath content survives


def test_admission_rejects_what_does_not_fit(client: Client, namespace: str, start_kubelet) -> None:
    k = start_kubelet("--capacity-cpu", "1", "--node-labels", "zone=a")
    big = make_pod(
        "big", [{"name": "c", "command": ["sleep", "300"], "resources": {"requests": {"cpu": "2"}}}]
    )
    wrong = make_pod(
        "wrong", [{"name": "c", "command": ["sleep", "300"]}], nodeSelector={"zone": "b"}
    )
    port = [{"containerPort": 8080, "hostPort": 18080}]
    p1 = make_pod("port1", [{"name": "c", "command": ["sleep", "300"], "ports": port}])
    p2 = make_pod("port2", [{"name": "c", "command": ["sleep", "300"], "ports": port}])
    run_pod(client, namespace, k.node, big)
    run_pod(client, namespace, k.node, wrong)
    run_pod(client, namespace, k.node, p1)
    wait_for(_phase(client, namespace, "port1", "Running"), what="port1 running")
    run_pod(client, namespace, k.node, p2)
    for name, reason in (("big", "OutOfcpu"), ("wrong", "NodeAffinity"), ("port2", "NodePorts")):
        pod = wait_for(_phase(client, namespace, name, "Failed"), what=f"{name} rejected")
        assert pod.status.reason == reason
        assert pod.status.message.startswith("Pod was rejected: ")
    assert (
        "requested: 2000, used: 0, capacity: 1000"
        in get_pod(client, namespace, "big").status.message
    )


def test_hollow_runtime(client: Client, namespace: str, start_kubelet) -> None:
    k = start_kubelet("--runtime", "hollow")
    run_pod(
        client, namespace, k.node, make_pod("ghost", [{"name": "c", "command": ["sleep", "300"]}])
    )
    pod = wait_for(_phase(client, namespace, "ghost", "Running"), what="Running")
    assert container_status(pod, "c").state.HasField("running")
    client.pods(namespace).delete("ghost")

    def gone():
        try:
            get_pod(client, namespace, "ghost")
        except NotFound:
            return True
        return False

    wait_for(gone, what="deleted")
