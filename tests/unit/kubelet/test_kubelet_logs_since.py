"""read_log's ``since`` (the kubelet's sinceSeconds) on files without a
times index (written while no kubelet sampled them): each line has its
file's last write time, so whole files are kept or dropped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubelet.logs import read_log


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        (None, b"old\nnew\n"),
        (1000.0, b"old\nnew\n"),
        (1500.0, b"new\n"),
        (2000.0, b"new\n"),
        (2500.0, b""),
    ],
    ids=["no-since", "before-both", "between", "at-the-live-write", "after-both"],
)
def test_since_keeps_files_written_since(
    tmp_path: Path, since: float | None, expected: bytes
) -> None:
    live = tmp_path / "0.log"
    rotated = tmp_path / "0.log.1"
    rotated.write_bytes(b"old\n")
    live.write_bytes(b"new\n")
    os.utime(rotated, (1000.0, 1000.0))
    os.utime(live, (2000.0, 2000.0))
    assert read_log(live, since=since) == expected
