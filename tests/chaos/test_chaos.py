"""The chaos suite's short form (issue 14): a few rounds of operations and
faults on an HA cluster of real processes, then every invariant
(tests/chaos/invariants.py) over the recorded history and the final state.

Six rounds by default with a fixed seed: the deck of plan.py deals each
component kind (apiserver, controller-manager, scheduler, kubelet, etcd)
and the node partition once in any six rounds, so every kind is faulted.
``PINNACE_CHAOS_ROUNDS`` and ``PINNACE_CHAOS_SEED`` override them; a
failure prints the seed and the command that replays it. The long form is
``python benchmarks/chaos.py --rounds 100``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinnace.localcluster.cluster import LocalCluster
from tests.chaos.cluster import chaos_cluster_config
from tests.chaos.engine import ChaosRun
from tests.chaos.faults import COMPONENTS
from tests.chaos.plan import DECK

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip"),
    reason="the chaos cluster runs pods in their own network namespaces: root and iproute2",
)

ROUNDS = int(os.environ.get("PINNACE_CHAOS_ROUNDS", str(len(DECK))))
SEED = int(os.environ.get("PINNACE_CHAOS_SEED", "14"))


@pytest.fixture
def chaos_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(chaos_cluster_config(tmp_path))
    try:
        cluster.start(timeout=90)
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.timeout(max(180, 30 * ROUNDS))
def test_chaos_rounds_keep_every_invariant(chaos_cluster: LocalCluster) -> None:
    run = ChaosRun(chaos_cluster, seed=SEED, rounds=ROUNDS, converge_timeout=60, say=print)
    result = run.run()
    replay = (
        f"PINNACE_CHAOS_SEED={SEED} PINNACE_CHAOS_ROUNDS={ROUNDS} "
        "python -m pytest tests/chaos/test_chaos.py"
    )
    assert result.ok, result.failure_report(replay)
    # The run did what it says: each component kind faulted (six rounds or
    # more), the workloads changed, and every invariant checked something.
    faulted = {f.kind.split(" ", 1)[1] for f in result.history.faults}
    if ROUNDS >= len(DECK):
        assert faulted >= set(COMPONENTS), faulted
    assert len(result.history.ops) >= len(run.schedule.setup) + ROUNDS
    assert result.history.watch_events > 0 and result.history.samples
    unchecked = [v.invariant for v in result.verdicts if not v.checks]
    assert not unchecked, f"checked nothing: {unchecked}"
