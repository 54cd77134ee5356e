"""Leader election on coordination.k8s.io/v1 Lease objects, as client-go's tools/leaderelection.

Candidates share one Lease. The holder renews it every ``retry_period``;
the others retry every ``retry_period`` (jittered) and take it over when it
is free or expired.

Expiry is judged by *local observation*, never by the timestamps in the
Lease: a candidate remembers when it last saw the record change (on its own
monotonic ``clock``) and treats the lease as expired once
``lease_duration_seconds`` have passed since then without another change. So
clock skew between machines does not matter, only the rate at which clocks
advance. A consequence: a candidate that starts while a dead holder's lease
is in the store waits one full lease duration before taking over.

Every write is an update carrying the resourceVersion that was read; a
``LockConflict`` means another candidate wrote first, and the attempt fails.

Safety rests on timing, as in Kubernetes: a leader that cannot renew for
``renew_deadline`` stops leading (its ``on_started_leading`` task is cancelled
and awaited) before ``lease_duration`` runs out, which is when another
candidate may take over. Hence ``lease_duration > renew_deadline >
1.2 * retry_period``. A leader that stops while still holding the lease
releases it (``release_on_cancel``) so another candidate takes over at its
next retry instead of after a lease duration.

The lease is reached through ``LeaseLock`` so this module does not depend on
any API client; ``leaderelection_testing.MemoryLeaseLock`` is an in-memory one.

Leadership is not fencing (client-go says the same): a leader stopped
for a while (SIGSTOP, a hang, a starved process) runs on when it resumes,
before its renewal loop finds the lease gone, and its work would act on
caches older than the new leader's. So the leading task, and every task
it starts, can ask ``leadership_current()``: False once the last
successful renewal is older than ``renew_deadline`` (when the leader is
about to stop anyway), True again after a renewal; ``await
leadership_confirmed()`` waits for that. The work queue's workers
(workqueue.run_workers) wait for it before each sync, which
closes that window for the controller-manager's controllers (the chaos
suite saw a controller-manager resumed after 3.9 s create a pod from its
stale cache 22 ms before it noticed the lease was taken).

Differences from client-go: ``on_stopped_leading`` is only called if this
candidate did lead; ``on_new_leader`` is not called for an empty holder (a
released lease); ``run()`` also stops leading when ``on_started_leading``
returns or raises (its error is re-raised), and stops renewing as soon as it
sees another candidate holding a valid lease.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = [
    "JITTER_FACTOR",
    "LeaderElector",
    "LeaseLock",
    "LeaseRecord",
    "LockConflict",
    "leadership_confirmed",
    "leadership_current",
]

logger = logging.getLogger(__name__)

# Acquire retries wait retry_period * (1 + random() * JITTER_FACTOR), as client-go.
JITTER_FACTOR = 1.2


@dataclass(frozen=True)
class LeaseRecord:
    """The leader-election fields of a Lease's spec, plus its resourceVersion.

    ``lease_duration_seconds`` is a float so tests can use sub-second leases; a
    lock backed by real Lease objects (int32 seconds) rounds it up.
    """

    holder_identity: str = ""
    lease_duration_seconds: float = 0.0
    acquire_time: datetime | None = None
    renew_time: datetime | None = None
    lease_transitions: int = 0
    resource_version: str = ""

    def same_spec(self, other: LeaseRecord | None) -> bool:
        """True if ``other`` holds the same fields, ignoring the resource version."""
        return other is not None and replace(self, resource_version="") == replace(
            other, resource_version=""
        )


class LockConflict(Exception):
    """The lease was written by someone else since it was read (or created meanwhile)."""


class LeaseLock(Protocol):
    """Storage of one Lease."""

    async def get(self) -> LeaseRecord | None:
        """The current record, or None if the Lease does not exist."""
        ...

    async def create(self, record: LeaseRecord) -> LeaseRecord:
        """Create the Lease; raises ``LockConflict`` if it exists already."""
        ...

    async def update(self, record: LeaseRecord) -> LeaseRecord:
        """Replace the record if ``record.resource_version`` is current, else raise
        ``LockConflict``. Returns the stored record with its new resource version."""
        ...

    def describe(self) -> str:
        """A name for logs, e.g. ``kube-system/controller-manager``."""
        ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


# The elector whose leading task (or a task it started) is running.
_LEADERSHIP: contextvars.ContextVar[LeaderElector | None] = contextvars.ContextVar(
    "pinnace_leadership", default=None
)


def leadership_current() -> bool:
    """False in work started by a leader whose last successful renewal is
    older than its renew deadline; True everywhere else (see the module
    docstring)."""
    elector = _LEADERSHIP.get()
    return elector is None or elector.renewed_within_deadline()


async def leadership_confirmed() -> None:
    """Return once ``leadership_current()``: at once, or at the leader's next
    renewal (if it stops leading instead, the waiting work is cancelled)."""
    elector = _LEADERSHIP.get()
    while elector is not None and not elector.renewed_within_deadline():
        await elector.next_renewal()


class LeaderElector:
    """One candidate for the lease; ``run()`` campaigns, leads, and returns when it stops.

    ``on_started_leading`` runs as a task while this candidate leads and is
    cancelled when it stops; ``on_stopped_leading`` is called after that task
    has finished and the lease was released; ``on_new_leader`` is called with
    each new holder identity this candidate observes (itself included).
    """

    def __init__(
        self,
        lock: LeaseLock,
        identity: str,
        *,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        on_started_leading: Callable[[], Coroutine[Any, Any, None]] | None = None,
        on_stopped_leading: Callable[[], None] | None = None,
        on_new_leader: Callable[[str], None] | None = None,
        release_on_cancel: bool = True,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger] = logger,
    ) -> None:
        if not identity:
            raise ValueError("identity must not be empty")
        if retry_period <= 0:
            raise ValueError("retry_period must be > 0")
        if lease_duration <= renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if renew_deadline <= JITTER_FACTOR * retry_period:
            raise ValueError(f"renew_deadline must be greater than retry_period * {JITTER_FACTOR}")
        self.lock = lock
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.release_on_cancel = release_on_cancel
        self._on_started_leading = on_started_leading
        self._on_stopped_leading = on_stopped_leading
        self._on_new_leader = on_new_leader
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._log = log
        self._observed: LeaseRecord | None = None
        self._observed_at = 0.0  # self._clock() when _observed last changed
        self._reported_leader = ""
        self._leading = False
        self._renewed_at: float | None = None  # self._clock() at the last acquire or renewal
        self._renewal = asyncio.Event()  # set (and replaced) at each acquire or renewal

    def is_leader(self) -> bool:
        """True while ``run()`` leads and the last record seen names this candidate."""
        return self._leading and self._holds_observed()

    def renewed_within_deadline(self) -> bool:
        """True while leading and the last acquire or renewal is less than
        ``renew_deadline`` old."""
        return (
            self._leading
            and self._renewed_at is not None
            and self._clock() - self._renewed_at < self.renew_deadline
        )

    async def next_renewal(self) -> None:
        """Wait for the next successful acquire or renewal."""
        await self._renewal.wait()

    def leader(self) -> str:
        """The holder identity in the last record seen ("" if none)."""
        return self._observed.holder_identity if self._observed else ""

    async def run(self) -> None:
        """Campaign until this candidate leads, lead, and return once it stopped leading.

        Leading stops when the lease cannot be renewed for ``renew_deadline``,
        when ``on_started_leading`` returns or raises (re-raised here), or when
        ``run()`` is cancelled.
        """
        await self._acquire()
        self._leading = True
        self._log.info("%s acquired lease %s", self.identity, self.lock.describe())
        renewing = asyncio.create_task(self._renew(), name=f"lease-renew-{self.identity}")
        tasks = {renewing}
        leading: asyncio.Task[None] | None = None
        if self._on_started_leading is not None:
            context = contextvars.copy_context()
            context.run(_LEADERSHIP.set, self)
            leading = asyncio.create_task(
                self._on_started_leading(), name=f"leading-{self.identity}", context=context
            )
            tasks.add(leading)
        error: BaseException | None = None
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._leading = False
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            for ended in (leading, renewing):
                if ended is not None and not ended.cancelled() and error is None:
                    error = ended.exception()
            if self.release_on_cancel:
                await self._release()
            self._log.info("%s stopped leading lease %s", self.identity, self.lock.describe())
            if self._on_stopped_leading is not None:
                self._on_stopped_leading()
        if error is not None:
            raise error

    async def try_acquire_or_renew(self) -> bool:
        """Make one attempt to take or renew the lease; True if this candidate holds it now.

        Lock errors are logged and count as a failed attempt.
        """
        try:
            held = await self._try_acquire_or_renew()
        except LockConflict:
            self._log.debug("lease %s: conflict, someone else wrote it", self.lock.describe())
            return False
        except Exception as err:
            self._log.warning(
                "%s: error acquiring or renewing lease %s: %s",
                self.identity,
                self.lock.describe(),
                err,
            )
            return False
        if held:
            self._renewed_at = self._clock()
            renewal, self._renewal = self._renewal, asyncio.Event()
            renewal.set()
        return held

    async def _try_acquire_or_renew(self) -> bool:
        now = self._wall_clock()
        desired = LeaseRecord(
            holder_identity=self.identity,
            lease_duration_seconds=self.lease_duration,
            acquire_time=now,
            renew_time=now,
        )

        # 1. Fast path: renew a lease we hold, with the resource version we wrote last.
        observed = self._observed
        if observed is not None and self._holds_observed() and self._observed_valid():
            try:
                updated = await self.lock.update(
                    replace(
                        desired,
                        acquire_time=observed.acquire_time,
                        lease_transitions=observed.lease_transitions,
                        resource_version=observed.resource_version,
                    )
                )
            except Exception as err:
                self._log.debug(
                    "renewing lease %s failed, re-reading it: %s", self.lock.describe(), err
                )
            else:
                self._observe(updated)
                return True

        # 2. Read the lease; create it if there is none.
        current = await self.lock.get()
        if current is None:
            self._observe(await self.lock.create(desired))
            return True

        # 3. Someone else holds a lease that has not expired by our observation.
        self._observe(current)
        if current.holder_identity and self._observed_valid() and not self._holds_observed():
            return False

        # 4. Take it over, or renew it after the fast path failed.
        if self._holds_observed():
            desired = replace(
                desired,
                acquire_time=current.acquire_time,
                lease_transitions=current.lease_transitions,
            )
        else:
            desired = replace(desired, lease_transitions=current.lease_transitions + 1)
        self._observe(
            await self.lock.update(replace(desired, resource_version=current.resource_version))
        )
        return True

    async def _acquire(self) -> None:
        self._log.info("%s attempting to acquire lease %s", self.identity, self.lock.describe())
        while not await self.try_acquire_or_renew():
            self._log.debug(
                "lease %s is held by %r and has not expired", self.lock.describe(), self.leader()
            )
            await asyncio.sleep(self.retry_period * (1 + self._rng.random() * JITTER_FACTOR))

    async def _renew(self) -> None:
        """Renew every retry_period; return when that keeps failing for renew_deadline."""
        while True:
            try:
                async with asyncio.timeout(self.renew_deadline):
                    while not await self.try_acquire_or_renew():
                        if self._lost_to_another():
                            self._log.warning(
                                "%s: lease %s was taken by %r",
                                self.identity,
                                self.lock.describe(),
                                self.leader(),
                            )
                            return
                        await asyncio.sleep(self.retry_period)
            except TimeoutError:
                self._log.error(
                    "%s: failed to renew lease %s within %.3gs",
                    self.identity,
                    self.lock.describe(),
                    self.renew_deadline,
                )
                return
            await asyncio.sleep(self.retry_period)

    async def _release(self) -> None:
        """Hand the lease back (empty holder, 1 s duration) if we still hold it."""
        observed = self._observed
        if observed is None or not self._holds_observed():
            return
        now = self._wall_clock()
        released = LeaseRecord(
            holder_identity="",
            lease_duration_seconds=1,
            acquire_time=now,
            renew_time=now,
            lease_transitions=observed.lease_transitions,
            resource_version=observed.resource_version,
        )
        try:
            async with asyncio.timeout(self.renew_deadline):
                try:
                    self._observe(await self.lock.update(released))
                except LockConflict:
                    # A renewal cancelled in flight may still have been
                    # written: re-read, and release again if we still hold it.
                    current = await self.lock.get()
                    if current is None or current.holder_identity != self.identity:
                        return
                    again = replace(released, resource_version=current.resource_version)
                    self._observe(await self.lock.update(again))
        except Exception as err:
            self._log.warning(
                "%s: failed to release lease %s: %s", self.identity, self.lock.describe(), err
            )

    def _observe(self, record: LeaseRecord) -> None:
        if not record.same_spec(self._observed):
            self._observed_at = self._clock()
        self._observed = record
        holder = record.holder_identity
        if holder and holder != self._reported_leader:
            self._reported_leader = holder
            if self._on_new_leader is not None:
                try:
                    self._on_new_leader(holder)
                except Exception:
                    self._log.exception("on_new_leader callback failed")

    def _holds_observed(self) -> bool:
        return self._observed is not None and self._observed.holder_identity == self.identity

    def _observed_valid(self) -> bool:
        if self._observed is None:
            return False
        return self._observed_at + self._observed.lease_duration_seconds > self._clock()

    def _lost_to_another(self) -> bool:
        return (
            self._observed is not None
            and bool(self._observed.holder_identity)
            and not self._holds_observed()
            and self._observed_valid()
        )
