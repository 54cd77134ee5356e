"""Recording a chaos run as it happens: one thread per recorded resource
lists it and then watches it through the SDK (which resumes a broken
stream from the last resourceVersion, on whichever apiserver answers), and
one thread samples the nodes' container processes.

* A watch refused with 410 Expired (the resume point left the watch
  cache's window) is followed by a new list, recorded as ``RELIST``.
* Any other failure of a watch (the SDK gives up only on errors a resume
  cannot help) is retried from the last resourceVersion after a short,
  growing delay; it is counted in ``errors``.
* Bookmarks are not recorded but advance ``seen[resource]``, the
  resourceVersion up to which the resource's history is complete: the
  engine waits for it to pass a final list before stopping.

``stop()`` ends the threads: a watch thread checks between events, and
bookmarks come every ``--bookmark-interval`` (0.5 s in these clusters); a
watch also ends every ``WATCH_SECONDS`` and is reopened where it stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from pinnace.client import Client
from pinnace.client.config import ClientConfig
from pinnace.machinery import errors
from tests.chaos.history import LIST, RELIST, History, ProcessSample, Recorded
from tests.chaos.processes import PodDirs, wrappers

__all__ = ["SAMPLE_INTERVAL", "Recorder"]

log = logging.getLogger(__name__)

SAMPLE_INTERVAL = 0.2  # seconds between samples of the container processes
WATCH_SECONDS = 30.0
RETRY_START, RETRY_MAX = 0.1, 2.0


class Recorder:
    """Records ``resources`` (cluster-scoped ones across the cluster, the
    others in ``namespace``) and the processes of the cluster in ``data_dir``."""

    def __init__(
        self,
        config: ClientConfig,
        namespace: str,
        resources: tuple[str, ...],
        data_dir: Path,
        *,
        clock: Any = time.monotonic,
    ) -> None:
        self.history = History(started=time.time())
        self.namespace = namespace
        self.seen: dict[str, int] = {}
        self.errors: list[str] = []
        self._clock = clock
        self._start = clock()
        self._lock = threading.Lock()
        self._seq = 0
        self._stop = threading.Event()
        self._client = Client(config=config, timeout=10)
        self._dirs = PodDirs(data_dir)
        self._threads = [
            threading.Thread(target=self._record, args=(r,), name=f"record-{r}", daemon=True)
            for r in resources
        ]
        self._threads.append(
            threading.Thread(target=self._sample, name="record-processes", daemon=True)
        )

    def now(self) -> float:
        """Seconds since the recorder was made: the clock of the whole history."""
        return self._clock() - self._start

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def listed(self, resources: tuple[str, ...], timeout: float) -> bool:
        """Whether every resource has its first list within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not all(r in self.seen for r in resources):
            if time.monotonic() > deadline:
                return False
            self._stop.wait(0.05)
        return True

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(WATCH_SECONDS + 5)
        self._client.close()

    # ---- the threads ---------------------------------------------------------------

    def _add(
        self, resource: str, type_: str, rv: int, obj: Any = None, objects: tuple = ()
    ) -> None:
        with self._lock:
            self._seq += 1
            self.history.events.append(
                Recorded(self._seq, self.now(), resource, type_, rv, obj, objects)
            )
            self.seen[resource] = max(self.seen.get(resource, 0), rv)

    def _list(self, resource: str, type_: str) -> int:
        handle = self._client.resource(resource, self.namespace)
        while True:
            try:
                page = handle.list()
                break
            except (errors.Unavailable, errors.Timeout, errors.InternalError) as e:
                self._note(resource, "list", e)
                self._stop.wait(RETRY_START)
        rv = int(page.resource_version)
        self._add(resource, type_, rv, objects=tuple(page.items))
        return rv

    def _note(self, resource: str, what: str, err: BaseException) -> None:
        with self._lock:
            self.errors.append(f"{self.now():.1f}s {resource} {what}: {err!r}")

    def _record(self, resource: str) -> None:
        handle = self._client.resource(resource, self.namespace)
        rv = self._list(resource, LIST)
        delay = RETRY_START
        while not self._stop.is_set():
            try:
                for ev in handle.watch(resource_version=str(rv), timeout=WATCH_SECONDS):
                    delay = RETRY_START
                    rv = int(ev.resource_version or rv)
                    if ev.type == "BOOKMARK":
                        with self._lock:
                            self.seen[resource] = max(self.seen.get(resource, 0), rv)
                    else:
                        self._add(resource, ev.type, rv, obj=ev.object)
                    if self._stop.is_set():
                        return
            except errors.Expired:
                rv = self._list(resource, RELIST)
            except errors.ApiError as e:
                self._note(resource, "watch", e)
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX)

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL):
            at = self.now()
            procs, _ = wrappers(self._dirs)
            with self._lock:
                self.history.samples.append(ProcessSample(at, tuple(procs)))
