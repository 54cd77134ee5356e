"""The port-forward stream, both ends: the protocol's names and the byte relay.

``pinnace port-forward`` (pinnace/cli/forwarder.py) sends one
``POST /portForward/<namespace>/<pod>?port=P`` per local connection with
``Connection: Upgrade`` and ``Upgrade: UPGRADE``; the kubelet
(kubelet/server.py) answers ``200`` with ``Content-Type: CONTENT_TYPE``
and the same ``Upgrade``, and from the blank line on the connection is a
raw byte stream to the pod's port. Each side then joins its two
connections with ``relay``: bytes copied both ways, an end of stream
passed on as a shutdown for writing (so a client that half-closes still
gets the pod's whole answer), a reset on either side ending both.

TLS has no half-close: on a secure cluster the CLI-kubelet hop is TLS, so
the kubelet ends that connection when the pod's side ends
(``close_a_on_b_end``), and a client's half-close is not passed on past
the CLI (the pod's answer still comes back whole).

``CONNECT_TIMEOUT`` bounds each hop's connect: the CLI's to the kubelet,
the kubelet's to the pod.
"""

from __future__ import annotations

import asyncio

__all__ = ["CHUNK", "CONNECT_TIMEOUT", "CONTENT_TYPE", "UPGRADE", "relay"]

CHUNK = 64 * 1024
CONNECT_TIMEOUT = 10.0
CONTENT_TYPE = "application/vnd.pinnace.port-forward"
UPGRADE = "pinnace-port-forward"


async def relay(
    a_reader: asyncio.StreamReader,
    a_writer: asyncio.StreamWriter,
    b_reader: asyncio.StreamReader,
    b_writer: asyncio.StreamWriter,
    *,
    close_a_on_b_end: bool = False,
) -> None:
    """Copy bytes a -> b and b -> a until both directions ended; an end of
    stream is passed on as a shutdown for writing where the connection can
    half-close (TCP; not TLS). ``close_a_on_b_end``: when b's stream ends
    and a cannot half-close, close a (its peer sees the end). A reset on
    either side ends both directions. The caller closes both connections."""

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, close: bool) -> None:
        while chunk := await src.read(CHUNK):
            dst.write(chunk)
            await dst.drain()
        if dst.is_closing():
            return
        if dst.can_write_eof():
            dst.write_eof()
        elif close:
            dst.close()

    tasks = [
        asyncio.create_task(pump(a_reader, b_writer, False)),
        asyncio.create_task(pump(b_reader, a_writer, close_a_on_b_end)),
    ]
    try:
        for done in asyncio.as_completed(tasks):
            try:
                await done
            except OSError:  # ConnectionError included
                return
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
