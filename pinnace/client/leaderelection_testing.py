"""In-memory ``LeaseLock`` for tests of code that uses leader election."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace

from pinnace.client.leaderelection import LeaseRecord, LockConflict

__all__ = ["MemoryLeaseLock"]


class MemoryLeaseLock:
    """A ``LeaseLock`` over a dict shared by the candidates of one test.

    Give every candidate its own lock on the same ``store`` and ``name``: each
    lock can then be made to fail on its own by setting ``fail`` to an
    exception, which every call raises (a lost connection). Every call yields to
    the event loop once, so candidates interleave between a read and a write
    as they would over a network.
    """

    _versions = itertools.count(1)

    def __init__(
        self, store: dict[str, LeaseRecord] | None = None, name: str = "default/leader"
    ) -> None:
        self.store: dict[str, LeaseRecord] = {} if store is None else store
        self.name = name
        self.fail: BaseException | None = None
        self.writes = 0  # successful creates and updates through this lock

    async def get(self) -> LeaseRecord | None:
        await self._io()
        return self.store.get(self.name)

    async def create(self, record: LeaseRecord) -> LeaseRecord:
        await self._io()
        if self.name in self.store:
            raise LockConflict(f"lease {self.name} already exists")
        return self._write(record)

    async def update(self, record: LeaseRecord) -> LeaseRecord:
        await self._io()
        current = self.store.get(self.name)
        if current is None or current.resource_version != record.resource_version:
            raise LockConflict(
                f"lease {self.name}: resource version {record.resource_version!r} is stale"
            )
        return self._write(record)

    def describe(self) -> str:
        return self.name

    async def _io(self) -> None:
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail

    def _write(self, record: LeaseRecord) -> LeaseRecord:
        stored = replace(record, resource_version=str(next(self._versions)))
        self.store[self.name] = stored
        self.writes += 1
        return stored
