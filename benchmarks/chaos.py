"""Fault injection ("chaos") on a highly available local cluster (issue 14).

    python benchmarks/chaos.py --rounds 100 [--seed S] [--baseline-rounds 20] [--keep]

Starts its own cluster under a temporary directory (3 etcd members, 2
apiservers, 2 controller-managers, 2 schedulers, 3 nodes running real
processes; tests/chaos/cluster.py), then:

1. the baseline: the first ``--baseline-rounds`` rounds of the same
   schedule with no faults (the same operations at the same pace), its
   time to converge after the last round, and its invariants (they must
   hold without faults too); its namespace is then deleted;
2. the chaos run: ``--rounds`` rounds of the seed's schedule
   (tests/chaos/plan.py), each an operation on the Deployments, the
   StatefulSet, the DaemonSet or the Jobs, then a fault (SIGKILL and
   restart, or SIGSTOP for a while, of an apiserver, controller-manager,
   scheduler, kubelet or etcd member, or a node's kubelet silenced until
   its pods are evicted), undone before the next; then convergence, and
   every invariant over the recorded history and the final state
   (tests/chaos/invariants.py).

Prints a Markdown summary (faults by kind, operations by kind, events
recorded, invariant checks, violations) and exits 1 on any violation,
printing the seed and the command that replays the run. ``--keep``
keeps the data dir (logs of every component) and prints where it is.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pinnace.localcluster.cluster import LocalCluster
from tests.chaos.cluster import chaos_cluster_config
from tests.chaos.engine import ChaosRun, RunResult, delete_namespace
from tests.chaos.summary import markdown


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def replay_command(args: argparse.Namespace, seed: int) -> str:
    return (
        f"python benchmarks/chaos.py --rounds {args.rounds} --seed {seed} "
        f"--baseline-rounds {args.baseline_rounds}"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    p.add_argument(
        "--baseline-rounds",
        type=int,
        default=20,
        help="rounds of the same schedule with no faults, first (0: no baseline)",
    )
    p.add_argument("--converge-timeout", type=float, default=180.0)
    p.add_argument("--keep", action="store_true", help="keep the data dir and its logs")
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    say(f"seed {seed}")
    tmp = Path(tempfile.mkdtemp(prefix="pinnace-chaos-"))
    cluster = LocalCluster(chaos_cluster_config(tmp))
    tmp.chmod(0o755)  # containers that run as another user reach their pod directories
    baseline: RunResult | None = None
    run: RunResult | None = None
    started = time.monotonic()
    try:
        cluster.start(timeout=120)
        say(f"cluster up in {time.monotonic() - started:.1f}s under {tmp}")
        if args.baseline_rounds:
            baseline = ChaosRun(
                cluster,
                seed=seed,
                rounds=args.baseline_rounds,
                faults=False,
                prefix="baseline",
                converge_timeout=args.converge_timeout,
                say=say,
            ).run()
            delete_namespace(cluster, baseline.namespace)
        run = ChaosRun(
            cluster,
            seed=seed,
            rounds=args.rounds,
            converge_timeout=args.converge_timeout,
            say=say,
        ).run()
    finally:
        cluster.stop()
        if args.keep:
            for r in (baseline, run):
                if r is not None:
                    (tmp / f"{r.namespace}.pickle").write_bytes(pickle.dumps(r))
            say(f"kept {tmp} (logs, and each run's result pickled)")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    wall = time.monotonic() - started
    assert run is not None  # it ran, or the exception is on its way
    print()
    print(f"seed {seed}; {args.rounds} rounds; wall time {wall / 60:.1f} min (with the baseline)")
    print()
    print(markdown(run, baseline))
    print(f"\nmachine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    failed = [r for r in (baseline, run) if r is not None and not r.ok]
    for r in failed:
        print("\n" + r.failure_report(replay_command(args, seed)), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
