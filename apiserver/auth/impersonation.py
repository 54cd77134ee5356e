"""Impersonation: acting as another user, for those allowed to (Kubernetes'
``Impersonate-User``/``Impersonate-Group`` headers; on gRPC the metadata
keys ``impersonate-user`` and ``impersonate-group``).

The authenticated user must be allowed the verb ``impersonate`` on
``users`` named the target user and on ``groups`` named each target group
(core API group), as Kubernetes checks it; then the request goes on as the
target user, in the target groups plus ``system:authenticated``. Groups
without a user are a 400, as in Kubernetes. ``kubectl --as alice`` and
``kubectl auth can-i --as alice`` send these headers.
"""

from __future__ import annotations

from collections.abc import Iterable

from apiserver.auth.attributes import Attributes
from apiserver.auth.authz import Authorizer, authorize
from apiserver.auth.user import AUTHENTICATED, UserInfo
from pinnace.machinery import errors

__all__ = ["impersonate"]


def impersonate(
    authorizer: Authorizer, user: UserInfo, as_user: str, as_groups: Iterable[str]
) -> UserInfo:
    """The user the request runs as: ``user`` itself when nothing is
    impersonated, else the target (Forbidden unless ``user`` may)."""
    groups = tuple(g for g in as_groups if g)
    if not as_user:
        if groups:
            raise errors.BadRequest(
                "requested impersonation of groups without a user: Impersonate-User is required"
            )
        return user
    checks = [("users", as_user), *(("groups", g) for g in groups)]
    for resource, name in checks:
        authorize(authorizer, Attributes(user, "impersonate", resource=resource, name=name))
    if AUTHENTICATED not in groups:
        groups = (*groups, AUTHENTICATED)
    return UserInfo(as_user, groups)
