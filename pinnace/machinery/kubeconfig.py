"""Kubeconfig files, in Kubernetes' format (client-go ``clientcmd/api/v1``),
so kubectl and the official clients reach a Pinnace cluster's HTTP API.

One cluster, one user and one context joining them, all named after the
cluster; the context is current. Certificates are embedded (the ``*-data``
fields, base64 of the PEM), so the file works wherever it is copied to and
does not break when the PKI directory moves. It holds a private key, so it
is written 0600 (kubectl writes its own files so too).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from pinnace.machinery.pki import KEY_MODE, write_file

__all__ = ["DEFAULT_NAME", "kubeconfig", "write_kubeconfig"]

DEFAULT_NAME = "pinnace"


def kubeconfig(
    *,
    server: str,
    ca_pem: bytes,
    client_cert_pem: bytes | None = None,
    client_key_pem: bytes | None = None,
    name: str = DEFAULT_NAME,
    user: str | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """A kubeconfig document for `server` (``https://host:port``) whose
    certificate is signed by the CA in `ca_pem`, as user `user` (default
    ``<name>-admin``) with the given client certificate, if any."""
    user = user or f"{name}-admin"
    credentials: dict[str, str] = {}
    if client_cert_pem is not None and client_key_pem is not None:
        credentials["client-certificate-data"] = _b64(client_cert_pem)
        credentials["client-key-data"] = _b64(client_key_pem)
    context: dict[str, str] = {"cluster": name, "user": user}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": name,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": name, "context": context}],
        "current-context": name,
    }


def write_kubeconfig(path: Path, config: dict[str, Any]) -> Path:
    """Write `config` to `path` as YAML, mode 0600, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    write_file(path, text.encode(), KEY_MODE)
    return path


def _b64(pem: bytes) -> str:
    return base64.b64encode(pem).decode("ascii")
