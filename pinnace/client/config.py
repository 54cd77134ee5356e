"""Where the API server is: flag, then $PINNACE_SERVER, then the config file.

The config file ($PINNACE_CONFIG, default ~/.pinnace/config.json) is written
by ``pinnace up``: ``{"server": "127.0.0.1:6443"}``. A server may be a
comma-separated list of apiserver endpoints; the client fails over between
them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_SERVER = "127.0.0.1:6443"


def config_path() -> Path:
    return Path(os.environ.get("PINNACE_CONFIG", Path.home() / ".pinnace" / "config.json"))


def resolve_server(explicit: str | list[str] | None = None) -> list[str]:
    """The apiserver endpoints to use, as a list of host:port."""
    if explicit:
        value = explicit if isinstance(explicit, str) else ",".join(explicit)
    elif os.environ.get("PINNACE_SERVER"):
        value = os.environ["PINNACE_SERVER"]
    else:
        value = DEFAULT_SERVER
        path = config_path()
        if path.exists():
            try:
                value = json.loads(path.read_text()).get("server") or DEFAULT_SERVER
            except (OSError, ValueError):
                value = DEFAULT_SERVER
    return [_strip_scheme(v.strip()) for v in value.split(",") if v.strip()]


def write_config(server: str, path: Path | None = None) -> Path:
    """Record the server for later CLI calls."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"server": server}) + "\n")
    return path


def _strip_scheme(endpoint: str) -> str:
    for scheme in ("grpc://", "http://", "https://"):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme) :]
    return endpoint
