"""Each scale benchmark, run small (seconds, not minutes) as a user runs it
(`python benchmarks/<name>.py ...`), so the scripts do not rot: each must
exit 0 and print its table with every row filled. The figures themselves
are not judged here (a test never asserts a wall-clock time); the full runs
and their figures are in benchmarks/README.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_benchmark(script: str, *args: str, timeout: float = 180) -> dict[str, str]:
    """Run it; its table's rows (measurement → figure)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = " | ".join(cells[1:])
    assert rows, result.stdout
    for what, figure in rows.items():
        assert figure and "nan" not in figure, f"{script}: {what}: {figure!r}"
    return rows


def row(rows: dict[str, str], start: str) -> str:
    found = [figure for what, figure in rows.items() if what.startswith(start)]
    assert found, f"no row starting {start!r} in {list(rows)}"
    return found[0]


def test_scheduler_benchmark_smoke() -> None:
    rows = run_benchmark("scheduler.py", "--smoke")
    assert row(rows, "20 hollow nodes Ready")
    assert "/s" in row(rows, "backlog: pods bound per second")
    assert "p99" in row(rows, "steady:")
    assert row(rows, "scheduler: nodes looked at per pod") == "20 of 20"
    assert "total" in row(rows, "backlog: CPU per pod")
    assert "/s" in row(rows, "in-process: scheduling decisions over 5,000 nodes")
    assert "/s" in row(rows, "baseline:")


def test_density_benchmark_smoke() -> None:
    rows = run_benchmark("density.py", "--smoke")
    assert "pods/s" in row(rows, "100 pods in 4 Deployments")
    for start in (
        "saturation pods",
        "of which:",
        "pod startup of 10 latency pods",
        "mutating API calls",
        "probe: a Lease update",
        "probe: LIST",
    ):
        assert "p99" in row(rows, start)
    assert "apiserver" in row(rows, "RSS at the end")


def test_rollout_benchmark_smoke() -> None:
    rows = run_benchmark("rollout.py", "--smoke")
    assert row(rows, "Deployment of 30 replicas until all available").endswith(" s")
    assert row(rows, "rolling update").endswith(" s")
    for start in ("controller-manager CPU", "scheduler CPU", "kubelet CPU"):
        assert row(rows, start).endswith(" ms")


def test_api_benchmark_smoke() -> None:
    rows = run_benchmark(
        "api.py", "--pods", "100", "--creates", "150", "--watchers", "3", "--updates", "50"
    )
    assert any("64 in flight" in what for what in rows), rows
