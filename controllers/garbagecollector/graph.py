"""The ownership graph the garbage collector keeps (Kubernetes' GraphBuilder
and its uidToNode map), as a pure data structure: no API calls, no asyncio.

Nodes are keyed by uid. A node knows its owners (the ownerReferences of the
object, in order) and its dependents (uids of the nodes whose
ownerReferences name it). Every uid some node names as an owner is itself a
node: a *virtual* one while the owner has not been observed. A virtual node
is either unverified (the owner may still turn up in an informer, or may
never have existed) or *absent* (verified gone: its deletion was observed,
or a live GET found no object with that uid). Virtual nodes are dropped as
soon as nothing names them.

Every change returns a ``Work``: the uids the collector must look at again.

* ``attempt_to_delete``: dependents whose owners may all be gone or are
  being deleted in the foreground, owners waiting in the foreground whose
  blocking dependents may have gone, and virtual owners to verify.
* ``attempt_to_orphan``: owners being deleted with the ``orphan`` finalizer.

Invariants (checked by the unit tests):

* ``u in nodes[o].dependents`` iff ``o`` is the uid of one of ``nodes[u].owners``.
* A virtual node has no owners; an absent node is virtual.
* A cycle of owners is plain data here: nothing walks the graph
  transitively, so a cycle can never loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pinnace.machinery import kinds

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


@dataclass(frozen=True)
class Identity:
    """Where an object lives: enough to GET, PATCH or DELETE it."""

    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where} ({self.uid})"


@dataclass(frozen=True)
class Owner:
    """One ownerReference."""

    api_version: str
    kind: str
    name: str
    uid: str
    block_owner_deletion: bool = False
    controller: bool = False

    @classmethod
    def from_ref(cls, ref: Any) -> Owner:
        return cls(
            api_version=ref.api_version,
            kind=ref.kind,
            name=ref.name,
            uid=ref.uid,
            block_owner_deletion=ref.HasField("block_owner_deletion") and ref.block_owner_deletion,
            controller=ref.HasField("controller") and ref.controller,
        )


@dataclass(frozen=True)
class ObjectState:
    """What the graph needs from one observed object."""

    identity: Identity
    owners: tuple[Owner, ...] = ()
    being_deleted: bool = False
    finalizers: frozenset[str] = frozenset()

    @classmethod
    def from_object(cls, info: kinds.KindInfo, obj: Any) -> ObjectState:
        meta = obj.metadata
        return cls(
            identity=Identity(info.api_version, info.kind, meta.namespace, meta.name, meta.uid),
            owners=tuple(Owner.from_ref(r) for r in meta.owner_references),
            being_deleted=bool(meta.deletion_timestamp),
            finalizers=frozenset(meta.finalizers),
        )


@dataclass(eq=False)
class Node:
    identity: Identity
    owners: tuple[Owner, ...] = ()
    dependents: set[str] = field(default_factory=set)
    virtual: bool = False
    absent: bool = False
    being_deleted: bool = False
    # deletionTimestamp and the foregroundDeletion finalizer: its blocking
    # dependents must go before it does.
    deleting_dependents: bool = False
    # deletionTimestamp and the orphan finalizer: its dependents must lose
    # their reference to it before it goes.
    orphaning: bool = False

    @property
    def uid(self) -> str:
        return self.identity.uid


@dataclass
class Work:
    """The uids a graph change asks the collector to process."""

    attempt_to_delete: set[str] = field(default_factory=set)
    attempt_to_orphan: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.attempt_to_delete or self.attempt_to_orphan)


def owner_namespace(dependent: Identity, owner: Owner) -> str | None:
    """The namespace an owner reference points into, or None when the
    reference is invalid.

    An ownerReference has no namespace: a namespaced owner must be in the
    dependent's namespace, a cluster-scoped owner has none. A cluster-scoped
    dependent cannot have a namespaced owner (None). An owner of a kind we do
    not serve is taken as namespaced like its dependent (it will never be
    found, and is then left alone: see decision.OwnerState.UNKNOWN)."""
    try:
        namespaced = kinds.by_kind(owner.api_version, owner.kind).namespaced
    except kinds.UnknownKindError:
        namespaced = bool(dependent.namespace)
    if not namespaced:
        return ""
    if not dependent.namespace:
        return None
    return dependent.namespace


def invalid_namespace(dependent: Identity, owner: Owner, owner_node: Node | None) -> bool:
    """True when the reference can never be satisfied: a cluster-scoped
    dependent naming a namespaced owner, or an owner we have seen in another
    namespace than the dependent's (uids are unique cluster-wide)."""
    expected = owner_namespace(dependent, owner)
    if expected is None:
        return True
    return (
        owner_node is not None
        and not owner_node.virtual
        and owner_node.identity.namespace != expected
    )


