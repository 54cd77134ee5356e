"""Serve Prometheus' /metrics over HTTP for any component."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

log = logging.getLogger(__name__)


def serve_metrics(listen: str) -> int | None:
    """Start /metrics on "host:port" in a background thread (port 0 picks a
    free one); "" disables it. Returns the port."""
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    server, _thread = start_http_server(int(port), addr=host or "127.0.0.1")
    bound = server.server_address[1]
    log.info("serving metrics on http://%s:%d/metrics", host or "127.0.0.1", bound)
    return bound
