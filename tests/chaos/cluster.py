"""The chaos suite's cluster: the HA shape of issue 14 (3 etcd members, 2
apiservers, 2 controller-managers, 2 schedulers, 3 nodes) with the tests'
short timings (tests/integration/conftest.py), plus what the faults and
the checks need:

* ``--default-not-ready-toleration-seconds`` and
  ``--default-unreachable-toleration-seconds`` of 2 s: a partitioned node's
  pods are evicted seconds after the node goes Unknown (300 s in
  Kubernetes), so a partition fault of ~10 s shows eviction;
* ``--metrics-listen 127.0.0.1:0`` on the controller-managers, schedulers
  and kubelets: their ``/debug/caches`` page is how the informer caches
  are compared with etcd (each logs the port it got);
* address ranges of its own (10.247/16 pods, 10.115/16 Services), so it
  runs beside the session and HA test clusters.
"""

from __future__ import annotations

from pathlib import Path

from pinnace.localcluster.cluster import ClusterConfig
from tests.integration.conftest import FAST_CLUSTER_FLAGS, fast_cluster_config

__all__ = ["CHAOS_FLAGS", "TOLERATION_SECONDS", "chaos_cluster_config"]

TOLERATION_SECONDS = 2
METRICS = ["--metrics-listen", "127.0.0.1:0"]
CHAOS_FLAGS: dict[str, list[str]] = {
    **FAST_CLUSTER_FLAGS,
    "apiserver": [
        *FAST_CLUSTER_FLAGS["apiserver"],
        *("--default-not-ready-toleration-seconds", str(TOLERATION_SECONDS)),
        *("--default-unreachable-toleration-seconds", str(TOLERATION_SECONDS)),
    ],
    "controller-manager": [*FAST_CLUSTER_FLAGS["controller-manager"], *METRICS],
    "scheduler": [*FAST_CLUSTER_FLAGS["scheduler"], *METRICS],
    "kubelet": [*FAST_CLUSTER_FLAGS["kubelet"], *METRICS],
}


def chaos_cluster_config(base: Path) -> ClusterConfig:
    """The chaos cluster under ``base`` (its data dir), on a free port."""
    return fast_cluster_config(
        base,
        nodes=3,
        etcd_members=3,
        apiservers=2,
        controller_managers=2,
        schedulers=2,
        cluster_cidr="10.247.0.0/16",
        service_cidr="10.115.0.0/16",
        extra_component_flags=CHAOS_FLAGS,
    )