class Graph:
    """The ownership graph; see the module docstring."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def get(self, uid: str) -> Node | None:
        return self.nodes.get(uid)

    def __len__(self) -> int:
        return len(self.nodes)

    def dependents(self, uid: str) -> list[Node]:
        node = self.nodes.get(uid)
        if node is None:
            return []
        return [self.nodes[d] for d in sorted(node.dependents) if d in self.nodes]

    def blocking_dependents(self, uid: str) -> list[Node]:
        """The dependents whose reference to uid has blockOwnerDeletion=true:
        they keep an owner deleted in the foreground from going."""
        return [
            dep
            for dep in self.dependents(uid)
            if any(o.uid == uid and o.block_owner_deletion for o in dep.owners)
        ]

    # ---- changes ------------------------------------------------------------------

    def observe(self, state: ObjectState) -> Work:
        """An object was added or updated (or seen again at a relist)."""
        work = Work()
        uid = state.identity.uid
        node = self.nodes.get(uid)
        if node is None:
            node = Node(identity=state.identity)
            self.nodes[uid] = node
        old_owners = node.owners
        node.identity = state.identity
        node.virtual = node.absent = False
        node.being_deleted = state.being_deleted
        node.deleting_dependents = state.being_deleted and FOREGROUND in state.finalizers
        node.orphaning = (
            state.being_deleted and ORPHAN in state.finalizers and not node.deleting_dependents
        )
        self._set_owners(node, state.owners, old_owners, work)
        self._pending(node, work)
        return work

    def recheck(self, uid: str) -> Work | None:
        """An object was updated in nothing its node holds (owner references,
        deletionTimestamp, finalizers): the work ``observe`` of it would
        return, without rebuilding the node. None when its node is not one
        ``observe`` made (not there, virtual) or lost an owner's node: then
        ``observe`` it."""
        node = self.nodes.get(uid)
        if node is None or node.virtual or any(o.uid not in self.nodes for o in node.owners):
            return None
        work = Work()
        self._pending(node, work)
        return work

    def _pending(self, node: Node, work: Work) -> None:
        """Add to ``work`` what an observed node's state calls for."""
        uid = node.uid
        if node.deleting_dependents:
            # Its dependents must go (and it must be checked once they have).
            work.attempt_to_delete.add(uid)
            work.attempt_to_delete.update(node.dependents)
        elif node.orphaning:
            work.attempt_to_orphan.add(uid)

        for owner in node.owners:
            owner_node = self.nodes[owner.uid]
            if (
                owner_node.absent
                or owner_node.deleting_dependents
                or invalid_namespace(node.identity, owner, owner_node)
            ):
                work.attempt_to_delete.add(uid)

    def forget(self, uid: str) -> Work:
        """An object's deletion was observed: its uid is gone for good."""
        work = Work()
        node = self.nodes.get(uid)
        if node is None:
            return work
        self._set_owners(node, (), node.owners, work)
        self._make_absent(node, work)
        return work

    def confirm_absent(self, uid: str) -> Work:
        """A virtual node was verified (live GET) not to exist."""
        work = Work()
        node = self.nodes.get(uid)
        if node is None or not node.virtual:
            return work
        self._make_absent(node, work)
        return work

    # ---- internals ------------------------------------------------------------------

    def _make_absent(self, node: Node, work: Work) -> None:
        node.virtual = node.absent = True
        node.being_deleted = node.deleting_dependents = node.orphaning = False
        if node.dependents:
            work.attempt_to_delete.update(node.dependents)
        else:
            del self.nodes[node.uid]

    def _set_owners(
        self, node: Node, new: tuple[Owner, ...], old: Iterable[Owner], work: Work
    ) -> None:
        old_by_uid = {o.uid: o for o in old}
        new_by_uid = {o.uid: o for o in new}
        for owner_uid, before in old_by_uid.items():
            after = new_by_uid.get(owner_uid)
            if after is None:
                self._unlink(owner_uid, node.uid, work)
            elif before.block_owner_deletion and not after.block_owner_deletion:
                # No longer blocking: a foreground owner may now go.
                self._wake_if_waiting(owner_uid, work)
        for owner_uid, owner in new_by_uid.items():
            if owner_uid == node.uid:
                continue  # an object cannot own itself (the API refuses it)
            if owner_uid not in old_by_uid or owner_uid not in self.nodes:
                self._link(owner, node, work)
        node.owners = tuple(o for o in new if o.uid != node.uid)

    def _link(self, owner: Owner, dependent: Node, work: Work) -> None:
        owner_node = self.nodes.get(owner.uid)
        if owner_node is None:
            namespace = owner_namespace(dependent.identity, owner)
            owner_node = Node(
                identity=Identity(
                    owner.api_version, owner.kind, namespace or "", owner.name, owner.uid
                ),
                virtual=True,
            )
            self.nodes[owner.uid] = owner_node
            work.attempt_to_delete.add(owner.uid)  # verify it exists
        owner_node.dependents.add(dependent.uid)

    def _unlink(self, owner_uid: str, dependent_uid: str, work: Work) -> None:
        owner_node = self.nodes.get(owner_uid)
        if owner_node is None:
            return
        owner_node.dependents.discard(dependent_uid)
        self._wake_if_waiting(owner_uid, work)
        if owner_node.virtual and not owner_node.dependents:
            del self.nodes[owner_uid]

    def _wake_if_waiting(self, owner_uid: str, work: Work) -> None:
        owner_node = self.nodes.get(owner_uid)
        if owner_node is not None and owner_node.deleting_dependents:
            work.attempt_to_delete.add(owner_uid)
