"""When each line of a container log was written, without sitting in its path.

A container writes its log file itself (logs.py), so no process stamps its
lines as they pass, the way a CRI runtime's shim does. Instead the kubelet
samples every running container's live log every ``--container-log-times-
period`` (1 s): when the file has grown, it appends ``<size> <mtime in ns>``
to the file's *times index* ``<log file>.times``. The file's mtime is the
time of its last write, so every byte up to ``size`` was written at or
before it, and after the previous entry's time.

A line's time is the time of the first entry whose size covers its last
byte: exact for the last line written before a sample, at most one period
late for the lines before it. Lines written after the last entry (the
container exited, or the kubelet was down, before the next sample) get the
file's mtime. The index lives beside the log and moves with it when the log
rotates (``logs.rotate_if_needed``), so it survives kubelet restarts.

``timed_lines`` gives (time in ns, line) for one file; ``logs.read_log``
uses it for ``timestamps=true`` and to keep only the lines written since
``sinceSeconds``. ``format_timestamp`` prints a time as the kubelet prefixes
a line: RFC 3339 with nanoseconds, trailing zeros dropped (Go's
RFC3339Nano).
"""

from __future__ import annotations

import bisect
import os
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "TIMES_SUFFIX",
    "LineStamper",
    "LogTimes",
    "format_timestamp",
    "timed_lines",
    "times_path",
]

TIMES_SUFFIX = ".times"


def times_path(log: Path) -> Path:
    """The times index of one log file (live or rotated)."""
    return log.with_name(log.name + TIMES_SUFFIX)


class LogTimes:
    """Samples live log files into their times indexes (blocking file I/O:
    call ``sample`` in a thread). Remembers each file's last indexed size."""

    def __init__(self) -> None:
        self._indexed: dict[Path, int] = {}

    def sample(self, logs: list[Path]) -> None:
        """Index the growth of each of ``logs`` since the last sample."""
        for log in logs:
            try:
                st = os.stat(log)
            except FileNotFoundError:
                continue
            last = self._indexed.get(log)
            if last is None:
                last = _last_indexed_size(times_path(log))
            if st.st_size < last:  # rotated (copy-and-truncate): a new index began
                last = 0
            if st.st_size > last:
                with open(times_path(log), "a") as f:
                    f.write(f"{st.st_size} {st.st_mtime_ns}\n")
            self._indexed[log] = st.st_size
        for gone in self._indexed.keys() - set(logs):
            del self._indexed[gone]


def timed_lines(log: Path) -> list[tuple[int, bytes]]:
    """Each line of ``log`` (its newline kept) with the time it was
    written, in ns since the epoch. [] if the file is gone."""
    try:
        data = log.read_bytes()
        mtime = os.stat(log).st_mtime_ns
    except FileNotFoundError:
        return []
    sizes, times = _read_index(times_path(log))
    out = []
    start = 0
    while start < len(data):
        nl = data.find(b"\n", start)
        end = len(data) if nl < 0 else nl + 1
        # The first sample that had this line's last byte in the file.
        i = bisect.bisect_left(sizes, end)
        out.append((times[i] if i < len(times) else mtime, data[start:end]))
        start = end
    return out


class LineStamper:
    """Prefixes the lines of a followed log with the time they were read;
    a line still without its newline waits for the rest of it."""

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, chunk: bytes, now_ns: int) -> bytes:
        """The complete lines that ``chunk`` ends, each prefixed."""
        data = self._partial + chunk
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        return _stamp(data[:cut], now_ns)

    def flush(self, now_ns: int) -> bytes:
        """The last line, which never got its newline (the output ended)."""
        rest, self._partial = self._partial, b""
        return _stamp(rest, now_ns)


def _stamp(lines: bytes, now_ns: int) -> bytes:
    if not lines:
        return b""
    prefix = format_timestamp(now_ns).encode() + b" "
    return b"".join(prefix + line for line in lines.splitlines(keepends=True))


def format_timestamp(ns: int) -> str:
    """``2026-12-03T15:04:05.123456789Z``: RFC 3339, nanoseconds, trailing zeros dropped."""
    seconds, frac = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0")
    return f"{text}.{digits}Z" if digits else f"{text}Z"


def _read_index(path: Path) -> tuple[list[int], list[int]]:
    """(sizes, times) of an index, sizes increasing; a torn last line is skipped."""
    sizes: list[int] = []
    times: list[int] = []
    try:
        text = path.read_text()
    except FileNotFoundError:
        return sizes, times
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 2 or not (parts[0].isdigit() and parts[1].isdigit()):
            continue
        size, when = int(parts[0]), int(parts[1])
        if sizes and size <= sizes[-1]:
            continue
        sizes.append(size)
        times.append(max(when, times[-1]) if times else when)
    return sizes, times


def _last_indexed_size(path: Path) -> int:
    sizes, _ = _read_index(path)
    return sizes[-1] if sizes else 0
