"""Opening a watch, for both front doors (gRPC and HTTP).

resourceVersion "" or "0": the current state first, as ADDED events
(after waiting for the cache to reach etcd's revision for ""). A number:
every change after it; a number the cache has not reached yet (a client
failing over from a newer apiserver) waits up to ``CATCH_UP_SECONDS`` for
the cache; one older than the cache's window is Expired (410), so the
client relists.
"""

from __future__ import annotations

from apiserver.registry.resource import Resource
from apiserver.storage.watchcache import Filter, Watcher
from pinnace.machinery import errors

__all__ = ["CATCH_UP_SECONDS", "open_watch"]

# Kubernetes answers "Too large resource version" after a few seconds.
CATCH_UP_SECONDS = 3.0


async def open_watch(
    res: Resource, flt: Filter, resource_version: str, *, bookmarks: bool
) -> Watcher:
    since: int | None = None
    if resource_version not in ("", "0"):
        try:
            since = int(resource_version)
        except ValueError:
            raise errors.BadRequest(f'invalid resourceVersion "{resource_version}"') from None
    elif resource_version == "":
        await res.cache.wait_fresh(await res.store.current_revision())
    if since is not None and since > res.cache.rv:
        await res.cache.wait_fresh(since, timeout=CATCH_UP_SECONDS)
    return res.cache.watch(flt, since=since, bookmarks=bookmarks)
