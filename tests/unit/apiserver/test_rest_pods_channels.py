"""The remote command WebSocket protocol's framing and exit Status
(apiserver/rest/remotecommand.py), as kubectl and the Python client read it."""

from __future__ import annotations

import json

import pytest

from apiserver.rest import remotecommand as rc


@pytest.mark.parametrize(
    ("offered", "selected"),
    [
        (["v5.channel.k8s.io"], "v5.channel.k8s.io"),
        (["v4.channel.k8s.io"], "v4.channel.k8s.io"),
        (["v4.channel.k8s.io", "v5.channel.k8s.io"], "v5.channel.k8s.io"),
        (["channel.k8s.io", "base64.channel.k8s.io"], None),
        ([], None),
    ],
    ids=["kubectl-1.32", "python-client", "both-prefers-v5", "older-only", "none"],
)
def test_select_protocol(offered: list[str], selected: str | None) -> None:
    assert rc.select_protocol(offered) == selected


@pytest.mark.parametrize(
    ("data", "protocol", "expected"),
    [
        (b"\x00hello", rc.V5, rc.Incoming(rc.STDIN, b"hello")),
        (b"\x00", rc.V5, rc.Incoming(rc.STDIN, b"")),
        (b'\x04{"Width":80,"Height":24}', rc.V5, rc.Incoming(rc.RESIZE, b'{"Width":80,"Height":24}')),
        (b"\xff\x00", rc.V5, rc.Incoming(rc.STDIN, close=True)),
        (b"\xff\x00\x01", rc.V5, rc.Incoming(None)),
        (b"\xff", rc.V5, rc.Incoming(None)),
        (b"\xff\x00", rc.V4, rc.Incoming(255, b"\x00")),
        (b"", rc.V5, rc.Incoming(None)),
    ],
    ids=["stdin", "stdin-empty", "resize", "v5-close-stdin", "close-two-bytes",
         "close-no-channel", "v4-has-no-close", "empty"],
)  # fmt: skip
def test_parse_client_messages(data: bytes, protocol: str, expected: rc.Incoming) -> None:
    assert rc.parse(data, protocol) == expected


@pytest.mark.parametrize(
    ("channel", "payload", "wire"),
    [(rc.STDOUT, b"out", b"\x01out"), (rc.STDERR, b"", b"\x02"), (rc.ERROR, b"{}", b"\x03{}")],
    ids=["stdout", "empty-stderr", "error"],
)
def test_message_is_channel_byte_then_payload(channel: int, payload: bytes, wire: bytes) -> None:
    assert rc.message(channel, payload) == wire


def test_exit_zero_is_success() -> None:
    assert json.loads(rc.exit_status(0, ["true"])) == {"metadata": {}, "status": "Success"}


def test_non_zero_exit_carries_the_code_as_exitcode_cause() -> None:
    status = json.loads(rc.exit_status(3, ["sh", "-c", "exit 3"]))
    assert status["status"] == "Failure"
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert status["message"].endswith("[sh -c exit 3], exit code 3")


def test_failure_to_run_is_an_internal_error_without_exit_code() -> None:
    status = json.loads(rc.failure_status("exec 'nope': No such file"))
    assert (status["status"], status["reason"], status["code"]) == ("Failure", "InternalError", 500)
    assert "details" not in status
