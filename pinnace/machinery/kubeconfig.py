"""Kubeconfig files, in Kubernetes' format (client-go ``clientcmd/api/v1``),
so kubectl and the official clients reach a Pinnace cluster's HTTP API.

One cluster, one user and one context joining them, all named after the
cluster; the context is current. Certificates are embedded (the ``*-data``
fields, base64 of the PEM), so the file works wherever it is copied to and
does not break when the PKI directory moves. It holds a private key, so it
is written 0600 (kubectl writes its own files so too).

The cluster entry also names the apiserver's gRPC endpoint (where the
Pinnace CLI, SDK and components connect) in an extension kubectl ignores::

    extensions:
    - name: pinnace.io/grpc
      extension: {server: 127.0.0.1:6443}

``load_kubeconfig`` reads a context back (the current one by default):
the servers, the CA, and the user's client certificate and key or token,
from the embedded ``*-data`` fields or the files they name (relative to
the kubeconfig's folder, as kubectl resolves them).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pinnace.machinery.pki import KEY_MODE, ClusterPKI, PairPaths, write_file

__all__ = [
    "DEFAULT_NAME",
    "GRPC_EXTENSION",
    "KubeContext",
    "KubeconfigError",
    "kubeconfig",
    "load_kubeconfig",
    "write_identity_kubeconfig",
    "write_kubeconfig",
]

DEFAULT_NAME = "pinnace"
GRPC_EXTENSION = "pinnace.io/grpc"


class KubeconfigError(ValueError):
    """The kubeconfig cannot be used (the file, the context and why)."""


@dataclass(frozen=True)
class KubeContext:
    """What one context of a kubeconfig says about reaching its cluster."""

    name: str
    server: str  # the HTTP API, https://host:port
    grpc_server: str  # the gRPC endpoints (host:port, comma-separated); "" if not named
    ca_pem: bytes | None
    cert_pem: bytes | None
    key_pem: bytes | None
    token: str | None
    namespace: str = ""


def kubeconfig(
    *,
    server: str,
    ca_pem: bytes,
    client_cert_pem: bytes | None = None,
    client_key_pem: bytes | None = None,
    name: str = DEFAULT_NAME,
    user: str | None = None,
    namespace: str | None = None,
    grpc_server: str = "",
    token: str | None = None,
) -> dict[str, Any]:
    """A kubeconfig document for `server` (``https://host:port``) whose
    certificate is signed by the CA in `ca_pem`, as user `user` (default
    ``<name>-admin``) with the given client certificate or token, if any;
    `grpc_server` is the apiserver's gRPC endpoint, for Pinnace's clients."""
    user = user or f"{name}-admin"
    credentials: dict[str, str] = {}
    if client_cert_pem is not None and client_key_pem is not None:
        credentials["client-certificate-data"] = _b64(client_cert_pem)
        credentials["client-key-data"] = _b64(client_key_pem)
    if token is not None:
        credentials["token"] = token
    context: dict[str, str] = {"cluster": name, "user": user}
    if namespace:
        context["namespace"] = namespace
    cluster: dict[str, Any] = {"server": server, "certificate-authority-data": _b64(ca_pem)}
    if grpc_server:
        cluster["extensions"] = [{"name": GRPC_EXTENSION, "extension": {"server": grpc_server}}]
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": cluster}],
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


def load_kubeconfig(path: Path, context: str | None = None) -> KubeContext:
    """The named (default: current) context of the kubeconfig at `path`."""
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise KubeconfigError(f"kubeconfig {path}: cannot read it: {e}") from None
    if not isinstance(doc, dict):
        raise KubeconfigError(f"kubeconfig {path}: not a kubeconfig (expected a mapping)")
    name = context or doc.get("current-context") or ""
    if not name:
        raise KubeconfigError(f"kubeconfig {path}: no current-context and no context asked for")
    ctx = _named(doc, "contexts", name, path).get("context") or {}
    cluster = _named(doc, "clusters", ctx.get("cluster", ""), path).get("cluster") or {}
    user: dict[str, Any] = {}
    if ctx.get("user"):
        user = _named(doc, "users", ctx["user"], path).get("user") or {}
    base = path.parent
    grpc = ""
    for ext in cluster.get("extensions") or []:
        if isinstance(ext, dict) and ext.get("name") == GRPC_EXTENSION:
            grpc = str((ext.get("extension") or {}).get("server", ""))
    token = user.get("token")
    if token is None and user.get("tokenFile"):
        token = _read(base, user["tokenFile"], path, "tokenFile").decode().strip()
    return KubeContext(
        name=name,
        server=str(cluster.get("server", "")),
        grpc_server=grpc,
        ca_pem=_pem(cluster, "certificate-authority", base, path),
        cert_pem=_pem(user, "client-certificate", base, path),
        key_pem=_pem(user, "client-key", base, path),
        token=str(token) if token is not None else None,
        namespace=str(ctx.get("namespace", "")),
    )


def _named(doc: dict[str, Any], section: str, name: str, path: Path) -> dict[str, Any]:
    for entry in doc.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    raise KubeconfigError(f'kubeconfig {path}: no {section[:-1]} named "{name}"')


def _pem(entry: dict[str, Any], field: str, base: Path, path: Path) -> bytes | None:
    """The PEM of `field`-data (base64) or of the file `field` names."""
    data = entry.get(f"{field}-data")
    if data:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise KubeconfigError(f"kubeconfig {path}: {field}-data is not base64") from None
    if entry.get(field):
        return _read(base, entry[field], path, field)
    return None


def _read(base: Path, name: str, path: Path, field: str) -> bytes:
    try:
        return (base / name).read_bytes()
    except OSError as e:
        raise KubeconfigError(f"kubeconfig {path}: {field} {name}: {e.strerror}") from None


def write_identity_kubeconfig(
    path: Path, pki: ClusterPKI, pair: PairPaths, *, server: str, grpc_server: str
) -> Path:
    """A kubeconfig at `path` for the identity of `pair` (a client pair of
    the cluster PKI `pki`), to reach the HTTP API at `server` and gRPC at
    `grpc_server`."""
    config = kubeconfig(
        server=server,
        grpc_server=grpc_server,
        ca_pem=pki.ca.cert.read_bytes(),
        client_cert_pem=pair.cert.read_bytes(),
        client_key_pem=pair.key.read_bytes(),
    )
    return write_kubeconfig(path, config)
