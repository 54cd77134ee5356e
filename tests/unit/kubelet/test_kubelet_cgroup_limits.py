"""cgroups.py: limits from a container spec, the values written, OOM
detection from the cgroup files, removal and the sweep after a crash (on
plain directories standing in for cgroups), and the rlimit fallback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kubelet.cgroups import (
    PRLIMIT,
    Cgroups,
    Hierarchy,
    Limits,
    cpu_quota_us,
    limits_of,
    rlimit_prefix,
)
from kubelet.runtime import JOIN, JOIN_NAME, LaunchSpec, ProcessRuntime, command_in_cgroups
from pinnace.api.core.v1 import container_pb2
from pinnace.machinery import codec


def _ctr(limits: dict) -> container_pb2.Container:
    return codec.from_dict(container_pb2.Container, {"name": "c", "resources": {"limits": limits}})


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        pytest.param({}, Limits(), id="none"),
        pytest.param({"memory": "32Mi"}, Limits(memory=32 * 1024 * 1024), id="memory"),
        pytest.param({"memory": "1G", "cpu": "250m"}, Limits(10**9, 250), id="both"),
        pytest.param({"cpu": "2"}, Limits(cpu_millis=2000), id="whole-cpus"),
        pytest.param({"cpu": "0.1"}, Limits(cpu_millis=100), id="decimal-cpu"),
        pytest.param({"nvidia.com/gpu": "1"}, Limits(), id="other-resources-ignored"),
    ],
)
def test_limits_of(limits: dict, expected: Limits) -> None:
    assert limits_of(_ctr(limits)) == expected


@pytest.mark.parametrize(
    ("millis", "quota"),
    [
        pytest.param(250, 25_000, id="quarter"),
        pytest.param(1500, 150_000, id="one-and-a-half"),
        pytest.param(1, 1_000, id="at-least-1ms"),
    ],
)
def test_cpu_quota(millis: int, quota: int) -> None:
    assert cpu_quota_us(millis) == quota


@pytest.mark.parametrize(
    ("limits", "prefix"),
    [
        pytest.param(Limits(), [], id="nothing"),
        pytest.param(Limits(cpu_millis=500), [], id="cpu-cannot-be-throttled"),
        pytest.param(Limits(memory=1024), [PRLIMIT, "--data=1024:1024", "--"], id="memory-data"),
    ],
)
def test_rlimit_fallback(limits: Limits, prefix: list[str]) -> None:
    assert rlimit_prefix(limits) == prefix


def _fake(tmp_path: Path, version: int) -> Cgroups:
    parent = tmp_path / "pinnace-x"
    parent.mkdir(parents=True)
    if version == 2:
        (parent / "cgroup.subtree_control").write_text("memory cpu\n")
    return Cgroups([Hierarchy(version, parent, frozenset({"memory", "cpu"}))])


@pytest.mark.parametrize(
    ("version", "files"),
    [
        pytest.param(
            1,
            {
                "memory.limit_in_bytes": "33554432",
                "memory.memsw.limit_in_bytes": "33554432",
                "cpu.cfs_period_us": "100000",
                "cpu.cfs_quota_us": "25000",
            },
            id="v1",
        ),
        pytest.param(
            2,
            {"memory.max": "33554432", "memory.swap.max": "0", "cpu.max": "25000 100000"},
            id="v2",
        ),
    ],
)
def test_create_writes_the_limits(tmp_path: Path, version: int, files: dict[str, str]) -> None:
    cg = _fake(tmp_path, version)
    if version == 2:
        # A real v2 pod cgroup has this file from the kernel.
        pod = cg.hierarchies[0].parent / "uid-1"
        pod.mkdir()
        (pod / "cgroup.subtree_control").write_text("")
    (d,) = cg.create("uid-1", "c", 3, Limits(32 * 1024 * 1024, 250))
    assert d == cg.hierarchies[0].parent / "uid-1" / "c-3"
    assert {name: (d / name).read_text() for name in files} == files


@pytest.mark.parametrize(
    ("name", "text", "oom"),
    [
        pytest.param(
            "memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
            True,
            id="v1-killed",
        ),
        pytest.param(
            "memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
            False,
            id="v1-not",
        ),
        pytest.param(
            "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n", True, id="v2-killed"
        ),
        pytest.param(
            "memory.events",
            "low 0\nhigh 0\nmax 12\noom 0\noom_kill 0\n",
            False,
            id="v2-max-hits-only",
        ),
        pytest.param("memory.failcnt", "109\n", False, id="failcnt-is-not-an-oom-kill"),
    ],
)
def test_oom_killed(tmp_path: Path, name: str, text: str, oom: bool) -> None:
    (tmp_path / name).write_text(text)
    assert Cgroups().oom_killed([tmp_path]) is oom


def test_remove_and_sweep(tmp_path: Path) -> None:
    cg = _fake(tmp_path, 1)
    parent = cg.hierarchies[0].parent
    for pod, ctr in (("kept", "a-0"), ("gone", "b-0"), ("gone", "b-1")):
        (parent / pod / ctr).mkdir(parents=True)
    assert cg.remove([parent / "kept" / "a-0"])
    assert not (parent / "kept").exists()  # the pod's cgroup goes with its last container
    (parent / "kept" / "a-1").mkdir(parents=True)
    assert cg.sweep({"kept"}) == [parent / "gone"]
    assert sorted(p.name for p in parent.iterdir()) == ["kept"]


def test_the_runtime_puts_the_rlimit_prefix_before_the_user_without_cgroups(
    tmp_path: Path,
) -> None:
    spec = LaunchSpec(
        pod_uid="u",
        container="c",
        attempt=0,
        argv=["true"],
        env={},
        workdir=tmp_path,
        log_path=tmp_path / "log",
        state_dir=tmp_path / "state",
        user=["setpriv", "--"],
        limits=Limits(memory=1024, cpu_millis=100),
    )
    prefix, dirs = ProcessRuntime()._limit(spec)
    assert prefix == [*rlimit_prefix(Limits(memory=1024)), "setpriv", "--"] and dirs == ()


def test_release_removes_only_empty_parents(tmp_path: Path) -> None:
    busy, idle = _fake(tmp_path / "a", 1), _fake(tmp_path / "b", 1)
    (busy.hierarchies[0].parent / "pod-1" / "c-0").mkdir(parents=True)  # a container left running
    (idle.hierarchies[0].parent / "pod-2").mkdir()
    busy.release()
    idle.release()
    assert (busy.hierarchies[0].parent / "pod-1" / "c-0").exists()
    assert not idle.hierarchies[0].parent.exists()


@pytest.mark.parametrize(
    ("cgroups", "expected"),
    [
        pytest.param((), ["ls", "-l"], id="no-cgroups-unchanged"),
        pytest.param(
            (Path("/cg/memory/x"), Path("/cg/cpu/x")),
            ["/bin/sh", "-c", JOIN, JOIN_NAME, "2", "/cg/memory/x/cgroup.procs",
             "/cg/cpu/x/cgroup.procs", "ls", "-l"],
            id="joins-then-execs",
        ),
    ],
)  # fmt: skip
def test_command_in_cgroups(cgroups: tuple[Path, ...], expected: list[str]) -> None:
    assert command_in_cgroups(["ls", "-l"], cgroups) == expected


def test_the_join_shell_enters_the_cgroups_and_keeps_the_pid(tmp_path: Path) -> None:
    """With plain files standing in for cgroup.procs: the pid written is the command's."""
    procs = [tmp_path / "a", tmp_path / "b"]
    for p in procs:
        p.mkdir()
    argv = command_in_cgroups(["sh", "-c", "echo $$"], procs)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert [(p / "cgroup.procs").read_text() for p in procs] == [out, out]
