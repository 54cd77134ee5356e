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

from pinnace.machinery.rbac import NODES_GROUP

__all__ = [
    "ANONYMOUS",
    "AUTHENTICATED",
    "MASTERS",
    "UNAUTHENTICATED",
    "UserInfo",
    "current_user",
    "node_name",
]

ANONYMOUS = "system:anonymous"
UNAUTHENTICATED = "system:unauthenticated"
AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"
NODE_USER_PREFIX = "system:node:"


@dataclass(frozen=True)
class UserInfo:
    """A user name, its groups and uid, as Kubernetes' authenticators give them."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""

    @property
    def is_anonymous(self) -> bool:
        return self.name == ANONYMOUS


def node_name(user: UserInfo) -> str:
    """The node a kubelet user (``system:node:<name>`` in ``system:nodes``)
    stands for; "" when the user is not a node."""
    if NODES_GROUP in user.groups and user.name.startswith(NODE_USER_PREFIX):
        return user.name[len(NODE_USER_PREFIX) :]
    return ""


# Who the request being served comes from; None outside a request (the
# apiserver's own work: bootstrap, the namespace finalizer).
current_user: ContextVar[UserInfo | None] = ContextVar("current_user", default=None)
