"""The garbage collector: cascading deletion through ownerReferences.

Wiring: one shared informer per served kind (all namespaces). Their
handlers keep the ownership graph (graph.py) in step with the API and
enqueue the uids each change makes interesting on two rate-limited queues,
as Kubernetes' garbage collector does:

* attempt-to-delete (the controller's ``queue``, synced by ``sync``):
  dependents whose owners may be gone or are being deleted in the
  foreground, owners waiting in the foreground (``foregroundDeletion``)
  for their blocking dependents, and owners not observed yet (virtual
  nodes) to verify with a live GET.
* attempt-to-orphan (``orphan_queue``, synced by ``sync_orphan``): owners
  being deleted with the ``orphan`` finalizer.

The three propagation policies, once the apiserver has recorded them:

* Background: the owner is gone; each dependent whose owners are all gone
  is deleted (plan.py decides how when it has live owners too).
* Foreground: the owner stays with ``foregroundDeletion``; its dependents
  are deleted (in the foreground themselves when they own things), and when
  no dependent with blockOwnerDeletion=true is left, the finalizer is
  removed and the apiserver deletes the owner.
* Orphan: the owner stays with ``orphan``; every dependent loses its
  reference to it, then the finalizer is removed.

Every action goes through the API, guarded by uid (sync.py); NotFound is
success; failures are retried with the queue's backoff, without limit (an
item dropped here would only come back with the next change to it). After a
restart the informers' initial lists rebuild the graph and re-enqueue every
pending deletion, so nothing depends on having seen the original event.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from controllers.base import Controller, unwrap
from controllers.garbagecollector.graph import (
    FOREGROUND,
    ORPHAN,
    Graph,
    Identity,
    Node,
    ObjectState,
    Owner,
    Work,
    owner_namespace,
)
from controllers.garbagecollector.plan import Action, OwnerState, decide
from controllers.garbagecollector.sync import ApiOps
from pinnace.client.workqueue import RateLimitingQueue, run_workers
from pinnace.machinery import errors, kinds

# Owners patched or dependents deleted at once while orphaning one owner.
ORPHAN_PARALLELISM = 16


class GarbageCollector(Controller):
    name = "garbagecollector"
    default_workers = 20  # Kubernetes' --concurrent-gc-syncs

    def setup(self) -> None:
        self.graph = Graph()
        self.ops = ApiOps(self.client)
        self.orphan_queue: RateLimitingQueue[str] = RateLimitingQueue(
            name=f"{self.name}_orphan", metrics=self.ctx.metrics
        )
        for info in kinds.KINDS:
            self._watch(info)

    def _watch(self, info: kinds.KindInfo) -> None:
        def on_add(obj: Any) -> None:
            self._observe(info, obj)

        def on_update(old: Any, new: Any) -> None:
            if _same_for_graph(old, new):
                work = self.graph.recheck(new.metadata.uid)
                if work is not None:
                    self._enqueue(work)
                    return
            self._observe(info, new)

        self.ctx.informer(info).add_handler(
            on_add=on_add, on_update=on_update, on_delete=self._forget
        )

    # ---- handlers: keep the graph, enqueue ----------------------------------------
    # Most updates (a pod's status) change nothing the graph holds: those are
    # rechecked from the node as it is (Graph.recheck), not rebuilt.

    def _observe(self, info: kinds.KindInfo, obj: Any) -> None:
        self._enqueue(self.graph.observe(ObjectState.from_object(info, obj)))

    def _forget(self, obj: Any) -> None:
        self._enqueue(self.graph.forget(unwrap(obj).metadata.uid))

    def _enqueue(self, work: Work) -> None:
        for uid in work.attempt_to_delete:
            self.queue.add(uid)
        for uid in work.attempt_to_orphan:
            self.orphan_queue.add(uid)

    # ---- running -------------------------------------------------------------------

    async def run(self, workers: int) -> None:
        self.log.info("starting %d workers per queue", workers)
        try:
            await asyncio.gather(
                run_workers(
                    self.queue, self.sync, workers=workers, max_retries=sys.maxsize, log=self.log
                ),
                run_workers(
                    self.orphan_queue,
                    self.sync_orphan,
                    workers=workers,
                    max_retries=sys.maxsize,
                    log=self.log,
                ),
            )
        finally:
            self.queue.shutdown()
            self.orphan_queue.shutdown()

    # ---- attempt to delete ---------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        """Process one uid of the attempt-to-delete queue."""
        node = self.graph.get(key)
        if node is None:
            return None
        if node.deleting_dependents:
            await self._process_deleting_dependents(node)
            return None
        if node.virtual:
            await self._verify_virtual(node)
            return None
        latest = await self.ops.get(node.identity)
        if latest is None or latest.metadata.deletion_timestamp:
            # Gone (the informer will say so) or being deleted already; an
            # object entering foreground deletion comes back through the
            # informer with deleting_dependents set.
            return None
        owners = [Owner.from_ref(r) for r in latest.metadata.owner_references]
        if not owners:
            return None
        states = {o.uid: await self._owner_state(node.identity, o, latest) for o in owners}
        dependents = self.graph.dependents(node.uid)
        decision = decide(
            owners=owners,
            states=states,
            finalizers=list(latest.metadata.finalizers),
            has_dependents=bool(dependents),
            dependent_waiting=any(d.deleting_dependents for d in dependents),
        )
        if decision.action is Action.REMOVE_REFS:
            self.log.info(
                "removing references to gone or deleting owners %s from %s",
                sorted(decision.remove_owners),
                node.identity,
            )
            await self.ops.edit_owner_refs(
                node.identity, lambda refs: _without(refs, decision.remove_owners)
            )
        elif decision.action is Action.DELETE:
            if decision.unblock_owners:
                self.log.info("%s is in an ownership cycle; unblocking its owners", node.identity)
                await self.ops.edit_owner_refs(
                    node.identity, lambda refs: _unblocked(refs, decision.unblock_owners)
                )
            self.log.info(
                "deleting %s (%s): its owners are gone or being deleted",
                node.identity,
                decision.propagation,
            )
            await self.ops.delete(node.identity, decision.propagation)
        return None

    async def _verify_virtual(self, node: Node) -> None:
        """An owner named by some dependent but never observed: if a live GET
        does not find it, it is absent and its dependents are looked at."""
        if node.absent:
            return
        who = node.identity
        try:
            live = await self.ops.get(who)
        except kinds.UnknownKindError:
            self.log.warning("cannot verify owner %s: the kind is not served", who)
            return
        if live is None:
            self.log.info("owner %s does not exist; checking its dependents", who)
            self._enqueue(self.graph.confirm_absent(node.uid))
        # else it exists: its informer will deliver it and make the node real

    async def _owner_state(self, dependent: Identity, owner: Owner, obj: Any) -> OwnerState:
        """Where owner stands, from a live GET (and the graph for uids whose
        deletion was observed)."""
        namespace = owner_namespace(dependent, owner)
        known = self.graph.get(owner.uid)
        if namespace is None or (
            known is not None and not known.virtual and known.identity.namespace != namespace
        ):
            self._invalid_namespace(obj, owner, namespace)
            return OwnerState.ABSENT
        if known is not None and known.absent:
            return OwnerState.ABSENT
        try:
            live = await self.ops.lookup(
                owner.api_version, owner.kind, namespace, owner.name, owner.uid
            )
        except kinds.UnknownKindError:
            self.log.warning(
                "%s has an owner of a kind not served (%s %s); leaving it",
                dependent,
                owner.api_version,
                owner.kind,
            )
            return OwnerState.UNKNOWN
        if live is None:
            return OwnerState.ABSENT
        meta = live.metadata
        if meta.deletion_timestamp and FOREGROUND in meta.finalizers:
            return OwnerState.WAITING
        return OwnerState.SOLID

    def _invalid_namespace(self, obj: Any, owner: Owner, namespace: str | None) -> None:
        where = obj.metadata.namespace
        self.recorder.event(
            obj,
            "Warning",
            "OwnerRefInvalidNamespace",
            f"ownerRef [{owner.api_version}/{owner.kind}, namespace: {where}, "
            f"name: {owner.name}, uid: {owner.uid}] does not exist in namespace "
            f'"{where}"'
            + (
                " (a cluster-scoped object cannot have a namespaced owner)"
                if namespace is None
                else ""
            ),
        )

    async def _process_deleting_dependents(self, node: Node) -> None:
        """An owner deleted in the foreground: once no dependent blocks it,
        remove foregroundDeletion; until then make sure they are deleted."""
        blocking = self.graph.blocking_dependents(node.uid)
        if not blocking:
            self.log.info("no dependent blocks %s any more; finishing its deletion", node.identity)
            await self.ops.remove_finalizer(node.identity, FOREGROUND)
            return
        for dep in blocking:
            if not dep.deleting_dependents:
                self.queue.add(dep.uid)

    # ---- attempt to orphan -------------------------------------------------------------

    async def sync_orphan(self, key: str) -> float | None:
        """An owner deleted with the orphan finalizer: strip its references
        from every dependent, then remove the finalizer."""
        node = self.graph.get(key)
        if node is None or not node.orphaning:
            return None
        owner_uid = node.uid
        dependents = self.graph.dependents(owner_uid)
        limit = asyncio.Semaphore(ORPHAN_PARALLELISM)

        async def orphan(dep: Node) -> None:
            async with limit:
                await self.ops.edit_owner_refs(
                    dep.identity, lambda refs: _without(refs, frozenset({owner_uid}))
                )

        results = await asyncio.gather(*(orphan(d) for d in dependents), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            self.log.info(
                "orphaning %d of %d dependents of %s failed",
                len(failed),
                len(dependents),
                node.identity,
            )
        errors.raise_aggregate(failed)
        if dependents:
            self.log.info("orphaned %d dependents of %s", len(dependents), node.identity)
        await self.ops.remove_finalizer(node.identity, ORPHAN)
        return None


def _without(refs: list[Any], owner_uids: frozenset[str]) -> list[Any] | None:
    kept = [r for r in refs if r.uid not in owner_uids]
    return kept if len(kept) != len(refs) else None


def _unblocked(refs: list[Any], owner_uids: frozenset[str]) -> list[Any] | None:
    changed = False
    out = []
    for r in refs:
        if r.uid in owner_uids and r.block_owner_deletion:
            copy = type(r)()
            copy.CopyFrom(r)
            copy.block_owner_deletion = False
            r = copy
            changed = True
        out.append(r)
    return out if changed else None


def _same_for_graph(old: Any, new: Any) -> bool:
    """Whether an update leaves everything ``ObjectState`` reads as it was
    (the uid, name and namespace of an object never change)."""
    a, b = old.metadata, new.metadata
    return (
        a.deletion_timestamp == b.deletion_timestamp
        and a.owner_references == b.owner_references
        and a.finalizers == b.finalizers
    )
