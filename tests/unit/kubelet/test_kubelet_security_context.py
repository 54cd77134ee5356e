"""security.py: who a container runs as, runAsNonRoot, and a non-root kubelet;
env.py: nothing of the kubelet's own environment reaches a container."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.env import DEFAULT_PATH, ConfigError, container_environment, fallback_environment
from kubelet.security import (
    SETPRIV,
    Identity,
    RunAs,
    SecurityError,
    pod_group,
    run_as,
)
from pinnace.api.core.v1 import pod_pb2
from pinnace.machinery import codec

ROOT = Identity(0, 0, frozenset({0}))
USER = Identity(1000, 1000, frozenset({1000, 27}))


def _pod(pod_sc: dict, *ctr_scs: dict) -> pod_pb2.Pod:
    containers = [
        {"name": f"c{i}", "image": "x", "command": ["true"], "securityContext": sc}
        for i, sc in enumerate(ctr_scs or ({},))
    ]
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "p", "namespace": "ns", "uid": "u-1"},
            "spec": {"containers": containers, "securityContext": pod_sc},
        },
    )


@pytest.mark.parametrize(
    ("pod_sc", "ctr_sc", "expected"),
    [
        pytest.param({}, {}, None, id="nothing-set-runs-as-the-kubelet"),
        pytest.param(
            {"runAsUser": 1000}, {}, RunAs(1000, 1000), id="pod-user-group-defaults-to-uid"
        ),
        pytest.param(
            {"runAsUser": 1000, "runAsGroup": 3000}, {}, RunAs(1000, 3000), id="pod-user-and-group"
        ),
        pytest.param(
            {"runAsUser": 1000, "runAsGroup": 3000},
            {"runAsUser": 1001, "runAsGroup": 3001},
            RunAs(1001, 3001, (3000,)),
            id="container-overrides-pod-and-keeps-the-pod-group",
        ),
        pytest.param(
            {"runAsUser": 1000, "fsGroup": 2000, "supplementalGroups": [5000, 4000]},
            {},
            RunAs(1000, 1000, (2000, 4000, 5000)),
            id="fsgroup-and-supplemental-groups",
        ),
        pytest.param({"runAsGroup": 3000}, {}, RunAs(0, 3000), id="only-a-group-root-user"),
        pytest.param({"fsGroup": 2000}, {}, RunAs(0, 0, (2000,)), id="root-with-fsgroup"),
        pytest.param({}, {"runAsUser": 0}, RunAs(0, 0), id="explicit-root"),
        pytest.param(
            {"runAsNonRoot": True}, {"runAsUser": 7}, RunAs(7, 7), id="non-root-with-a-user"
        ),
        pytest.param(
            {"runAsNonRoot": True}, {"runAsNonRoot": False}, None, id="container-lifts-non-root"
        ),
        pytest.param(
            {"runAsUser": 1000},
            {"allowPrivilegeEscalation": False},
            RunAs(1000, 1000, (), no_new_privs=True),
            id="no-privilege-escalation",
        ),
        pytest.param(
            {}, {"allowPrivilegeEscalation": False}, RunAs(0, 0, (), True), id="nnp-even-as-root"
        ),
        pytest.param(
            {"runAsUser": 1000},
            {"allowPrivilegeEscalation": True},
            RunAs(1000, 1000),
            id="escalation-allowed",
        ),
    ],
)
def test_run_as(pod_sc: dict, ctr_sc: dict, expected: RunAs | None) -> None:
    pod = _pod(pod_sc, ctr_sc)
    assert run_as(pod, pod.spec.containers[0], ROOT) == expected


@pytest.mark.parametrize(
    ("pod_sc", "ctr_sc", "message"),
    [
        pytest.param(
            {"runAsNonRoot": True},
            {},
            'container has runAsNonRoot and image will run as root (pod: "p_ns(u-1)", container: c0)',
            id="pod-non-root-no-user",
        ),
        pytest.param(
            {},
            {"runAsNonRoot": True, "runAsGroup": 10},
            'container has runAsNonRoot and image will run as root (pod: "p_ns(u-1)", container: c0)',
            id="container-non-root-group-only",
        ),
        pytest.param(
            {"runAsNonRoot": True, "runAsUser": 1000},
            {"runAsUser": 0},
            'container\'s runAsUser breaks non-root policy (pod: "p_ns(u-1)", container: c0)',
            id="non-root-user-0",
        ),
    ],
)
def test_run_as_non_root_refusals(pod_sc: dict, ctr_sc: dict, message: str) -> None:
    pod = _pod(pod_sc, ctr_sc)
    with pytest.raises(SecurityError) as e:
        run_as(pod, pod.spec.containers[0], ROOT)
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("pod_sc", "ctr_sc", "error"),
    [
        pytest.param({}, {}, None, id="nothing-set"),
        pytest.param({"runAsUser": 1000}, {}, None, id="own-uid"),
        pytest.param({"runAsUser": 1000, "runAsGroup": 1000}, {}, None, id="own-uid-and-gid"),
        pytest.param({"supplementalGroups": [27]}, {}, None, id="a-group-it-holds"),
        pytest.param({"runAsNonRoot": True}, {}, None, id="non-root-kubelet-is-non-root"),
        pytest.param(
            {"runAsUser": 1001},
            {},
            'container "c0": cannot run as runAsUser 1001: the kubelet runs as uid 1000, '
            "not as root, and cannot change user",
            id="other-uid",
        ),
        pytest.param(
            {},
            {"runAsGroup": 5},
            'container "c0": cannot run as runAsGroup 5: the kubelet runs as uid 1000, '
            "not as root, and cannot change user",
            id="other-gid",
        ),
        pytest.param(
            {"fsGroup": 2000},
            {},
            'container "c0": cannot add supplementary groups 2000 (supplementalGroups, fsGroup): '
            "the kubelet runs as uid 1000, not as root, and cannot change user",
            id="fsgroup-not-held",
        ),
    ],
)
def test_a_non_root_kubelet_runs_containers_as_itself_or_refuses(
    pod_sc: dict, ctr_sc: dict, error: str | None
) -> None:
    pod = _pod(pod_sc, ctr_sc)
    if error is None:
        assert run_as(pod, pod.spec.containers[0], USER) is None
        return
    with pytest.raises(SecurityError) as e:
        run_as(pod, pod.spec.containers[0], USER)
    assert str(e.value) == error


@pytest.mark.parametrize(
    ("pod_sc", "ctr_scs", "expected"),
    [
        pytest.param({}, ({},), None, id="all-root"),
        pytest.param({"fsGroup": 2000, "runAsUser": 5}, ({},), 2000, id="fsgroup-first"),
        pytest.param({"runAsUser": 5, "runAsGroup": 6}, ({},), 6, id="pod-group"),
        pytest.param({"runAsUser": 5}, ({},), 5, id="pod-user"),
        pytest.param({}, ({}, {"runAsUser": 8, "runAsGroup": 9}), 9, id="first-non-root-container"),
        pytest.param({}, ({"runAsUser": 0}, {"runAsUser": 8}), 8, id="root-containers-skipped"),
    ],
)
def test_pod_group(pod_sc: dict, ctr_scs: tuple[dict, ...], expected: int | None) -> None:
    assert pod_group(_pod(pod_sc, *ctr_scs)) == expected


@pytest.mark.parametrize(
    ("user", "argv"),
    [
        pytest.param(
            RunAs(1000, 3000),
            [SETPRIV, "--reuid=1000", "--regid=3000", "--clear-groups", "--"],
            id="no-groups",
        ),
        pytest.param(
            RunAs(1000, 3000, (2000, 4000)),
            [SETPRIV, "--reuid=1000", "--regid=3000", "--groups=2000,4000", "--"],
            id="groups",
        ),
        pytest.param(
            RunAs(5, 5, (), no_new_privs=True),
            [SETPRIV, "--reuid=5", "--regid=5", "--clear-groups", "--no-new-privs", "--"],
            id="no-new-privs",
        ),
    ],
)
def test_setpriv_prefix(user: RunAs, argv: list[str]) -> None:
    assert user.argv() == argv


def test_container_environment_carries_the_user_and_refuses_as_a_config_error() -> None:
    pod = _pod({"runAsUser": 1000})
    env = container_environment(
        pod,
        pod.spec.containers[0],
        host_ip="h",
        pod_ip="p",
        pod_dir=Path("/pods/u-1"),
        identity=ROOT,
    )
    assert env.user == RunAs(1000, 1000, ())
    assert env.argv(["true"])[:5] == RunAs(1000, 1000).argv()
    bad = _pod({"runAsNonRoot": True})
    with pytest.raises(ConfigError, match="image will run as root"):
        container_environment(
            bad, bad.spec.containers[0], host_ip="h", pod_ip="p", pod_dir=Path("/p"), identity=ROOT
        )


def test_the_fallback_environment_never_runs_as_root_by_accident() -> None:
    bad = _pod({"runAsNonRoot": True})
    env = fallback_environment(Path("/p"), pod=bad, container=bad.spec.containers[0])
    assert env.user is not None and env.user.uid != 0


def test_nothing_of_the_kubelets_environment_reaches_a_container(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PINNACE_TEST_SECRET_TOKEN", "s3cr3t")
    monkeypatch.setenv("PATH", "/kubelet/only/bin:/usr/bin")
    pod = _pod({})
    env = container_environment(
        pod,
        pod.spec.containers[0],
        host_ip="h",
        pod_ip="p",
        pod_dir=Path("/pods/u-1"),
        identity=ROOT,
    ).env
    assert env["PATH"] == DEFAULT_PATH
    assert "s3cr3t" not in env.values() and "PINNACE_TEST_SECRET_TOKEN" not in env
    assert set(env) == {"PATH", "HOSTNAME", "HOME", "PINNACE_POD_DIR"}
