"""Objects in etcd: one key per object, every write a transaction.

Guarantees:
* Create is a txn on ``create_revision == 0``: two creates of one name never
  both succeed (the loser gets AlreadyExists).
* Update and delete are txns on ``mod_revision ==`` the revision the caller
  read. A stale revision from the client is a Conflict; a race between our
  own read and write is retried (``guaranteed_update``).
* resourceVersion is etcd's mod revision. It is never stored inside the
  value; it is set on every object read back.
* Claims: an object may hold exclusive keys beside its own (a Service's
  cluster IP and node ports, see apiserver/registry/allocation.py), given by
  the ``claims`` function the store is built with. They are written in the
  same txn as the object: created on ``create_revision == 0`` when the
  object starts holding them, deleted when it stops or is deleted. A claim
  held by another object fails the write with ``ClaimTaken``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from apiserver.etcd.client import EtcdClient
from apiserver.etcd.requests import (
    RequestOp,
    cmp_create_revision,
    cmp_mod_revision,
    op_delete,
    op_put,
    op_range,
)
from apiserver.etcd.types import OpResult, RangeResult
from apiserver.metrics import etcd_latency
from pinnace.machinery import errors
from pinnace.machinery.kinds import by_message
from pinnace.machinery.objects import object_meta

log = logging.getLogger(__name__)

# Updates that lose a race with another writer are retried this many times.
MAX_UPDATE_ATTEMPTS = 16


@dataclass(frozen=True, slots=True)
class Stored:
    """An object as read from etcd, with its mod revision."""

    obj: Message
    rv: int


UpdateFn = Callable[[Message, int], Awaitable[Message | None]]
# claims(obj): the exclusive keys obj holds, each with the value stored there.
ClaimsFn = Callable[[Message], dict[str, bytes]]


def no_claims(obj: Message) -> dict[str, bytes]:
    return {}


class ClaimTaken(Exception):
    """A write needed keys that other objects hold (``keys``)."""

    def __init__(self, keys: list[str], obj: Message) -> None:
        super().__init__(f"already claimed: {', '.join(keys)}")
        self.keys = keys
        self.obj = obj


class Store:
    """Typed reads and transactional writes of one kind's objects."""

    def __init__(
        self, etcd: EtcdClient, message_class: type[Message], *, claims: ClaimsFn = no_claims
    ) -> None:
        self._etcd = etcd
        self._cls = message_class
        self._claims = claims

    def decode(self, value: bytes, rv: int) -> Message:
        obj = self._cls.FromString(value)
        object_meta(obj).resource_version = str(rv)
        return obj

    @staticmethod
    def encode(obj: Message) -> bytes:
        """Serialize for storage, without the resourceVersion."""
        meta = object_meta(obj)
        rv = meta.resource_version
        meta.resource_version = ""
        try:
            return obj.SerializeToString(deterministic=True)
        finally:
            meta.resource_version = rv

    async def get(self, key: str) -> Stored | None:
        start = time.perf_counter()
        result = await self._etcd.range(key.encode())
        etcd_latency("get").observe(time.perf_counter() - start)
        if not result.kvs:
            return None
        kv = result.kvs[0]
        return Stored(self.decode(kv.value, kv.mod_revision), kv.mod_revision)

    async def range_at(self, start: bytes, end: bytes, *, limit: int, revision: int) -> RangeResult:
        """A page of raw key-values of [start, end) as etcd had them at
        ``revision`` (CompactedError if that revision is gone)."""
        return await self._etcd.range(start, end, limit=limit, revision=revision)

    async def current_revision(self) -> int:
        """The newest revision of the whole etcd keyspace."""
        result = await self._etcd.range(b"\0", count_only=True)
        return result.revision

    async def create(self, key: str, obj: Message) -> int:
        """Store a new object; returns its resourceVersion. AlreadyExists if taken."""
        value = self.encode(obj)
        claims = self._claims(obj)
        start = time.perf_counter()
        result = await self._etcd.txn(
            compare=[cmp_create_revision(k.encode(), "=", 0) for k in (key, *claims)],
            success=[op_put(key.encode(), value), *_puts(claims)],
            failure=[op_range(k.encode(), keys_only=True) for k in (key, *claims)],
        )
        etcd_latency("create").observe(time.perf_counter() - start)
        if not result.succeeded:
            if _exists(result.responses[0]):
                raise _already_exists(obj)
            raise ClaimTaken(_taken(list(claims), result.responses[1:]), obj)
        object_meta(obj).resource_version = str(result.revision)
        return result.revision

    async def put_if_unchanged(
        self, key: str, obj: Message, rv: int, *, old: Message
    ) -> Stored | None:
        """Write obj over ``old`` if the key still has mod revision rv; else
        None. Claims obj holds and old did not are taken, those old held and
        obj does not are released (ClaimTaken if one is held elsewhere)."""
        value = self.encode(obj)
        new_claims, old_claims = self._claims(obj), self._claims(old)
        added = {k: v for k, v in new_claims.items() if k not in old_claims}
        released = [k for k in old_claims if k not in new_claims]
        start = time.perf_counter()
        result = await self._etcd.txn(
            compare=[
                cmp_mod_revision(key.encode(), "=", rv),
                *(cmp_create_revision(k.encode(), "=", 0) for k in added),
            ],
            success=[
                op_put(key.encode(), value),
                *_puts(added),
                *(op_delete(k.encode()) for k in released),
            ],
            failure=[op_range(k.encode(), keys_only=True) for k in (key, *added)],
        )
        etcd_latency("update").observe(time.perf_counter() - start)
        if not result.succeeded:
            current = result.responses[0]
            if (
                isinstance(current, RangeResult)
                and current.kvs
                and current.kvs[0].mod_revision == rv
            ):
                raise ClaimTaken(_taken(list(added), result.responses[1:]), obj)
            return None
        object_meta(obj).resource_version = str(result.revision)
        return Stored(obj, result.revision)

    async def delete_if_unchanged(self, key: str, rv: int, *, old: Message) -> bool:
        """Delete the key if it still has mod revision rv (``old`` is the
        object stored there), with the claims old holds."""
        start = time.perf_counter()
        result = await self._etcd.txn(
            compare=[cmp_mod_revision(key.encode(), "=", rv)],
            success=[op_delete(k.encode()) for k in (key, *self._claims(old))],
            failure=[],
        )
        etcd_latency("delete").observe(time.perf_counter() - start)
        return result.succeeded

    async def guaranteed_update(
        self,
        key: str,
        update: UpdateFn,
        *,
        not_found: Callable[[], errors.ApiError],
    ) -> tuple[Stored, bool]:
        """Read-modify-write until it sticks.

        ``update(current, rv)`` returns the new object, or None for "no
        change"; it may raise an ApiError (Conflict when the caller's
        precondition no longer holds). Returns the stored object and whether
        anything was written. A write that would not change the stored bytes
        is skipped, as Kubernetes skips no-op updates.
        """
        for _ in range(MAX_UPDATE_ATTEMPTS):
            current = await self.get(key)
            if current is None:
                raise not_found()
            before = self.encode(current.obj)
            new = await update(self._cls.FromString(before), current.rv)
            if new is None or self.encode(new) == before:
                return current, False
            stored = await self.put_if_unchanged(key, new, current.rv, old=current.obj)
            if stored is not None:
                return stored, True
        raise errors.Conflict(
            f"gave up after {MAX_UPDATE_ATTEMPTS} attempts: the object keeps changing; try again"
        )

    async def claimed(self, prefix: str) -> set[str]:
        """The claimed values (key suffixes) under a claim key prefix."""
        result = await self._etcd.range(prefix.encode(), prefix=True, keys_only=True)
        return {kv.key.decode()[len(prefix) :] for kv in result.kvs}


def _puts(claims: dict[str, bytes]) -> list[RequestOp]:
    return [op_put(k.encode(), v) for k, v in claims.items()]


def _exists(result: OpResult) -> bool:
    return isinstance(result, RangeResult) and bool(result.kvs)


def _taken(keys: list[str], results: list[OpResult]) -> list[str]:
    return [k for k, r in zip(keys, results, strict=True) if _exists(r)]


def _already_exists(obj: Message) -> errors.AlreadyExists:
    info = by_message(obj)
    name = object_meta(obj).name
    qualified = f"{info.plural}.{info.group}" if info.group else info.plural
    return errors.AlreadyExists(
        f'{qualified} "{name}" already exists', kind=info.plural, name=name, group=info.group
    )
