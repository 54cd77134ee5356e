"""The shape every controller has: informer handlers → work queue → sync(key).

A controller registers handlers on shared informers; handlers only map an
object to the key of the object that owns it and enqueue that key. Workers
take keys off a rate-limited queue (a key is never synced by two workers at
once) and call ``sync(key)``, which re-reads the caches, compares desired
with observed state, acts through the API and returns an optional delay
after which the key is synced again. Errors are retried with backoff
(pinnace.client.workqueue.run_workers).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pinnace.client.aio import AsyncClient
from pinnace.client.events import EventRecorder
from pinnace.client.informer import (
    DeletedFinalStateUnknown,
    Informer,
    SharedInformerFactory,
    object_key,
)
from pinnace.client.workqueue import RateLimitingQueue, WorkqueueMetrics, run_workers
from pinnace.machinery.timeutil import Clock, RealClock


@dataclass
class ControllerContext:
    """What every controller shares: the client, informers, events, clock."""

    client: AsyncClient
    informers: SharedInformerFactory
    recorder: EventRecorder
    clock: Clock = field(default_factory=RealClock)
    metrics: WorkqueueMetrics | None = None
    options: Any = None  # the parsed command-line flags

    def informer(self, kind: Any, **kwargs: Any) -> Informer:
        return self.informers.informer(kind, **kwargs)


class Controller(abc.ABC):
    """Base of every controller; subclasses set ``name`` and implement
    ``setup`` (register handlers) and ``sync``."""

    name: ClassVar[str]
    default_workers: ClassVar[int] = 5

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.recorder = ctx.recorder
        self.log = logging.getLogger(f"controllers.{self.name}")
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(name=self.name, metrics=ctx.metrics)
        self.setup()

    @abc.abstractmethod
    def setup(self) -> None:
        """Get informers from ctx and register handlers that enqueue keys."""

    @abc.abstractmethod
    async def sync(self, key: str) -> float | None:
        """Make the world match the object at key; return a requeue delay or None."""

    def enqueue(self, obj: Any) -> None:
        self.queue.add(key_of(obj))

    def enqueue_after(self, obj: Any, delay: float) -> None:
        self.queue.add_after(key_of(obj), delay)

    async def run(self, workers: int) -> None:
        self.log.info("starting %d workers", workers)
        try:
            await run_workers(self.queue, self.sync, workers=workers, log=self.log)
        finally:
            self.queue.shutdown()


def key_of(obj: Any) -> str:
    """namespace/name (or name) of an object or a tombstone."""
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    return object_key(obj)


def split_key(key: str) -> tuple[str, str]:
    namespace, _, name = key.rpartition("/")
    return namespace, name


def unwrap(obj: Any) -> Any:
    """The object inside a tombstone (or the object itself)."""
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


ControllerFactory = Callable[[ControllerContext], Controller]
