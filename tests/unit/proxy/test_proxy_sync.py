"""The proxy's sync loop (proxy/app.py) with a fake nft: what it applies,
when it skips, how it batches and how it recovers from a refused script."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from pinnace.client.informer import Store
from pinnace.machinery.hostnet import HostNetError
from proxy.app import Proxier
from proxy.rules import ProxyConfig
from tests.unit.proxy.proxy_builders import ep, service, slice_
from tests.waiting import wait_until

CONFIG = ProxyConfig(
    cluster_cidr=ipaddress.IPv4Network("10.244.0.0/16"),
    service_cidr=ipaddress.IPv4Network("10.96.0.0/12"),
)


class FakeNft:
    """Records applied scripts; fails the next `fail` applies."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.fail = 0

    async def __call__(self, script: str) -> None:
        if self.fail:
            self.fail -= 1
            raise HostNetError("nft -f -: Error: something")
        self.applied.append(script)


def make(nft: FakeNft, *, min_sync_period: float = 0.1) -> tuple[Proxier, Store, Store]:
    services, slices = Store(), Store()
    proxier = Proxier(
        services=services,
        slices=slices,
        config=CONFIG,
        apply=nft,
        min_sync_period=min_sync_period,
    )
    return proxier, services, slices


async def test_sync_applies_then_skips_unchanged_and_forces() -> None:
    nft = FakeNft()
    proxier, services, slices = make(nft)
    services.upsert(service("web"))
    slices.upsert(slice_("web", [ep("10.244.1.5")]))
    assert await proxier.sync() is True
    assert "dnat to 10.244.1.5:8080" in nft.applied[-1]
    assert await proxier.sync() is False
    assert await proxier.sync(force=True) is True
    assert len(nft.applied) == 2 and proxier.first_applied.is_set()


async def test_refused_script_keeps_nothing_and_raises() -> None:
    nft = FakeNft()
    nft.fail = 1
    proxier, _, _ = make(nft)
    with pytest.raises(HostNetError):
        await proxier.sync()
    assert nft.applied == [] and not proxier.first_applied.is_set()


async def test_run_batches_a_burst_of_changes() -> None:
    """Ten changes marked within one min_sync_period: one apply after the first."""
    nft = FakeNft()
    proxier, services, _ = make(nft, min_sync_period=0.2)
    services.upsert(service("web0", cluster_ip="10.96.0.100"))
    proxier.mark_dirty()
    task = asyncio.create_task(proxier.run())
    try:
        await wait_until(lambda: len(nft.applied) == 1, 2.0, "first apply")
        for i in range(1, 11):
            services.upsert(service(f"web{i}", cluster_ip=f"10.96.0.{100 + i}"))
            proxier.mark_dirty()
        await wait_until(lambda: "10.96.0.110" in nft.applied[-1], 2.0, "the burst applied")
        assert len(nft.applied) == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_run_retries_a_refused_script() -> None:
    nft = FakeNft()
    nft.fail = 1
    proxier, services, _ = make(nft, min_sync_period=0)
    services.upsert(service("web"))
    proxier.mark_dirty()
    task = asyncio.create_task(proxier.run())
    try:
        await wait_until(lambda: len(nft.applied) == 1, 3.0, "applied on retry")
        assert "10.96.0.10 . tcp . 80" in nft.applied[0]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("which,args", [(0, 1), (1, 2), (2, 1)], ids=["add", "update", "delete"])
def test_each_handler_marks_a_change(which: int, args: int) -> None:
    proxier, _, _ = make(FakeNft())
    assert not proxier.pending
    proxier.handlers()[which](*([object()] * args))
    assert proxier.pending
