"""The apiserver killed with SIGKILL and restarted loses nothing; compaction
expires old resourceVersions and continue tokens."""

from __future__ import annotations

import asyncio
import threading

import pytest

from apiserver.etcd.client import EtcdClient
from apiserver.etcd.errors import CompactedError
from pinnace.client import AsyncClient, Client
from pinnace.machinery import errors
from tests.integration.api.helpers import await_for, gone, wait_for
from tests.integration.api.objects import BY_RESOURCE, pod


def test_sigkill_and_restart(own_apiserver, namespace: str) -> None:
    """Objects, resourceVersions and uids survive; a watch opened before the
    kill resumes after the restart without losing or repeating an event; a
    namespace left Terminating is finished by the restarted server."""
    server = own_apiserver()
    with Client(config=server.config, timeout=10) as c:
        pods = c.pods(namespace)
        made = [pods.create(pod(f"p{i}")) for i in range(3)]
        start = pods.list().resource_version
        pods.patch("p0", {"metadata": {"labels": {"before": "kill"}}})
        seen: list[tuple[str, str]] = []
        done = threading.Event()

        def watch() -> None:
            for ev in pods.watch(resource_version=start, timeout=20, allow_bookmarks=False):
                seen.append((ev.type, ev.object.metadata.name))
                if ev.type == "DELETED":
                    done.set()
                    return

        t = threading.Thread(target=watch, daemon=True)
        t.start()
        wait_for(lambda: seen, what="the watch's first event")
        server.component.kill()
        assert not server.component.running()
        server.restart()

        after = {p.metadata.name: p for p in pods.list().items}
        assert sorted(after) == ["p0", "p1", "p2"]
        for old in made[1:]:
            assert after[old.metadata.name] == old
        assert after["p0"].metadata.uid == made[0].metadata.uid
        assert after["p0"].metadata.labels["before"] == "kill"
        pods.create(pod("p3"))
        pods.delete("p1")
        assert done.wait(15), f"the watch did not resume: {seen}"
        t.join(5)
        assert seen == [("MODIFIED", "p0"), ("ADDED", "p3"), ("DELETED", "p1")]

        # Kill while a namespace is Terminating: the new server finishes it.
        other = f"{namespace}-x"
        c.namespaces().create(BY_RESOURCE["namespaces"].new(other))
        held = pod("held")
        held.metadata.finalizers.append("example.com/hold")
        c.pods(other).create(held)
        c.namespaces().delete(other)
        wait_for(
            lambda: c.pods(other).get("held").metadata.deletion_timestamp, what="held deleting"
        )
        server.component.kill()
        server.restart()
        assert c.namespaces().get(other).status.phase == "Terminating"
        c.pods(other).patch("held", {"metadata": {"finalizers": None}})
        wait_for(gone(lambda: c.namespaces().get(other)), what="namespace finalized after restart")


async def test_compaction_expires_old_versions(own_apiserver, own_etcd, namespace: str) -> None:
    """With --etcd-compaction-interval 0.3 the apiserver compacts etcd; a
    continue token from before the compaction is Expired, and after a restart
    (the cache relists) so is a watch from a compacted resourceVersion."""
    server = own_apiserver("--etcd-compaction-interval", "0.3", etcd=own_etcd.endpoint)
    async with AsyncClient(config=server.config, timeout=10) as c:
        await c.namespaces().create(BY_RESOURCE["namespaces"].new(namespace))
        leases = c.leases(namespace)
        for i in range(4):
            await leases.create(BY_RESOURCE["leases.coordination.k8s.io"].new(f"l{i}"))
        page = await leases.list(limit=2)
        old_rv = int(page.resource_version)
        await leases.patch("l0", {"spec": {"holderIdentity": "moved"}})

        etcd = EtcdClient([own_etcd.endpoint])
        try:

            async def compacted() -> bool:
                try:
                    await etcd.range(b"/registry/", revision=old_rv)
                except CompactedError:
                    return True
                return False

            await await_for(compacted, timeout=10, what="the apiserver to compact etcd")
        finally:
            await etcd.close()

        with pytest.raises(errors.Expired) as info:
            await leases.list(limit=2, continue_token=page.continue_token)
        assert "continue" in info.value.message and info.value.status.code == 410

        await asyncio.to_thread(server.component.kill)
        await asyncio.to_thread(server.restart)
        stream = leases.watch(resource_version=str(old_rv))
        with pytest.raises(errors.Expired):
            await asyncio.wait_for(stream.__anext__(), 5)
        await stream.aclose()
        # Relisting recovers.
        fresh = await leases.list()
        assert len(fresh.items) == 4
        stream = leases.watch(resource_version=fresh.resource_version)
        await leases.delete("l3")
        ev = await asyncio.wait_for(stream.__anext__(), 5)
        while ev.type == "BOOKMARK":
            ev = await asyncio.wait_for(stream.__anext__(), 5)
        await stream.aclose()
        assert (ev.type, ev.object.metadata.name) == ("DELETED", "l3")
