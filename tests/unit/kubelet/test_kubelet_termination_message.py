"""kubelet.podworker.report.add_termination_message: FallbackToLogsOnError."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.podworker.report import TERMINATION_MESSAGE_MAX, add_termination_message
from kubelet.runtime import Exit, Instance
from pinnace.api.core.v1 import container_pb2


@pytest.mark.parametrize(
    ("policy", "code", "message", "log", "want"),
    [
        pytest.param("FallbackToLogsOnError", 1, "", b"a\nboom\n", "a\nboom\n", id="fallback"),
        pytest.param("FallbackToLogsOnError", 0, "", b"fine\n", "", id="success-no-message"),
        pytest.param("FallbackToLogsOnError", 2, "own", b"log\n", "own", id="own-message-wins"),
        pytest.param("File", 1, "", b"boom\n", "", id="policy-file"),
        pytest.param("FallbackToLogsOnError", 1, "", None, "", id="no-log-file"),
        pytest.param(
            "FallbackToLogsOnError",
            1,
            "",
            b"x" * (TERMINATION_MESSAGE_MAX + 10),
            "x" * TERMINATION_MESSAGE_MAX,
            id="cut-to-the-last-4096-bytes",
        ),
    ],
)
def test_add_termination_message(
    tmp_path: Path, policy: str, code: int, message: str, log: bytes | None, want: str
) -> None:
    log_path = tmp_path / "0.log"
    if log is not None:
        log_path.write_bytes(log)
    inst = Instance(
        state_dir=tmp_path,
        attempt=0,
        started_at="2024-01-01T00:00:00Z",
        container_id="pinnace://x",
        log_path=log_path,
        exit=Exit(code, "2024-01-01T00:00:01Z", message=message),
    )
    add_termination_message(container_pb2.Container(termination_message_policy=policy), inst)
    assert inst.exit is not None and inst.exit.message == want


def test_running_or_missing_instance_is_left_alone(tmp_path: Path) -> None:
    inst = Instance(state_dir=tmp_path, attempt=0, started_at="", container_id="")
    add_termination_message(container_pb2.Container(), inst)
    add_termination_message(container_pb2.Container(), None)
    assert inst.exit is None
