"""LeaseLock over real Lease objects, and leader election between two
candidates through it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pinnace.client import AsyncClient
from pinnace.client.leaderelection import LeaseRecord, LockConflict
from pinnace.client.leaselock import LeaseLock, run_leader_elected
from tests.waiting import stays_async


async def test_lock_maps_records_to_leases(aclient: AsyncClient, namespace: str) -> None:
    lock = LeaseLock(aclient, namespace, "ctrl")
    other = LeaseLock(aclient, namespace, "ctrl")
    assert await lock.get() is None
    now = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    made = await lock.create(LeaseRecord("a", 0.7, now, now, 0))
    assert made.lease_duration_seconds == 1  # rounded up to whole seconds
    assert (made.holder_identity, made.acquire_time, made.renew_time) == ("a", now, now)
    assert made.resource_version
    with pytest.raises(LockConflict):
        await other.create(LeaseRecord("b", 1, now, now, 0))

    lease = await aclient.leases(namespace).get("ctrl")
    assert lease.spec.renew_time == "2024-05-01T12:00:00.123456Z"
    assert lease.spec.lease_duration_seconds == 1
    await aclient.leases(namespace).patch("ctrl", {"metadata": {"labels": {"team": "x"}}})

    with pytest.raises(LockConflict):  # the label patch made `made` stale
        await lock.update(replace(made, renew_time=now))
    current = await other.get()
    assert current is not None and current.same_spec(made)
    taken = await other.update(
        replace(current, holder_identity="b", lease_duration_seconds=15.2, lease_transitions=1)
    )
    assert (taken.holder_identity, taken.lease_duration_seconds, taken.lease_transitions) == (
        "b",
        16,
        1,
    )
    assert (await aclient.leases(namespace).get("ctrl")).metadata.labels["team"] == "x"
    await aclient.leases(namespace).delete("ctrl")
    with pytest.raises(LockConflict):
        await other.update(taken)


async def test_update_cancelled_in_flight_does_not_make_the_record_stale(
    aclient: AsyncClient, namespace: str
) -> None:
    """A leader cancelled during a renewal must still be able to release:
    the renewal may be committed although its caller never saw the answer."""
    lock = LeaseLock(aclient, namespace, "renew")
    now = datetime.now(UTC)
    held = await lock.create(LeaseRecord("a", 1, now, now, 0))
    renewing = asyncio.create_task(lock.update(replace(held, renew_time=datetime.now(UTC))))
    await asyncio.sleep(0)  # the renewal is on its way
    renewing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await renewing
    released = await lock.update(replace(held, holder_identity=""))  # read before the renewal
    assert released.holder_identity == ""
    assert (await lock.get()).holder_identity == ""
    with pytest.raises(LockConflict):  # someone else's stale record still conflicts
        await LeaseLock(aclient, namespace, "renew").update(held)


async def test_one_leader_and_handover_on_cancel(
    aclient: AsyncClient, namespace: str, eventually: Callable
) -> None:
    """Two candidates: exactly one leads; when it is cancelled it releases the
    lease, so the other leads long before the lease (10 s) could expire."""
    name = f"leader-{uuid.uuid4().hex[:6]}"
    leading: dict[str, bool] = {}
    both_led = False

    def body(identity: str) -> Callable:
        async def run() -> None:
            nonlocal both_led
            leading[identity] = True
            both_led = both_led or all(leading.get(i) for i in ("a", "b"))
            try:
                await asyncio.Event().wait()
            finally:
                leading[identity] = False

        return run

    candidates = {
        identity: asyncio.create_task(
            run_leader_elected(
                aclient,
                namespace=namespace,
                name=name,
                identity=identity,
                lease_duration=10,
                renew_deadline=0.7,
                retry_period=0.1,
                run=body(identity),
            )
        )
        for identity in ("a", "b")
    }
    try:
        first = await eventually(
            lambda: next((i for i in ("a", "b") if leading.get(i)), None), timeout=3
        )
        second = "b" if first == "a" else "a"
        # Over several renewals (retry period 0.1 s) the other never leads.
        await stays_async(lambda: not leading.get(second), 0.5, f"{second} does not lead")
        lease = await aclient.leases(namespace).get(name)
        assert lease.spec.holder_identity == first

        candidates[first].cancel()
        await asyncio.gather(candidates[first], return_exceptions=True)
        # Causality, not speed: within half the lease duration the other can
        # only lead if the cancelled leader released the lease.
        await eventually(lambda: leading.get(second), timeout=5.0)
        assert not leading.get(first) and not both_led
        lease = await aclient.leases(namespace).get(name)
        assert lease.spec.holder_identity == second
        assert lease.spec.lease_transitions >= 1
    finally:
        for t in candidates.values():
            t.cancel()
        await asyncio.gather(*candidates.values(), return_exceptions=True)
