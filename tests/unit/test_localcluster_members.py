"""LocalCluster's etcd member count is fixed at the first start: another
count on the same data dir is refused before anything starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pinnace.localcluster.cluster import ClusterConfig, ClusterConfigError, LocalCluster


@pytest.mark.parametrize(("had", "asked"), [(1, 3), (3, 1), (3, 5)])
def test_another_member_count_on_the_same_data_dir_is_refused(
    tmp_path: Path, had: int, asked: int
) -> None:
    ports = {"etcd_client": 1, "etcd_peer": 2}
    for i in range(1, had):
        ports |= {f"etcd_client_{i}": 10 + i, f"etcd_peer_{i}": 20 + i}
    (tmp_path / "cluster.json").write_text(json.dumps({"ports": ports}))
    cluster = LocalCluster(ClusterConfig(data_dir=tmp_path, etcd_members=asked))
    with pytest.raises(ClusterConfigError, match=rf"--etcd-members {asked}: .* has {had} etcd"):
        cluster.start()
    assert cluster.components == [] and cluster.etcd_members == []
    assert json.loads((tmp_path / "cluster.json").read_text())["ports"] == ports
