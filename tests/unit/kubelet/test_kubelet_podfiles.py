"""podfiles.py: the modes and groups of the kubelet's directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubelet.paths import RootPaths
from kubelet.podfiles import make_pod_dir, make_workdir, secure_root, warn_untraversable

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's group needs root")


def _mode(p: Path) -> tuple[int, int]:
    st = p.stat()
    return st.st_mode & 0o7777, st.st_gid


def test_secure_root(tmp_path: Path) -> None:
    root = RootPaths(tmp_path / "k")
    secure_root(root, tmp_path / "k" / "local-volumes")
    for d in (root.root, root.pods_dir, root.root / "local-volumes"):
        assert _mode(d)[0] == 0o711


@needs_root
@pytest.mark.parametrize(
    ("group", "expected"),
    [
        pytest.param(
            None,
            {"": (0o700, 0), ".pinnace": (0o700, 0), ".pinnace/volumes": (0o700, 0)},
            id="all-root-pod",
        ),
        pytest.param(
            2000,
            {
                "": (0o2770, 2000),
                ".pinnace": (0o710, 2000),
                ".pinnace/volumes": (0o710, 2000),
                ".pinnace/containers": (0o700, 0),
                ".pinnace/logs": (0o700, 0),
            },
            id="pod-group",
        ),
    ],
)
def test_make_pod_dir(tmp_path: Path, group: int | None, expected: dict) -> None:
    paths = RootPaths(tmp_path).pod("uid-1")
    make_pod_dir(paths, group)
    assert {rel: _mode(paths.dir / rel) for rel in expected} == expected


@needs_root
def test_make_workdir_shares_only_what_it_creates(tmp_path: Path) -> None:
    pod_dir = tmp_path / "pod"
    pod_dir.mkdir()
    host = tmp_path / "host"
    host.mkdir(mode=0o755)
    (pod_dir / "vol").symlink_to(host)
    make_workdir(pod_dir, pod_dir / "app" / "sub", 2000)
    assert _mode(pod_dir / "app") == (0o2770, 2000)
    assert _mode(pod_dir / "app" / "sub") == (0o2770, 2000)
    make_workdir(pod_dir, pod_dir / "vol" / "x", 2000)
    assert _mode(host)[0] == 0o755  # a volume's directory keeps its mode


def test_warn_untraversable(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    (closed / "root").mkdir(parents=True)
    closed.chmod(0o700)
    assert closed in warn_untraversable(closed / "root")
    closed.chmod(0o711)
    assert closed not in warn_untraversable(closed / "root")
