"""The apiserver's admission step (Verbs.admit): checks on who writes what,
after validation, for both front doors: the RBAC escalation check
(escalation.py) and NodeRestriction (noderestriction.py).

Writes by the apiserver itself (no current user: the bootstrap of the
default roles, the namespace finalizer) are not checked.
"""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.auth.authz import Authorizer
from apiserver.auth.escalation import check_escalation
from apiserver.auth.noderestriction import check as check_node
from apiserver.auth.user import current_user
from apiserver.registry.resource import Resource

__all__ = ["Admission"]


class Admission:
    """``admit(res, new, old)``: a create (old None), an update, or a delete
    (new None) is refused with Forbidden when its user may not make it."""

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    def __call__(self, res: Resource, new: Message | None, old: Message | None) -> None:
        user = current_user.get()
        if user is None:
            return
        check_node(res, user, new, old)
        if new is not None:
            check_escalation(self.authorizer, res, user, new)
