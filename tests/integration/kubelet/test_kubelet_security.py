"""The node itself: containers run as their securityContext's user, get
nothing of the kubelet's environment, cannot read the kubelet's files nor
other pods' volumes. (Limits and OOMKilled: test_kubelet_limits.py.)

These need root (only root can switch users); the kubelet's root dir is
made under a world-traversable directory, since containers that do not
run as root must reach their pod directory by its path."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from kubelet.env import DEFAULT_PATH
from kubelet.server import read_exec_frames
from pinnace.client import Client
from tests.integration.kubelet.helpers import container_status, get_pod, make_pod, run_pod, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


@pytest.fixture
def open_root() -> Iterator[Path]:
    """A kubelet root dir whose ancestors others may traverse (/tmp/...)."""
    base = Path(tempfile.mkdtemp(prefix="pinnace-sec-"))
    base.chmod(0o711)
    try:
        yield base / "node"
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def secure_kubelet(start_kubelet: Callable[..., object], open_root: Path):
    return start_kubelet(root=open_root)


def _log(kubelet, uid: str, container: str, attempt: int = 0) -> str:
    path = kubelet.root / "pods" / uid / ".pinnace" / "logs" / container / f"{attempt}.log"
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _wait_running(client: Client, ns: str, name: str, container: str) -> None:
    def running() -> bool:
        cs = container_status(get_pod(client, ns, name), container)
        return bool(cs and cs.state.HasField("running"))

    wait_for(running, what=f"{name}/{container} running")


def _wait_log(kubelet, uid: str, container: str, marker: str) -> str:
    def logged() -> str | None:
        text = _log(kubelet, uid, container)
        return text if marker in text else None

    return wait_for(logged, what=f"{marker!r} in the log of {container}")


def _exec(kubelet, ns: str, pod: str, container: str, script: str) -> str:
    query = urlencode([("command", "sh"), ("command", "-c"), ("command", script)])
    status, body = kubelet.get(f"/exec/{ns}/{pod}/{container}?{query}", method="POST")
    assert status == 200, body
    return b"".join(p for ch, p in read_exec_frames(body) if ch == 1).decode()


IDS = 'echo "ids $(id -u) $(id -g) $(id -G | tr " " "\\n" | sort -n | tr "\\n" " ")"'


@pytest.mark.parametrize(
    ("pod_sc", "ctr_sc", "expected"),
    [
        pytest.param({}, {}, "ids 0 0 0 ", id="no-security-context-runs-as-root"),
        pytest.param(
            {"runAsUser": 1000, "runAsGroup": 3000},
            {},
            "ids 1000 3000 3000 ",
            id="pod-user-and-group",
        ),
        pytest.param(
            {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "supplementalGroups": [4000]},
            {"runAsUser": 1001},
            "ids 1001 3000 2000 3000 4000 ",
            id="container-overrides-user-fsgroup-and-supplemental",
        ),
        pytest.param(
            {"runAsNonRoot": True}, {"runAsUser": 1234}, "ids 1234 1234 1234 ", id="group-is-uid"
        ),
    ],
)
def test_containers_probes_hooks_and_exec_run_as_the_user(
    client: Client, namespace: str, secure_kubelet, pod_sc: dict, ctr_sc: dict, expected: str
) -> None:
    probe = {"exec": {"command": ["sh", "-c", IDS.replace("echo", "echo probe") + " > probe"]}}
    hook = {"exec": {"command": ["sh", "-c", IDS.replace("echo", "echo hook") + " > hook"]}}
    pod = make_pod(
        "who",
        [
            {
                "name": "c",
                "command": ["sh", "-c", f"{IDS}; echo written > own-file && echo wrote; sleep 300"],
                "securityContext": ctr_sc,
                "readinessProbe": {**probe, "periodSeconds": 1},
                "lifecycle": {"postStart": hook},
            }
        ],
        securityContext=pod_sc,
    )
    uid = run_pod(client, namespace, secure_kubelet.node, pod).metadata.uid
    text = _wait_log(secure_kubelet, uid, "c", "ids ")
    assert text.splitlines()[0] == expected
    assert "wrote" in _wait_log(secure_kubelet, uid, "c", "wrote")  # its own directory is writable
    pod_dir = secure_kubelet.root / "pods" / uid
    for name in ("probe", "hook"):
        path = pod_dir / name
        wait_for(
            lambda path=path, name=name: (
                path.exists() and path.read_text() == f"{name} {expected}\n"
            ),
            what=f"the {name} ran as the user",
        )
    _wait_running(client, namespace, "who", "c")
    assert _exec(secure_kubelet, namespace, "who", "c", IDS) == expected + "\n"


@pytest.mark.parametrize(
    ("pod_sc", "ctr_sc", "message"),
    [
        pytest.param(
            {"runAsNonRoot": True},
            {},
            'container has runAsNonRoot and image will run as root (pod: "{pod}", container: c)',
            id="non-root-without-user",
        ),
        pytest.param(
            {},
            {"runAsNonRoot": True, "runAsGroup": 5},
            'container has runAsNonRoot and image will run as root (pod: "{pod}", container: c)',
            id="non-root-with-only-a-group",
        ),
        pytest.param(
            {"runAsNonRoot": True},
            {"runAsUser": 0},
            'container\'s runAsUser breaks non-root policy (pod: "{pod}", container: c)',
            id="non-root-with-user-0",
        ),
    ],
)
def test_run_as_non_root_is_refused_as_kubernetes_refuses_it(
    client: Client, namespace: str, secure_kubelet, pod_sc: dict, ctr_sc: dict, message: str
) -> None:
    pod = make_pod(
        "nonroot",
        [{"name": "c", "command": ["sleep", "300"], "securityContext": ctr_sc}],
        securityContext=pod_sc,
    )
    created = run_pod(client, namespace, secure_kubelet.node, pod)
    expected = message.format(pod=f"nonroot_{namespace}({created.metadata.uid})")

    def waiting():
        cs = container_status(get_pod(client, namespace, "nonroot"), "c")
        return cs if cs and cs.state.waiting.reason == "CreateContainerConfigError" else None

    cs = wait_for(waiting, what="CreateContainerConfigError")
    assert cs.state.waiting.message == expected
    events = client.events(namespace).list().items
    assert any(e.reason == "Failed" and e.message == f"Error: {expected}" for e in events)


def test_the_kubelets_environment_does_not_reach_a_container(
    client: Client, namespace: str, start_kubelet, open_root: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PINNACE_TEST_SECRET_TOKEN", "s3cr3t-value")
    monkeypatch.setenv("PATH", f"/opt/kubelet-only/bin:{os.environ['PATH']}")
    kubelet = start_kubelet(root=open_root)
    pod = make_pod(
        "envcheck",
        [{"name": "c", "command": ["sh", "-c", "env; echo END; sleep 300"]}],
    )
    uid = run_pod(client, namespace, kubelet.node, pod).metadata.uid
    text = _wait_log(kubelet, uid, "c", "END")
    env = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert "s3cr3t-value" not in text
    assert env["PATH"] == DEFAULT_PATH
    allowed = {"PATH", "HOSTNAME", "HOME", "PINNACE_POD_DIR", "PWD", "OLDPWD", "SHLVL", "_"}
    assert {k for k in env if k not in allowed and not k.startswith("KUBERNETES_")} == set()
    _wait_running(client, namespace, "envcheck", "c")
    assert "s3cr3t-value" not in _exec(kubelet, namespace, "envcheck", "c", "env")


def test_a_non_root_container_cannot_read_the_kubelets_files_or_another_pods_volume(
    client: Client, namespace: str, secure_kubelet
) -> None:
    root = secure_kubelet.root
    key = root / "pki" / "kubelet.key"  # as the PKI writes it: 0600
    key.parent.mkdir(exist_ok=True)
    key.write_text("PRIVATE KEY")
    key.chmod(0o600)
    victim = make_pod(
        "victim",
        [
            {
                "name": "c",
                "command": ["sh", "-c", "echo secret-data > data/file; echo stored; sleep 300"],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            }
        ],
        volumes=[{"name": "data", "emptyDir": {}}],
        securityContext={"runAsUser": 2000, "fsGroup": 2000},
    )
    victim_uid = run_pod(client, namespace, secure_kubelet.node, victim).metadata.uid
    _wait_log(secure_kubelet, victim_uid, "c", "stored")
    victim_dir = root / "pods" / victim_uid
    volume_file = victim_dir / ".pinnace" / "volumes" / "data" / "file"
    assert volume_file.read_text() == "secret-data\n"
    attempts = {
        "volume": f"cat {volume_file}",
        "pod-dir": f"ls {victim_dir}",
        "victim-logs": f"cat {victim_dir}/.pinnace/logs/c/0.log",
        "pods-list": f"ls {root}/pods",
        "root-list": f"ls {root}",
        "kubelet-key": f"cat {key}",
        "victim-state": f"ls {victim_dir}/.pinnace/containers",
    }
    script = "; ".join(
        f'if {cmd} >/dev/null 2>&1; then echo "{name} READ"; else echo "{name} denied"; fi'
        for name, cmd in attempts.items()
    )
    attacker = make_pod(
        "attacker",
        [{"name": "c", "command": ["sh", "-c", f"{script}; echo DONE; sleep 300"]}],
        securityContext={"runAsUser": 1000, "runAsGroup": 1000},
    )
    uid = run_pod(client, namespace, secure_kubelet.node, attacker).metadata.uid
    text = _wait_log(secure_kubelet, uid, "c", "DONE")
    assert text.splitlines()[:-1] == [f"{name} denied" for name in attempts]
    # The victim's own containers still share its volume (same pod group).
    _wait_running(client, namespace, "victim", "c")
    assert _exec(secure_kubelet, namespace, "victim", "c", "cat data/file") == "secret-data\n"


def test_pod_directory_modes(client: Client, namespace: str, secure_kubelet) -> None:
    pod = make_pod(
        "modes",
        [
            {
                "name": "c",
                "command": ["sh", "-c", "echo ok; sleep 300"],
                "workingDir": "/app/sub",
                "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
            }
        ],
        volumes=[{"name": "scratch", "emptyDir": {}}],
        securityContext={"runAsUser": 1000, "fsGroup": 2000},
    )
    uid = run_pod(client, namespace, secure_kubelet.node, pod).metadata.uid
    _wait_log(secure_kubelet, uid, "c", "ok")
    d = secure_kubelet.root / "pods" / uid

    def mode(p: Path) -> tuple[str, int, int]:
        st = p.stat()
        return oct(st.st_mode & 0o7777), st.st_uid, st.st_gid

    assert mode(secure_kubelet.root) == ("0o711", 0, 0)
    assert mode(secure_kubelet.root / "pods") == ("0o711", 0, 0)
    assert mode(d) == ("0o2770", 0, 2000)
    assert mode(d / ".pinnace") == ("0o710", 0, 2000)
    assert mode(d / ".pinnace" / "containers") == ("0o700", 0, 0)
    assert mode(d / ".pinnace" / "logs")[0] == "0o700"
    assert mode(d / ".pinnace" / "volumes" / "scratch") == ("0o2770", 0, 2000)
    assert mode(d / "app" / "sub") == ("0o2770", 0, 2000)
    state = json.loads((d / ".pinnace" / "containers" / "c" / "0" / "state.json").read_text())
    status = Path(f"/proc/{state['pid']}/status").read_text()
    assert "Uid:\t0\t0\t0\t0" in status  # the wrapper stays root: only the command switches


@pytest.mark.parametrize(
    ("escalation", "expected"),
    [
        pytest.param(False, "NoNewPrivs:\t1", id="forbidden"),
        pytest.param(None, "NoNewPrivs:\t0", id="default-allowed"),
    ],
)
def test_allow_privilege_escalation_false_sets_no_new_privs(
    client: Client, namespace: str, secure_kubelet, escalation: bool | None, expected: str
) -> None:
    sc = {"runAsUser": 1000} | (
        {} if escalation is None else {"allowPrivilegeEscalation": escalation}
    )
    pod = make_pod(
        "nnp",
        [
            {
                "name": "c",
                "command": ["sh", "-c", "grep NoNewPrivs /proc/self/status; sleep 300"],
                "securityContext": sc,
            }
        ],
    )
    uid = run_pod(client, namespace, secure_kubelet.node, pod).metadata.uid
    assert _wait_log(secure_kubelet, uid, "c", "NoNewPrivs").splitlines()[0] == expected
