"""Controller expectations: do not act twice before the cache has caught up.

Kubernetes' ``ControllerExpectations`` (pkg/controller/controller_utils.go):
before creating N pods for a key, a controller records that it expects N
creations; each pod the informer then sees lowers the count (``creation_observed``);
a pod that failed to be created lowers it too. While expectations are not
satisfied the controller does not create or delete more: its cache would
still show the old number of pods. Expectations expire after
``EXPECTATIONS_TIMEOUT`` (5 minutes) so a lost event cannot stall a key
forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

EXPECTATIONS_TIMEOUT = 300.0


@dataclass
class _Expected:
    adds: int
    dels: int
    stamp: float
    # uids of pods we asked to delete, so a delete is observed once
    deleting: set[str]


class Expectations:
    """Per-key pending creations and deletions."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, timeout: float = EXPECTATIONS_TIMEOUT
    ) -> None:
        self._clock = clock
        self._timeout = timeout
        self._items: dict[str, _Expected] = {}

    def expect_creations(self, key: str, count: int) -> None:
        """Record that ``count`` pods are about to be created for key."""
        self._items[key] = _Expected(count, 0, self._clock(), set())

    def expect_deletions(self, key: str, uids: list[str]) -> None:
        """Record that the pods with these uids are about to be deleted."""
        self._items[key] = _Expected(0, len(uids), self._clock(), set(uids))

    def creation_observed(self, key: str) -> None:
        item = self._items.get(key)
        if item is not None and item.adds > 0:
            item.adds -= 1

    def deletion_observed(self, key: str, uid: str) -> None:
        item = self._items.get(key)
        if item is not None and uid in item.deleting:
            item.deleting.discard(uid)
            item.dels -= 1

    def satisfied(self, key: str) -> bool:
        """True when nothing is pending for key, or the expectation expired."""
        item = self._items.get(key)
        if item is None:
            return True
        if item.adds <= 0 and item.dels <= 0:
            return True
        return self._clock() - item.stamp > self._timeout

    def forget(self, key: str) -> None:
        self._items.pop(key, None)
