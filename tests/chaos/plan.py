"""The schedule of a chaos run, drawn from ``random.Random(seed)`` before
anything runs, so one seed is one schedule: the same operations and the
same faults on the same targets with the same durations, in the same
order (what a run cannot replay is the timing of the processes).

A run is a few setup operations (the Deployments, the StatefulSet and the
DaemonSet) and then rounds; each round is

1. one operation;
2. a fault on a target, held for ``hold`` seconds (a partition: until
   the node's pods are evicted), with maybe one more operation while it
   lasts;
3. the fault undone, the target whole again, then ``gap`` seconds with
   no fault (none after the last round: the time to converge starts there).

Fault kinds are dealt from a shuffled deck of every component kind and
the node partition, so any ``len(DECK)`` consecutive rounds fault each
kind once (the short CI run covers them all); kill or pause, and the
target, are drawn for each. The baseline schedule of the same seed has the
same operations and durations and no faults (``Fault`` NONE).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tests.chaos.faults import COMPONENTS, FAULTS, NODE, NONE, Fault

__all__ = ["DECK", "JOB_VARIANTS", "Op", "Round", "Schedule", "plan"]

DECK = (*COMPONENTS, NODE)
MAX_DEPLOYMENTS = 3
JOB_VARIANTS = ("ok", "flaky", "failing")
# Seconds: how long a killed component stays down, a paused one hangs,
# and the fault-free time after a round.
KILL_DOWN = (0.5, 2.0)
PAUSE_HANG = (1.5, 4.0)
GAP = (1.0, 2.5)
# A Job may be deleted once this many rounds have passed since its creation.
JOB_AGE_TO_DELETE = 5


@dataclass(frozen=True)
class Op:
    """One operation on the workloads: ``kind`` on ``target`` with ``args``."""

    kind: str
    target: str
    args: tuple[int | str, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind} {self.target} {' '.join(map(str, self.args))}".rstrip()


@dataclass(frozen=True)
class Round:
    index: int
    op: Op
    fault: Fault
    target: str
    hold: float
    during: tuple[Op, ...]
    gap: float


@dataclass(frozen=True)
class Schedule:
    seed: int
    setup: tuple[Op, ...]
    rounds: tuple[Round, ...]

    def faults_by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rounds:
            if r.fault != NONE:
                out[r.fault.name] = out.get(r.fault.name, 0) + 1
        return out


SETUP = (
    Op("create-deployment", "web-a", (2, 1, 0)),  # replicas, maxSurge, maxUnavailable
    Op("create-deployment", "web-b", (3, 0, 1)),
    Op("create-statefulset", "db", (2,)),
    Op("create-daemonset", "agent"),
)


@dataclass
class _Model:
    """What the schedule has made so far (to choose operations that apply)."""

    deployments: list[str] = field(default_factory=lambda: ["web-a", "web-b"])
    jobs: dict[str, int] = field(default_factory=dict)  # name → round created
    rollouts: int = 0
    made: int = 0


def _op(rng: random.Random, model: _Model, round_index: int) -> Op:
    old_jobs = sorted(j for j, r in model.jobs.items() if round_index - r >= JOB_AGE_TO_DELETE)
    choices: list[tuple[str, int]] = [
        ("scale-deployment", 3),
        ("roll-deployment", 3),
        ("scale-statefulset", 2),
        ("roll-daemonset", 1),
        ("create-job", 2),
    ]
    if len(model.deployments) < MAX_DEPLOYMENTS:
        choices.append(("create-deployment", 1))
    if old_jobs:
        choices.append(("delete-job", 1))
    kind = rng.choices([k for k, _ in choices], [w for _, w in choices])[0]
    if kind == "scale-deployment":
        return Op(kind, rng.choice(model.deployments), (rng.randint(1, 4),))
    if kind == "roll-deployment":
        model.rollouts += 1
        return Op(kind, rng.choice(model.deployments), (model.rollouts,))
    if kind == "scale-statefulset":
        return Op(kind, "db", (rng.randint(0, 3),))
    if kind == "roll-daemonset":
        model.rollouts += 1
        return Op(kind, "agent", (model.rollouts,))
    if kind == "create-deployment":
        name = f"web-{'abcdefgh'[len(model.deployments)]}"
        model.deployments.append(name)
        return Op(kind, name, (rng.randint(1, 4), "25%", "25%"))
    if kind == "delete-job":
        name = rng.choice(old_jobs)
        del model.jobs[name]
        return Op(kind, name)
    model.made += 1
    name = f"job-{model.made}"
    model.jobs[name] = round_index
    variant = rng.choice(JOB_VARIANTS)
    return Op(kind, name, (variant, rng.randint(1, 3), rng.randint(1, 2)))


def plan(
    seed: int, rounds: int, targets: Mapping[str, Sequence[str]], *, faults: bool = True
) -> Schedule:
    """The schedule of ``rounds`` rounds for ``seed`` on a cluster whose
    fault targets are ``targets`` (faults.fault_targets)."""
    rng = random.Random(seed)
    model = _Model()
    deck: list[str] = []
    out = []
    for i in range(1, rounds + 1):
        if not deck:
            deck = list(DECK)
            rng.shuffle(deck)
        component = deck.pop()
        fault = rng.choice([f for f in FAULTS if f.component == component])
        target = rng.choice(list(targets[component]))
        span = KILL_DOWN if fault.action == "kill" else PAUSE_HANG
        hold = round(rng.uniform(*span), 2) if fault.action != "partition" else 0.0
        op = _op(rng, model, i)
        during = (_op(rng, model, i),) if rng.random() < 0.5 else ()
        gap = round(rng.uniform(*GAP), 2)
        out.append(Round(i, op, fault if faults else NONE, target, hold, during, gap))
    return Schedule(seed, SETUP, tuple(out))
