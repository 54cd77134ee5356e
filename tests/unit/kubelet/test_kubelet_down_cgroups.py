"""pinnace down removes what the kubelets left in cgroups after a crash
(pinnace/localcluster/cgroups.py, on plain directories standing in for cgroups)."""

from __future__ import annotations

import json
from pathlib import Path

from kubelet.cgroups import CGROUPS_FILE
from pinnace.localcluster.cgroups import CGROUPS_FILE as DOWN_CGROUPS_FILE
from pinnace.localcluster.cgroups import cleanup_cgroups


def test_the_file_name_is_the_kubelets() -> None:
    assert DOWN_CGROUPS_FILE == CGROUPS_FILE


def test_cleanup_removes_every_recorded_parent_bottom_up(tmp_path: Path) -> None:
    parents = [tmp_path / "memory" / "pinnace-a", tmp_path / "cpu" / "pinnace-a"]
    for p in parents:
        (p / "pod-1" / "c-0").mkdir(parents=True)
        (p / "pod-2").mkdir()
    node = tmp_path / "data" / "nodes" / "node-1"
    node.mkdir(parents=True)
    (node / CGROUPS_FILE).write_text(json.dumps([str(p) for p in parents]))
    (tmp_path / "data" / "nodes" / "node-2").mkdir()  # never recorded any
    assert cleanup_cgroups(tmp_path / "data") == [f"cgroup {p}" for p in parents]
    assert not any(p.exists() for p in parents)
    assert cleanup_cgroups(tmp_path / "data") == []
