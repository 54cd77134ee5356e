"""The Markdown summary of a chaos run (and of its baseline: the same
schedule with no faults), as benchmarks/chaos.py prints it and
benchmarks/README.md keeps it."""

from __future__ import annotations

from tests.chaos.engine import RunResult
from tests.chaos.faults import FAULTS

__all__ = ["markdown"]


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _figures(run: RunResult) -> list[object]:
    h = run.history
    return [
        len(run.schedule.rounds),
        f"{run.rounds_seconds:.0f} s",
        f"{run.converge_seconds:.1f} s" + ("" if run.converged else " (deadline: not converged)"),
        f"{h.watch_events:,}",
        h.relists,
        f"{len(h.samples):,}",
        f"{len(h.ops)} ({run.ops_given_up()} gave up)",
        _slowest(run),
        f"{run.checks:,}",
        run.violations,
    ]


def _slowest(run: RunResult) -> str:
    """The slowest operation, and the fault it met (if any)."""
    if not run.history.ops:
        return ""
    op = max(run.history.ops, key=lambda o: o.seconds)
    met = [
        f"{f.kind} {f.target}"
        for f in run.history.faults
        if f.start <= op.at + op.seconds and op.at <= f.end
    ]
    return f"{op.seconds:.1f} s ({op.target}{'; during ' + ', '.join(met) if met else ''})"


FIGURES = (
    "rounds",
    "setup and rounds, wall time",
    "converged after the last fault in",
    "watch events recorded",
    "relists (410 Expired) recorded",
    "process samples",
    "operations",
    "slowest operation",
    "invariant checks run",
    "violations",
)


def markdown(run: RunResult, baseline: RunResult | None = None) -> str:
    lines = [_row("", "with faults", "baseline (no faults)" if baseline else "")]
    lines.append("|---|---|---|")
    base = _figures(baseline) if baseline else [""] * len(FIGURES)
    lines += [_row(name, a, b) for name, a, b in zip(FIGURES, _figures(run), base, strict=True)]
    lines += ["", _row("fault", "injected"), "|---|---|"]
    counts = run.faults_by_kind()
    lines += [_row(f.name, counts.get(f.name, 0)) for f in FAULTS]
    lines += ["", _row("operation", "with faults", "baseline"), "|---|---|---|"]
    ops, base_ops = run.ops_by_kind(), baseline.ops_by_kind() if baseline else {}
    lines += [_row(kind, n, base_ops.get(kind, "")) for kind, n in sorted(ops.items())]
    lines += [
        "",
        _row("invariant", "checks", "undecided (history gap)", "violations"),
        "|---|---|---|---|",
    ]
    lines += [
        _row(v.invariant, f"{v.checks:,}", v.inconclusive, len(v.violations)) for v in run.verdicts
    ]
    return "\n".join(lines)
