"""Serve Prometheus' /metrics over HTTP for any component, and the
``/debug/caches`` page beside it (what the process's informer caches hold,
cachedigest.py; ``?items=1`` lists the keys and resourceVersions)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from pinnace.machinery import cachedigest

log = logging.getLogger(__name__)

CACHES_PATH = "/debug/caches"

StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No line per request in the component's log."""


def _app() -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != CACHES_PATH:
            return metrics(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        items = query.get("items", ["0"])[0] not in ("", "0", "false")
        body = json.dumps({"caches": cachedigest.report(items=items)}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return app


def serve_metrics(listen: str) -> int | None:
    """Start /metrics and /debug/caches on "host:port" in a background
    thread (port 0 picks a free one); "" disables it. Returns the port."""
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    server = make_server(
        host or "127.0.0.1",
        int(port),
        _app(),
        ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    bound = server.server_address[1]
    log.info("serving metrics on http://%s:%d/metrics", host or "127.0.0.1", bound)
    return bound
