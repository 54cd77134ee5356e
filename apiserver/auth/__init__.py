"""Who is asking: authentication for both front doors (authn.py), and the
identity every request carries from there on (user.py)."""

from apiserver.auth.authn import Authenticator, Credentials, load_token_file
from apiserver.auth.user import (
    ANONYMOUS,
    AUTHENTICATED,
    MASTERS,
    UNAUTHENTICATED,
    UserInfo,
    current_user,
)

__all__ = [
    "ANONYMOUS",
    "AUTHENTICATED",
    "MASTERS",
    "UNAUTHENTICATED",
    "Authenticator",
    "Credentials",
    "UserInfo",
    "current_user",
    "load_token_file",
]
