"""Client-side TLS contexts from PEM bytes (a kubeconfig's CA and client
pair): Python's ssl loads a certificate chain only from files, so the pair
is written to a private temporary folder for the load and removed."""

from __future__ import annotations

import os
import ssl
import tempfile

__all__ = ["client_ssl_context"]


def client_ssl_context(
    ca_pem: bytes | None,
    cert_pem: bytes | None = None,
    key_pem: bytes | None = None,
    *,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A context that trusts ``ca_pem`` (the system's CAs if None), presents
    the client pair if given, and checks the server's name unless told not
    to (the chain is always checked)."""
    context = ssl.create_default_context(cadata=ca_pem.decode() if ca_pem else None)
    context.check_hostname = check_hostname
    if cert_pem and key_pem:
        with tempfile.TemporaryDirectory(prefix="pinnace-tls-") as tmp:
            cert, key = os.path.join(tmp, "client.crt"), os.path.join(tmp, "client.key")
            for path, data in ((cert, cert_pem), (key, key_pem)):
                with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                    f.write(data)
            context.load_cert_chain(cert, key)
    return context
