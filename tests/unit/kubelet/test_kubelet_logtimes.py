"""Per-line log times (kubelet/logtimes.py): the times index, how it moves
when a log rotates, and read_log's timestamps and per-line since."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubelet.logs import read_log, rotate_if_needed
from kubelet.logtimes import LineStamper, LogTimes, format_timestamp, timed_lines, times_path

S = 1_000_000_000  # ns per second


def _write(path: Path, data: bytes, at: float) -> None:
    with open(path, "ab") as f:
        f.write(data)
    os.utime(path, (at, at))


def test_each_line_gets_the_time_of_the_first_sample_that_saw_it(tmp_path: Path) -> None:
    live = tmp_path / "0.log"
    times = LogTimes()
    _write(live, b"a\nb\n", 1000.0)
    times.sample([live])
    _write(live, b"c\nd", 1001.5)  # "d" has no newline yet
    times.sample([live])
    times.sample([live])  # no growth: no entry
    _write(live, b"\ne\n", 1003.0)  # after the last sample: the file's mtime
    assert times_path(live).read_text() == f"4 {1000 * S}\n7 {int(1001.5 * S)}\n"
    assert timed_lines(live) == [
        (1000 * S, b"a\n"),
        (1000 * S, b"b\n"),
        (int(1001.5 * S), b"c\n"),
        (1003 * S, b"d\n"),  # its last byte came after the second sample
        (1003 * S, b"e\n"),
    ]


def test_a_new_sampler_continues_the_index_on_disk(tmp_path: Path) -> None:
    """After a kubelet restart, the index is not written twice for the same size."""
    live = tmp_path / "0.log"
    _write(live, b"a\n", 1000.0)
    LogTimes().sample([live])
    LogTimes().sample([live])
    _write(live, b"b\n", 1002.0)
    LogTimes().sample([live])
    assert times_path(live).read_text() == f"2 {1000 * S}\n4 {1002 * S}\n"


def test_rotation_moves_the_index_with_the_lines(tmp_path: Path) -> None:
    live = tmp_path / "0.log"
    times = LogTimes()
    _write(live, b"x" * 30 + b"\n", 1000.0)
    times.sample([live])
    _write(live, b"y" * 30 + b"\n", 1001.0)
    times.sample([live])
    assert rotate_if_needed(live, max_size=50, max_files=3)
    assert not times_path(live).exists()
    _write(live, b"z\n", 1005.0)
    times.sample([live])  # the live file shrank: a new index begins
    assert times_path(live).read_text() == f"2 {1005 * S}\n"
    first = tmp_path / "0.log.1"
    assert [t for t, _ in timed_lines(first)] == [1000 * S, 1001 * S]
    # Rotating again shifts both the file and its index to .2.
    _write(live, b"w" * 60 + b"\n", 1006.0)
    times.sample([live])
    assert rotate_if_needed(live, max_size=50, max_files=3)
    second = tmp_path / "0.log.2"
    assert [t for t, _ in timed_lines(second)] == [1000 * S, 1001 * S]
    assert [t for t, _ in timed_lines(first)] == [1005 * S, 1006 * S]


def _two_files(tmp_path: Path) -> Path:
    live = tmp_path / "0.log"
    times = LogTimes()
    _write(live, b"one\ntwo\n", 1000.0)
    times.sample([live])
    _write(live, b"three\n", 1010.0)
    times.sample([live])
    assert rotate_if_needed(live, max_size=5, max_files=3)
    _write(live, b"four\n", 1020.0)
    times.sample([live])
    return live


def test_timestamps_prefix_each_line_across_rotated_files(tmp_path: Path) -> None:
    live = _two_files(tmp_path)
    assert read_log(live, timestamps=True) == (
        b"1970-01-01T00:16:40Z one\n"
        b"1970-01-01T00:16:40Z two\n"
        b"1970-01-01T00:16:50Z three\n"
        b"1970-01-01T00:17:00Z four\n"
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"since": 1005.0}, b"three\nfour\n"),
        ({"since": 1010.0}, b"three\nfour\n"),
        ({"since": 1010.5}, b"four\n"),
        ({"tail_lines": 3, "since": 1015.0}, b"four\n"),  # tail first, then since
        ({"tail_lines": 2}, b"three\nfour\n"),
        ({"tail_lines": 0, "timestamps": True}, b""),
        ({"since": 1015.0, "timestamps": True}, b"1970-01-01T00:17:00Z four\n"),
        ({"timestamps": True, "limit_bytes": 25}, b"1970-01-01T00:16:40Z one\n"),
    ],
    ids=[
        "since-between-samples",
        "since-at-a-sample",
        "since-after-a-sample",
        "tail-then-since",
        "tail-only",
        "tail-zero",
        "since-and-timestamps",
        "limit-counts-the-prefix",
    ],
)
def test_since_keeps_lines_written_since(tmp_path: Path, options: dict, expected: bytes) -> None:
    assert read_log(_two_files(tmp_path), **options) == expected


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1_764_770_645_123_456_789, "2025-12-03T14:04:05.123456789Z"),
        (1_764_770_645_120_000_000, "2025-12-03T14:04:05.12Z"),
    ],
)
def test_format_timestamp_is_go_rfc3339nano(ns: int, text: str) -> None:
    assert format_timestamp(ns) == text


def test_a_torn_or_garbled_index_line_is_skipped(tmp_path: Path) -> None:
    live = tmp_path / "0.log"
    _write(live, b"a\nb\n", 1005.0)
    times_path(live).write_text(f"2 {1000 * S}\nnot a line\n3 {1001 * S}\n4 10")
    # "4 10" (torn: its time cut short) is still two numbers: times never go back.
    assert [t for t, _ in timed_lines(live)] == [1000 * S, 1001 * S]


def test_a_followed_line_is_stamped_once_it_is_complete() -> None:
    stamper = LineStamper()
    assert stamper.feed(b"a\nb", 1000 * S) == b"1970-01-01T00:16:40Z a\n"
    assert stamper.feed(b"c", 1001 * S) == b""
    assert stamper.feed(b"\nd\n", 1002 * S) == (
        b"1970-01-01T00:16:42Z bc\n1970-01-01T00:16:42Z d\n"
    )
    assert stamper.feed(b"end", 1003 * S) == b""
    assert stamper.flush(1004 * S) == b"1970-01-01T00:16:44Z end"
    assert stamper.flush(1005 * S) == b""
