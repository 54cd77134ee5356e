"""Periodic etcd compaction, as Kubernetes' apiserver does it.

Every ``interval`` seconds, compact etcd to the revision it had one interval
earlier, so at least ``interval`` seconds of history always stay available to
watches that resume. Several apiservers may compact at once: etcd refuses a
compaction to an already compacted revision, which is harmless.
"""

from __future__ import annotations

import asyncio
import logging

from apiserver.etcd.client import EtcdClient
from apiserver.etcd.errors import EtcdError

log = logging.getLogger(__name__)


async def compact_forever(etcd: EtcdClient, interval: float) -> None:
    previous = 0
    while True:
        await asyncio.sleep(interval)
        try:
            current = (await etcd.status()).revision
            if previous:
                await etcd.compact(previous)
                log.info("compacted etcd to revision %d", previous)
            previous = current
        except asyncio.CancelledError:
            raise
        except EtcdError as e:
            log.info("etcd compaction skipped: %s", e)
            previous = 0
        except Exception:
            log.exception("etcd compaction failed")
