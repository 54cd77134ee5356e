"""Authentication: who a request comes from, the same for both front doors.

What a request presents (``Credentials``), in the order Kubernetes' union
authenticator tries them:

1. a client certificate the TLS handshake verified against the cluster CA
   (``--client-ca-file``): the subject's CN is the user, each O a group;
2. a bearer token (``Authorization: Bearer <token>``; on gRPC the
   ``authorization`` metadata) found in the static token file
   (``--token-auth-file``, Kubernetes' format: one ``token,user,uid`` line
   with an optional fourth column of comma-separated groups, quoted as
   CSV when it holds several);
3. nothing: the request is anonymous (user ``system:anonymous``, group
   ``system:unauthenticated``) if ``--anonymous-auth`` is on, else refused
   with 401 Unauthorized / UNAUTHENTICATED.

Presented but wrong (a token not in the file) is refused even with
anonymous requests allowed, as in Kubernetes. Every authenticated user also
gets the group ``system:authenticated``.

The certificate's chain is checked by TLS itself (the HTTP front door asks
for a client certificate and verifies one when given; the gRPC server,
which can only require one, requires it). This module reads identities out
of certificates that passed, caching each certificate's reading.
"""

from __future__ import annotations

import csv
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from apiserver.auth.user import ANONYMOUS, AUTHENTICATED, UNAUTHENTICATED, UserInfo
from pinnace.machinery import errors

__all__ = ["Authenticator", "Credentials", "TokenFileError", "load_token_file"]


class TokenFileError(ValueError):
    """The token file is not in Kubernetes' format (the line and why)."""


@dataclass(frozen=True)
class Credentials:
    """What one request presents. ``cert``: the verified client certificate,
    PEM or DER (None: none). ``authorization``: the Authorization header's
    value (None: no header)."""

    cert: bytes | None = None
    authorization: str | None = None


class Authenticator:
    """Turns a request's Credentials into a UserInfo, or raises Unauthorized."""

    def __init__(
        self, *, tokens: Mapping[str, UserInfo] | None = None, anonymous: bool = False
    ) -> None:
        self.tokens = dict(tokens or {})
        self.anonymous = anonymous

    def authenticate(self, creds: Credentials) -> UserInfo:
        if creds.cert:
            return _with_authenticated(certificate_user(creds.cert))
        if creds.authorization is not None:
            token = bearer_token(creds.authorization)
            user = self._token_user(token) if token else None
            if user is None:
                raise errors.Unauthorized("Unauthorized")
            return _with_authenticated(user)
        if self.anonymous:
            return UserInfo(ANONYMOUS, (UNAUTHENTICATED,))
        raise errors.Unauthorized("Unauthorized")

    def _token_user(self, token: str) -> UserInfo | None:
        for known, user in self.tokens.items():
            # Constant time per comparison: a timing probe learns nothing.
            if hmac.compare_digest(known.encode(), token.encode()):
                return user
        return None


def bearer_token(authorization: str) -> str:
    """The token of ``Bearer <token>`` ("" if the header is not a bearer token)."""
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@lru_cache(maxsize=1024)
def certificate_user(cert: bytes) -> UserInfo:
    """The user a client certificate names: CN the user, each O a group."""
    parsed = (
        x509.load_pem_x509_certificate(cert)
        if cert.lstrip().startswith(b"-----BEGIN")
        else x509.load_der_x509_certificate(cert)
    )
    names = parsed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    groups = parsed.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    user = str(names[0].value) if names else ""
    if not user:
        raise errors.Unauthorized("Unauthorized: the client certificate has no common name")
    return UserInfo(user, tuple(str(g.value) for g in groups))


def load_token_file(path: Path) -> dict[str, UserInfo]:
    """Kubernetes' static token file: ``token,user,uid[,"group1,group2"]``
    per line (blank lines and lines starting with # are skipped)."""
    out: dict[str, UserInfo] = {}
    with open(path, newline="") as f:
        for number, row in enumerate(csv.reader(f), start=1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if len(row) < 3:
                raise TokenFileError(
                    f"{path}:{number}: expected token,user,uid[,groups], got {len(row)} column(s)"
                )
            token, user, uid = (c.strip() for c in row[:3])
            if not token or not user:
                raise TokenFileError(f"{path}:{number}: the token and the user must not be empty")
            if token in out:
                raise TokenFileError(f"{path}:{number}: duplicate token")
            groups = (
                tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
            )
            out[token] = UserInfo(user, groups, uid)
    return out


def _with_authenticated(user: UserInfo) -> UserInfo:
    if AUTHENTICATED in user.groups:
        return user
    return UserInfo(user.name, (*user.groups, AUTHENTICATED), user.uid)
