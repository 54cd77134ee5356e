"""Container log files: size-capped, rotated, the previous instance kept.

Layout (one directory per container of a pod, see runtime.py):

    <pod>/.pinnace/logs/<container>/<attempt>.log      the live file
    <pod>/.pinnace/logs/<container>/<attempt>.log.1    older output (.2, ... up
                                                      to max_files - 1 of them)

``attempt`` is the container's restart count when that instance started,
so ``logs --previous`` reads the attempt before the current one. Only the
current and the previous attempt are kept.

The container writes the live file itself (stdout and stderr both, opened
with O_APPEND), so output is never lost while the kubelet is down and a
dead kubelet never blocks a container. Rotation is therefore
copy-and-truncate (as logrotate's ``copytruncate``): when the live file is
larger than ``max_size`` its content moves to ``.1`` (older ones shift up)
and the live file is truncated; because the writer appends, its next write
lands at the new end. Output written between the copy and the truncate
(microseconds) can be lost; that is the price of not sitting in the
container's output path.

For the same reason the files hold no per-line times; the kubelet keeps
a times index beside each file instead (logtimes.py), which gives each line
the time it was written to within a second. ``read_log`` uses it for
``timestamps`` (each line prefixed with its time, as the kubelet does) and
``since`` (the lines written at or after it).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from kubelet.logtimes import format_timestamp, timed_lines, times_path

__all__ = [
    "DEFAULT_MAX_FILES",
    "DEFAULT_MAX_SIZE",
    "attempt_log",
    "log_files",
    "prune_attempts",
    "read_log",
    "rotate_if_needed",
]

DEFAULT_MAX_SIZE = 10 * 1024 * 1024  # Kubernetes' containerLogMaxSize 10Mi
DEFAULT_MAX_FILES = 5  # Kubernetes' containerLogMaxFiles
_ATTEMPT = re.compile(r"^(\d+)\.log(?:\.\d+)?(?:\.times)?$")


def attempt_log(container_dir: Path, attempt: int) -> Path:
    return container_dir / f"{attempt}.log"


def log_files(live: Path) -> list[Path]:
    """The files of one attempt, oldest first, the live file last."""
    rotated = []
    i = 1
    while (p := live.with_name(f"{live.name}.{i}")).exists():
        rotated.append(p)
        i += 1
    return [*reversed(rotated), live]


def rotate_if_needed(live: Path, *, max_size: int, max_files: int) -> bool:
    """Rotate ``live`` if it is over ``max_size`` bytes; True if it did.
    Blocking file I/O: call it in a thread."""
    try:
        if live.stat().st_size <= max_size:
            return False
    except FileNotFoundError:
        return False
    keep = max(max_files - 1, 1)
    oldest = live.with_name(f"{live.name}.{keep}")
    oldest.unlink(missing_ok=True)
    times_path(oldest).unlink(missing_ok=True)
    for i in range(keep - 1, 0, -1):
        src = live.with_name(f"{live.name}.{i}")
        dst = live.with_name(f"{live.name}.{i + 1}")
        for a, b in ((src, dst), (times_path(src), times_path(dst))):
            if a.exists():
                a.rename(b)
    first = live.with_name(f"{live.name}.1")
    shutil.copyfile(live, first)
    # The live file's index now describes .1; the live file starts a new one.
    if times_path(live).exists():
        times_path(live).rename(times_path(first))
    with open(live, "r+b") as f:
        f.truncate(0)
    return True


def prune_attempts(container_dir: Path, keep: Iterable[int]) -> None:
    """Remove the log files of attempts not in ``keep``."""
    wanted = set(keep)
    try:
        names = os.listdir(container_dir)
    except FileNotFoundError:
        return
    for name in names:
        m = _ATTEMPT.match(name)
        if m and int(m.group(1)) not in wanted:
            (container_dir / name).unlink(missing_ok=True)


def read_log(
    live: Path,
    *,
    tail_lines: int | None = None,
    limit_bytes: int | None = None,
    since: float | None = None,
    timestamps: bool = False,
) -> bytes:
    """The whole output of one attempt (rotated files included), or its
    last ``tail_lines`` lines; with ``since`` (a time.time()) only the
    lines of those written at or after it; with ``timestamps`` each line
    prefixed with its time and a space (as the kubelet, then the limit
    counts the prefixes too); cut to the first ``limit_bytes`` bytes.
    Blocking file I/O: call it in a thread."""
    if since is None and not timestamps:
        parts = []
        for p in log_files(live):
            try:
                parts.append(p.read_bytes())
            except FileNotFoundError:
                continue
        data = b"".join(parts)
        if tail_lines is not None:
            data = tail(data, tail_lines)
    else:
        lines = [line for p in log_files(live) for line in timed_lines(p)]
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines > 0 else []
        if since is not None:
            cutoff = int(since * 1e9)
            lines = [(t, line) for t, line in lines if t >= cutoff]
        if timestamps:
            data = b"".join(format_timestamp(t).encode() + b" " + line for t, line in lines)
        else:
            data = b"".join(line for _, line in lines)
    if limit_bytes is not None:
        data = data[:limit_bytes]
    return data


def tail(data: bytes, lines: int) -> bytes:
    """The last ``lines`` lines of ``data`` (a final line without newline counts)."""
    if lines <= 0:
        return b""
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    pos = end
    for _ in range(lines):
        pos = data.rfind(b"\n", 0, pos)
        if pos < 0:
            return data
    return data[pos + 1 :]
