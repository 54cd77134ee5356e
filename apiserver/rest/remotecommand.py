"""Kubernetes' remote command WebSocket protocol (pods/exec), pure.

Two subprotocols are spoken (apimachinery ``util/remotecommand``; the
server's side of ``wsstream``):

* ``v5.channel.k8s.io``, the only one kubectl 1.32 offers, and
* ``v4.channel.k8s.io``, the one the official Python client offers.

Every WebSocket message is binary: its first byte is the channel, the rest
the payload. 0 stdin (client → server), 1 stdout, 2 stderr, 3 error (one
``Status`` JSON at the end, then the server closes), 4 resize
(``{"Width":…,"Height":…}``, client → server). v5 adds 255 CLOSE:
``[255, id]`` half-closes channel ``id`` (the client sends ``[255, 0]`` at
the end of its stdin). A v4 client cannot end stdin but by closing.

Right after the handshake the server writes an empty message on the lowest
channel it writes (stdout, else stderr, else error), as the kubelet does,
so the client knows the streams are up. Only channels the client asked for
carry data: kubectl fails on a message for a stream it did not open.

The exit status (channel 3): ``{"status":"Success"}`` for 0; otherwise a
Failure with reason ``NonZeroExitCode`` and the code as the message of a
cause of type ``ExitCode`` (kubectl exits with it, the Python client reads
it as ``returncode``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CLOSE",
    "ERROR",
    "PROTOCOLS",
    "RESIZE",
    "STDERR",
    "STDIN",
    "STDOUT",
    "Incoming",
    "exit_status",
    "failure_status",
    "message",
    "parse",
    "select_protocol",
]

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)  # the server's preference order
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def select_protocol(offered: list[str]) -> str | None:
    """The subprotocol to answer with, of those the client offered (None: none fits)."""
    wanted = {p.strip() for p in offered}
    return next((p for p in PROTOCOLS if p in wanted), None)


def message(channel: int, payload: bytes = b"") -> bytes:
    """One WebSocket message for ``channel``."""
    return bytes((channel,)) + payload


@dataclass(frozen=True)
class Incoming:
    """What one client message means: data for ``channel``, or (``close``)
    the end of the client's ``channel``; ``channel`` None: nothing to do."""

    channel: int | None
    data: bytes = b""
    close: bool = False


def parse(data: bytes, protocol: str) -> Incoming:
    """A binary message from the client. A CLOSE needs v5 and exactly one
    channel byte; anything malformed is ignored, as wsstream does."""
    if not data:
        return Incoming(None)
    if data[0] == CLOSE and protocol == V5:
        if len(data) != 2:
            return Incoming(None)
        return Incoming(data[1], close=True)
    return Incoming(data[0], data[1:])


def _status(body: dict[str, Any]) -> bytes:
    return json.dumps({"metadata": {}, **body}, separators=(",", ":")).encode()


def exit_status(code: int, command: list[str]) -> bytes:
    """The channel-3 Status of a command that exited with ``code``."""
    if code == 0:
        return _status({"status": "Success"})
    return _status(
        {
            "status": "Failure",
            "message": (
                "command terminated with non-zero exit code: error executing command "
                f"[{' '.join(command)}], exit code {code}"
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
        }
    )


def failure_status(text: str) -> bytes:
    """The channel-3 Status of a command that could not run at all."""
    return _status({"status": "Failure", "message": text, "reason": "InternalError", "code": 500})
