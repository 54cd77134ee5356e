"""The exec stream between the kubelet and its clients.

A response body is a sequence of frames ``<channel: 1 byte><length: 4 bytes
big-endian><payload>``: channel 1 stdout, 2 stderr, 3 the final status as
JSON ``{"exitCode": N}`` (always the last frame). The channel numbers are
Kubernetes' remotecommand channels.
"""

from __future__ import annotations

import struct

STDOUT, STDERR, STATUS = 1, 2, 3
_HEADER = struct.Struct(">BI")


def frame(channel: int, payload: bytes) -> bytes:
    """One frame."""
    return _HEADER.pack(channel, len(payload)) + payload


class FrameReader:
    """Incremental parser: feed bytes as they arrive, get whole frames."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        out = []
        while len(self._buf) >= _HEADER.size:
            channel, length = _HEADER.unpack_from(self._buf)
            end = _HEADER.size + length
            if len(self._buf) < end:
                break
            out.append((channel, bytes(self._buf[_HEADER.size : end])))
            del self._buf[:end]
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still buffered."""
        return len(self._buf)
