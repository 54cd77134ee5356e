"""The TLS of both front doors, from the same files.

* gRPC: ``grpc_server_credentials``. With a client CA, every connection
  must present a client certificate the CA signed (mutual TLS): gRPC's
  Python server can require client certificates or not ask for them at
  all, never merely ask. Without one, the server authenticates itself only
  and callers use bearer tokens.
* HTTP: ``rest_ssl_context``. With a client CA, a client certificate is
  asked for and verified when given (kubectl with a certificate), and a
  client without one may still use a bearer token, as kube-apiserver does.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import grpc

__all__ = ["grpc_server_credentials", "rest_ssl_context"]


def grpc_server_credentials(
    cert_file: str | Path, key_file: str | Path, client_ca_file: str | Path = ""
) -> grpc.ServerCredentials:
    """The gRPC listener's TLS: its pair, and mutual TLS with ``client_ca_file``."""
    pair = (Path(key_file).read_bytes(), Path(cert_file).read_bytes())
    if not client_ca_file:
        return grpc.ssl_server_credentials([pair])
    return grpc.ssl_server_credentials(
        [pair], root_certificates=Path(client_ca_file).read_bytes(), require_client_auth=True
    )


def rest_ssl_context(
    cert_file: str | Path, key_file: str | Path, client_ca_file: str | Path = ""
) -> ssl.SSLContext:
    """The HTTP listener's TLS: its pair, and optional client certificates
    verified against ``client_ca_file``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_file), str(key_file))
    if client_ca_file:
        context.load_verify_locations(cafile=str(client_ca_file))
        context.verify_mode = ssl.CERT_OPTIONAL
    return context
