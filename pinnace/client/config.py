"""Where the API server is and how to prove who we are to it.

``ClientConfig`` is one connection's settings: the apiserver's gRPC
endpoints (several: the client fails over between them), and, for a
secure cluster, the CA that signed its serving certificate and our client
certificate and key or bearer token. ``load_config`` finds them:

* the endpoints: the ``server`` argument (a flag), else ``$PINNACE_SERVER``,
  else the kubeconfig's gRPC endpoint, else the ``server`` of the config
  file, else 127.0.0.1:6443;
* the credentials: from a kubeconfig, as kubectl finds it: the
  ``kubeconfig`` argument (``--kubeconfig``), else ``$KUBECONFIG`` (its
  first file), else the kubeconfig the config file names; its current
  context unless ``context`` names one. An explicit ``server`` with no
  explicit kubeconfig connects without credentials (plain gRPC), as the
  SDK always did: ``load_config(server, kubeconfig=...)`` to combine them.

The config file ($PINNACE_CONFIG, default ~/.pinnace/config.json) is written
by ``pinnace up``: ``{"server": "127.0.0.1:6443", "kubeconfig": "<data-dir>/kubeconfig"}``.
"""

from __future__ import annotations

import json
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from pinnace.machinery.kubeconfig import KubeconfigError, load_kubeconfig
from pinnace.machinery.tlsclient import client_ssl_context

__all__ = [
    "DEFAULT_SERVER",
    "SERVER_NAME",
    "ClientConfig",
    "KubeconfigError",
    "config_path",
    "default_kubeconfig",
    "load_config",
    "resolve_server",
    "write_config",
]

DEFAULT_SERVER = "127.0.0.1:6443"
# The name every apiserver serving certificate carries (pki.APISERVER_DNS_NAMES):
# what TLS checks when the client spreads over several endpoints.
SERVER_NAME = "kubernetes"


@dataclass(frozen=True)
class ClientConfig:
    """One connection's endpoints and credentials (no CA: plain gRPC)."""

    servers: tuple[str, ...]
    ca_pem: bytes | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = None
    token: str | None = None
    namespace: str = ""
    # Act as this user (and groups), if our identity may impersonate them.
    impersonate_user: str = ""
    impersonate_groups: tuple[str, ...] = ()

    @property
    def secure(self) -> bool:
        return self.ca_pem is not None

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        """TLS (with our certificate, if any) and the bearer token on every
        call; None for a plain connection."""
        if self.ca_pem is None:
            return None
        tls = grpc.ssl_channel_credentials(
            root_certificates=self.ca_pem,
            private_key=self.key_pem if self.cert_pem else None,
            certificate_chain=self.cert_pem if self.key_pem else None,
        )
        if self.token is None:
            return tls
        return grpc.composite_channel_credentials(
            tls, grpc.access_token_call_credentials(self.token)
        )

    def call_metadata(self) -> tuple[tuple[str, str], ...]:
        """The metadata every call carries: impersonation, if any."""
        if not self.impersonate_user:
            return ()
        groups = tuple(("impersonate-group", g) for g in self.impersonate_groups)
        return (("impersonate-user", self.impersonate_user), *groups)

    def kubelet_tls(self) -> ssl.SSLContext | None:
        """TLS toward a kubelet's endpoint with our certificate (None: plain,
        for a cluster without a CA). The chain is checked, not the address."""
        if self.ca_pem is None:
            return None
        return client_ssl_context(self.ca_pem, self.cert_pem, self.key_pem, check_hostname=False)

    def channel_options(self) -> list[tuple[str, Any]]:
        """Extra channel options: with several endpoints, the name TLS checks."""
        if self.secure and len(self.servers) > 1:
            return [("grpc.ssl_target_name_override", SERVER_NAME)]
        return []


def config_path() -> Path:
    return Path(os.environ.get("PINNACE_CONFIG", Path.home() / ".pinnace" / "config.json"))


def load_config(
    server: str | list[str] | None = None,
    *,
    kubeconfig: str | Path | None = None,
    context: str | None = None,
) -> ClientConfig:
    """The connection settings (see the module doc). Raises KubeconfigError
    if the kubeconfig cannot be read or lacks what is needed."""
    path: Path | None = Path(kubeconfig).expanduser() if kubeconfig else None
    if path is None and not server:
        path = default_kubeconfig()
    if path is None:
        return ClientConfig(tuple(resolve_server(server)))
    ctx = load_kubeconfig(path, context)
    if not (server or os.environ.get("PINNACE_SERVER") or ctx.grpc_server):
        raise KubeconfigError(
            f"kubeconfig {path}: cluster of context {ctx.name!r} names no Pinnace gRPC endpoint "
            "(extension pinnace.io/grpc); give --server"
        )
    return ClientConfig(
        servers=tuple(
            resolve_server(server or os.environ.get("PINNACE_SERVER") or ctx.grpc_server)
        ),
        ca_pem=ctx.ca_pem,
        cert_pem=ctx.cert_pem,
        key_pem=ctx.key_pem,
        token=ctx.token,
        namespace=ctx.namespace,
    )


def default_kubeconfig() -> Path | None:
    """The kubeconfig to use when none is named: ``$KUBECONFIG`` (its first
    file), else the one the config file names (``pinnace up``'s)."""
    named = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    named = named or str(_saved_config().get("kubeconfig") or "")
    return Path(named).expanduser() if named else None


def resolve_server(explicit: str | list[str] | None = None) -> list[str]:
    """The apiserver endpoints to use, as a list of host:port."""
    if explicit:
        value = explicit if isinstance(explicit, str) else ",".join(explicit)
    elif os.environ.get("PINNACE_SERVER"):
        value = os.environ["PINNACE_SERVER"]
    else:
        value = str(_saved_config().get("server") or DEFAULT_SERVER)
    return [_strip_scheme(v.strip()) for v in value.split(",") if v.strip()]


def write_config(server: str, path: Path | None = None, kubeconfig: Path | None = None) -> Path:
    """Record the server (and the kubeconfig to use) for later CLI calls."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, str] = {"server": server}
    if kubeconfig is not None:
        data["kubeconfig"] = str(kubeconfig)
    path.write_text(json.dumps(data) + "\n")
    return path


def _saved_config() -> dict[str, Any]:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _strip_scheme(endpoint: str) -> str:
    for scheme in ("grpc://", "http://", "https://"):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme) :]
    return endpoint
