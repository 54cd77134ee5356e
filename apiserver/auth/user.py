"""The identity a request carries once authenticated (Kubernetes' user.Info).

``current_user`` is a context variable: each front door sets it for the
request it serves (gRPC: the servicer call; HTTP: the handler), so the
layers below (the verbs, and authorization when it comes) read who is
asking without every signature carrying it. A task started inside a
request inherits the value, as asyncio copies the context.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

__all__ = [
    "ANONYMOUS",
    "AUTHENTICATED",
    "MASTERS",
    "UNAUTHENTICATED",
    "UserInfo",
    "current_user",
]

ANONYMOUS = "system:anonymous"
UNAUTHENTICATED = "system:unauthenticated"
AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"


@dataclass(frozen=True)
class UserInfo:
    """A user name, its groups and uid, as Kubernetes' authenticators give them."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""

    @property
    def is_anonymous(self) -> bool:
        return self.name == ANONYMOUS


# Who the request being served comes from; None outside a request (the
# apiserver's own work: bootstrap, the namespace finalizer).
current_user: ContextVar[UserInfo | None] = ContextVar("current_user", default=None)
