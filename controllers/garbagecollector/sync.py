"""Every API call the garbage collector makes, each guarded so that it can
only ever touch the object (the uid) the collector meant.

* Reads are live GETs, never the informer caches: the collector deletes
  only on what the API says now (a cache may not have seen an owner that
  was just created).
* Deletes carry a uid precondition; NotFound or a failed precondition
  mean the object is already gone: done.
* Owner-reference and finalizer edits read the object, change one list
  and write it back with a merge patch carrying the uid and the
  resourceVersion read; a conflict rereads and tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from controllers.garbagecollector.graph import Identity
from pinnace.client.aio import AsyncClient
from pinnace.machinery import codec, errors, kinds

log = logging.getLogger("controllers.garbagecollector")

CONFLICT_ATTEMPTS = 5

RefsEdit = Callable[[list[Any]], list[Any] | None]
"""Given an object's ownerReferences, the list to write (None: no change)."""


class ApiOps:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def _handle(self, api_version: str, kind: str, namespace: str) -> Any:
        info = kinds.by_kind(api_version, kind)  # UnknownKindError for kinds not served
        return self._client.resource(info, namespace if info.namespaced else "")

    async def get(self, who: Identity) -> Any | None:
        """The live object, or None when no object with that uid is there."""
        return await self.lookup(who.api_version, who.kind, who.namespace, who.name, who.uid)

    async def lookup(
        self, api_version: str, kind: str, namespace: str, name: str, uid: str
    ) -> Any | None:
        """The live object of that kind, place and name if its uid is uid;
        None when it is gone or is another object of the same name.
        Raises kinds.UnknownKindError for kinds the server does not serve."""
        handle = self._handle(api_version, kind, namespace)
        try:
            obj = await handle.get(name)
        except errors.NotFound:
            return None
        return obj if obj.metadata.uid == uid else None

    async def delete(self, who: Identity, propagation: str) -> bool:
        """Delete the object (uid precondition); False if it was gone."""
        handle = self._handle(who.api_version, who.kind, who.namespace)
        try:
            await handle.delete(who.name, uid=who.uid, propagation_policy=propagation)
        except (errors.NotFound, errors.PreconditionFailed):
            return False
        return True

    async def edit_owner_refs(self, who: Identity, edit: RefsEdit) -> bool:
        """Rewrite the object's ownerReferences with edit; False if it was
        gone or edit asked for no change."""

        def build(obj: Any) -> dict | None:
            refs = list(obj.metadata.owner_references)
            new = edit(refs)
            if new is None:
                return None
            return {"ownerReferences": [codec.to_dict(r) for r in new] or None}

        return await self._patch_meta(who, build)

    async def remove_finalizer(self, who: Identity, finalizer: str) -> bool:
        """Remove one finalizer; False if the object or the finalizer was
        gone already. (Removing the last finalizer of a deleting object lets
        the apiserver delete it.)"""

        def build(obj: Any) -> dict | None:
            finalizers = list(obj.metadata.finalizers)
            if finalizer not in finalizers:
                return None
            return {"finalizers": [f for f in finalizers if f != finalizer] or None}

        return await self._patch_meta(who, build)

    async def _patch_meta(self, who: Identity, build: Callable[[Any], dict | None]) -> bool:
        handle = self._handle(who.api_version, who.kind, who.namespace)
        for _ in range(CONFLICT_ATTEMPTS):
            obj = await self.get(who)
            if obj is None:
                return False
            meta_patch = build(obj)
            if meta_patch is None:
                return False
            meta_patch["uid"] = who.uid
            meta_patch["resourceVersion"] = obj.metadata.resource_version
            try:
                await handle.patch(who.name, {"metadata": meta_patch})
            except errors.NotFound:
                return False
            except errors.Conflict:
                log.debug("conflict patching %s; rereading", who)
                continue
            return True
        raise errors.Conflict(f"{who} kept changing; giving up for now")
