"""The apiserver's side of the bootstrap RBAC policy: the verbs as the
handle pinnace.machinery.rbacbootstrap writes through, so the apiserver puts
the default ClusterRoles and ClusterRoleBindings in place at start with its
own registry (defaults, validation, managed fields), before it serves any
request and without a client credential.

    await ensure_bootstrap_rbac(VerbsAccess(resources, verbs))
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from apiserver.registry.resource import Resource
from apiserver.registry.verbs import Verbs
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery.kinds import KindInfo

FIELD_MANAGER = "kube-apiserver"


class VerbsHandle:
    """One resource's get/create/update/delete through the verbs."""

    def __init__(self, res: Resource, verbs: Verbs, namespace: str) -> None:
        self._res = res
        self._verbs = verbs
        self._namespace = namespace

    async def get(self, name: str) -> Any:
        return (await self._verbs.get(self._res, self._namespace, name)).obj

    async def create(self, obj: Message) -> Any:
        return await self._verbs.create(
            self._res, self._namespace, obj, field_manager=FIELD_MANAGER
        )

    async def update(self, obj: Message) -> Any:
        return await self._verbs.update(
            self._res, self._namespace, obj, field_manager=FIELD_MANAGER
        )

    async def delete(self, name: str) -> Any:
        options = meta_pb2.DeleteOptions()
        return await self._verbs.delete(self._res, self._namespace, name, options)


class VerbsAccess:
    """``resource(kind_info, namespace)`` over the apiserver's resources and verbs."""

    def __init__(self, resources: dict[str, Resource], verbs: Verbs) -> None:
        self._resources = resources
        self._verbs = verbs

    def resource(self, kind: KindInfo, namespace: str = "") -> VerbsHandle:
        return VerbsHandle(self._resources[kind.resource], self._verbs, namespace)


__all__ = ["VerbsAccess", "VerbsHandle"]
