"""One chaos run on a running cluster: record, set the workloads up, play
the schedule's rounds (operations and faults), wait for convergence, read
the final state and check every invariant.

    result = ChaosRun(cluster, seed=7, rounds=6).run()
    assert result.ok, result.failure_report(replay="...")

The run makes a namespace of its own (``<prefix>-<seed>-<random>``), so a
baseline run (``faults=False``: the same schedule with no fault) can go
first on the same cluster; ``delete_namespace`` removes a finished run's
workloads and waits until their processes are gone.

Convergence is waited for with a deadline (``converge_timeout``): every
workload at its spec (convergence.py) and every component and etcd member
running. The run does not fail on the deadline itself: the ``converged``
invariant then reports what was left, beside every other verdict.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pinnace.api.core.v1 import namespace_pb2
from pinnace.client import Client
from pinnace.localcluster.cluster import LocalCluster
from pinnace.machinery import errors
from tests.chaos import convergence
from tests.chaos.faults import NONE, Injector, fault_targets
from tests.chaos.final import gather, list_namespace
from tests.chaos.history import RECORDED_RESOURCES, History
from tests.chaos.invariants import Verdict, check_all
from tests.chaos.plan import Round, Schedule, plan
from tests.chaos.processes import PodDirs, pod_processes
from tests.chaos.recorder import Recorder
from tests.chaos.state import FinalState
from tests.chaos.workload import Driver

__all__ = ["ChaosRun", "RunResult", "delete_namespace"]

TRANSIENT = (errors.Unavailable, errors.Timeout, errors.InternalError)


@dataclass
class RunResult:
    seed: int
    faults: bool
    namespace: str
    schedule: Schedule
    history: History
    final: FinalState
    verdicts: list[Verdict]
    rounds_seconds: float  # wall time of the setup and the rounds
    converge_seconds: float  # from the last fault undone until converged (or the deadline)
    converged: bool
    recorder_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)

    @property
    def checks(self) -> int:
        return sum(v.checks for v in self.verdicts)

    @property
    def violations(self) -> int:
        return sum(len(v.violations) for v in self.verdicts)

    def faults_by_kind(self) -> Counter[str]:
        return Counter(f.kind for f in self.history.faults)

    def ops_by_kind(self) -> Counter[str]:
        return Counter(o.kind for o in self.history.ops)

    def ops_given_up(self) -> int:
        return sum(o.error.startswith("gave up") for o in self.history.ops)

    def failure_report(self, replay: str) -> str:
        """Every violation, the faults near each, and how to replay the run."""
        started = time.strftime("%H:%M:%S", time.localtime(self.history.started))
        lines = [f"chaos run failed: seed {self.seed}; replay with: {replay}; t=0 was {started}"]
        for v in self.verdicts:
            lines += [f"  {v.invariant}: {x}" for x in v.violations[:20]]
            if len(v.violations) > 20:
                lines.append(f"  {v.invariant}: … {len(v.violations) - 20} more")
        lines.append("faults (kind, target, start-end seconds):")
        lines += [f"  {f.kind} {f.target} {f.start:.1f}-{f.end:.1f}" for f in self.history.faults]
        return "\n".join(lines)


class ChaosRun:
    def __init__(
        self,
        cluster: LocalCluster,
        *,
        seed: int,
        rounds: int,
        faults: bool = True,
        prefix: str = "chaos",
        converge_timeout: float = 120.0,
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.cluster = cluster
        self.seed = seed
        self.faults = faults
        self.prefix = prefix
        self.converge_timeout = converge_timeout
        self.say = say
        self.schedule = plan(seed, rounds, fault_targets(cluster), faults=faults)
        self._paced = threading.Event()  # never set: the clock of holds and gaps

    def run(self) -> RunResult:
        config = self.cluster.client_config()
        with Client(config=config, timeout=5) as client:
            ns = _create_namespace(client, f"{self.prefix}-{self.seed}")
            recorder = Recorder(config, ns, RECORDED_RESOURCES, self.cluster.data_dir)
            recorder.start()
            if not recorder.listed(RECORDED_RESOURCES, 60):
                recorder.stop()
                raise TimeoutError(f"the recorder could not list: {recorder.errors}")
            try:
                started = time.monotonic()
                self._play(client, ns, recorder)
                rounds_seconds = time.monotonic() - started
                converged, converge_seconds = self._converge(client, ns)
                self.say(
                    f"converged={converged} in {converge_seconds:.1f}s; reading the final state"
                )
                final = gather(self.cluster, client, recorder)
            finally:
                recorder.stop()
        verdicts = check_all(recorder.history, final)
        return RunResult(
            self.seed,
            self.faults,
            ns,
            self.schedule,
            recorder.history,
            final,
            verdicts,
            rounds_seconds,
            converge_seconds,
            converged,
            recorder.errors,
        )

    def _play(self, client: Client, ns: str, recorder: Recorder) -> None:
        history = recorder.history
        driver = Driver(client, ns, now=recorder.now)
        injector = Injector(self.cluster, client, ns, now=recorder.now)
        try:
            for op in self.schedule.setup:
                history.ops.append(driver.do(op))
            for r in self.schedule.rounds:
                self.say(self._describe(r, recorder.now()))
                history.ops.append(driver.do(r.op))

                def during(r: Round = r) -> None:
                    history.ops.extend(driver.do(op) for op in r.during)

                fault = injector.run(r.fault, r.target, r.hold, during)
                if r.fault != NONE:
                    history.faults.append(fault)
                if r is not self.schedule.rounds[-1]:
                    self._paced.wait(r.gap)  # after the last: convergence is timed
        finally:
            injector.undo()

    def _describe(self, r: Round, now: float) -> str:
        during = f" + {', '.join(map(str, r.during))}" if r.during else ""
        fault = "no fault" if r.fault == NONE else f"{r.fault.name} {r.target} ({r.hold}s)"
        return f"t={now:6.1f}s round {r.index}: {r.op}{during}; {fault}"

    def _problems(self, client: Client, ns: str) -> list[str]:
        dead = [f"{name} exited" for name in self.cluster.check()]
        listed = list_namespace(client, ns)
        objects = {r: list(listed[r].objects) for r in convergence.WORKLOAD_RESOURCES}
        return dead + convergence.problems(objects, list(listed["nodes"].objects))

    def _converge(self, client: Client, ns: str) -> tuple[bool, float]:
        """Wait until converged or the deadline: (converged, seconds)."""
        started = time.monotonic()
        left: list[str] = ["not asked yet"]
        while time.monotonic() - started < self.converge_timeout:
            with contextlib.suppress(*TRANSIENT):
                left = self._problems(client, ns)
                if not left:
                    return True, time.monotonic() - started
            self._paced.wait(0.25)
        self.say(f"not converged after {self.converge_timeout}s: {left}")
        return False, time.monotonic() - started


def _create_namespace(client: Client, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    ns = namespace_pb2.Namespace()
    ns.metadata.name = name
    client.namespaces().create(ns)
    return name


def delete_namespace(cluster: LocalCluster, namespace: str, *, timeout: float = 120.0) -> None:
    """Delete a finished run's namespace and wait until it and every
    process of its pods are gone."""
    with Client(config=cluster.client_config(), timeout=10) as client:
        client.namespaces().delete(namespace)
        dirs = PodDirs(cluster.data_dir)
        deadline = time.monotonic() + timeout
        while True:
            gone = not any(p.metadata.name == namespace for p in client.namespaces().list().items)
            left = [p for p in pod_processes(dirs) if p.namespace == namespace]
            if gone and not left:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"namespace {namespace} not gone: {len(left)} processes left")
            time.sleep(0.25)
