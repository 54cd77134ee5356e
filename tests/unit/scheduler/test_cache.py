"""The cache: assumed pods (assume, confirm, forget, expire), observed pods
and nodes."""

from __future__ import annotations

import pytest

from pinnace.machinery.timeutil import FakeClock
from scheduler.cache import Cache
from tests.unit.scheduler.builders import bound, info, node, pod


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> Cache:
    c = Cache(assumed_ttl=30, clock=clock.monotonic)
    c.add_node(node("n1"))
    c.add_node(node("n2"))
    return c


def requested(cache: Cache, name: str) -> int:
    return cache.node_info(name).requested.milli_cpu


def test_assume_counts_at_once(cache):
    cache.assume_pod(info(pod("p", cpu="1")), "n1")
    assert cache.is_assumed("default/p")
    assert requested(cache, "n1") == 1000
    assert len(cache.node_info("n1").pods) == 1


def test_forget_undoes_assume(cache):
    cache.assume_pod(info(pod("p", cpu="1")), "n1")
    cache.forget_pod("default/p")
    assert not cache.is_assumed("default/p")
    assert requested(cache, "n1") == 0


def test_assume_twice_is_an_error(cache):
    cache.assume_pod(info(pod("p")), "n1")
    with pytest.raises(ValueError):
        cache.assume_pod(info(pod("p")), "n2")


def test_informer_confirms_assumed_pod(cache, clock):
    p = pod("p", cpu="1")
    cache.assume_pod(info(p), "n1")
    cache.finish_binding("default/p")
    cache.add_pod(bound(p, "n1"))
    assert not cache.is_assumed("default/p")
    clock.advance(100)
    assert cache.cleanup_expired() == []
    assert requested(cache, "n1") == 1000


def test_confirmation_on_another_node_moves_the_pod(cache):
    p = pod("p", cpu="1")
    cache.assume_pod(info(p), "n1")
    cache.add_pod(bound(p, "n2"))
    assert (requested(cache, "n1"), requested(cache, "n2")) == (0, 1000)


def test_assumed_pod_expires_only_after_binding_finished(cache, clock):
    cache.assume_pod(info(pod("p", cpu="1")), "n1")
    clock.advance(100)
    assert cache.cleanup_expired() == []  # bind still in flight: never expires
    cache.finish_binding("default/p")
    clock.advance(29)
    assert cache.cleanup_expired() == []
    clock.advance(2)
    assert cache.cleanup_expired() == ["default/p"]
    assert requested(cache, "n1") == 0


def test_terminal_and_deleted_pods_free_resources(cache):
    p = bound(pod("p", cpu="1"), "n1")
    cache.add_pod(p)
    done = bound(pod("p", cpu="1"), "n1")
    done.status.phase = "Succeeded"
    cache.update_pod(done)
    assert requested(cache, "n1") == 0
    cache.add_pod(p)
    cache.remove_pod(p)
    assert requested(cache, "n1") == 0


def test_node_infos_only_known_nodes_sorted(cache):
    cache.add_pod(bound(pod("p"), "ghost"))  # a pod on a node not seen yet
    assert [n.name for n in cache.node_infos()] == ["n1", "n2"]
    cache.add_node(node("ghost"))
    assert [n.name for n in cache.node_infos()] == ["ghost", "n1", "n2"]
    assert len(cache.node_info("ghost").pods) == 1


def test_removed_node_keeps_accounting_until_pods_go(cache):
    p = bound(pod("p", cpu="1"), "n1")
    cache.add_pod(p)
    cache.remove_node("n1")
    assert [n.name for n in cache.node_infos()] == ["n2"]
    cache.remove_pod(p)
    assert cache.node_info("n1") is None


def test_node_update_changes_allocatable(cache):
    cache.update_node(node("n1", cpu="8"))
    assert cache.node_info("n1").allocatable.milli_cpu == 8000
