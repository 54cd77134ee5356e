"""kubelet.logs: copy-and-truncate rotation, reading, tails, pruning."""

from __future__ import annotations

from pathlib import Path

from kubelet.logs import log_files, prune_attempts, read_log, rotate_if_needed, tail


def test_rotation_keeps_max_files_and_the_writer_appends(tmp_path: Path) -> None:
    live = tmp_path / "0.log"
    with open(live, "ab") as writer:  # the container's O_APPEND stdout
        for i in range(5):
            writer.write(f"chunk {i}\n".encode() * 10)
            writer.flush()
            assert rotate_if_needed(live, max_size=50, max_files=3)
        writer.write(b"after\n")
        writer.flush()
    assert [p.name for p in log_files(live)] == ["0.log.2", "0.log.1", "0.log"]
    assert live.read_bytes() == b"after\n"  # appended at the new end, no hole
    data = read_log(live)
    assert data.startswith(b"chunk 3\n") and data.endswith(b"chunk 4\nafter\n")
    assert not rotate_if_needed(live, max_size=50, max_files=3)


def test_read_log_tail_and_limit(tmp_path: Path) -> None:
    live = tmp_path / "1.log"
    live.write_bytes(b"a\nb\nc\n")
    assert read_log(live, tail_lines=2) == b"b\nc\n"
    assert read_log(live, limit_bytes=3) == b"a\nb"
    assert read_log(tmp_path / "missing.log") == b""


def test_tail() -> None:
    assert tail(b"a\nb\nc", 1) == b"c"
    assert tail(b"a\nb\n", 5) == b"a\nb\n"
    assert tail(b"a\nb\n", 0) == b""


def test_prune_attempts(tmp_path: Path) -> None:
    for name in ("0.log", "0.log.1", "1.log", "2.log", "2.log.1", "other"):
        (tmp_path / name).write_text("x")
    prune_attempts(tmp_path, (2, 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.log", "2.log", "2.log.1", "other"]
