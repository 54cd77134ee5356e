"""Per (DaemonSet, node) backoff before deleting another failed daemon pod
(Kubernetes' failedPodsBackoff: 1 s doubling to 15 min).

A daemon pod that keeps failing on a node would otherwise be deleted and
re-created in a hot loop. ``remaining(key)`` says how long the last
deletion on that node still holds the next one back; ``next(key)``
records a deletion and doubles the delay; entries idle for twice the
maximum are forgotten. The mechanics are the shared
``pinnace.machinery.backoff.Backoff``; this module only fixes the policy.
"""

from __future__ import annotations

from collections.abc import Callable

from pinnace.machinery.backoff import Backoff

__all__ = ["INITIAL", "MAXIMUM", "FailedPodBackoff"]

INITIAL = 1.0
MAXIMUM = 900.0


class FailedPodBackoff(Backoff):
    """``Backoff`` with the DaemonSet controller's failedPodsBackoff policy."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        initial: float = INITIAL,
        maximum: float = MAXIMUM,
    ) -> None:
        super().__init__(initial, maximum, clock=clock)
