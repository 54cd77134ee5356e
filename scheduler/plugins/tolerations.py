"""Whether tolerations tolerate a taint (Kubernetes' ``Toleration.ToleratesTaint``).

A toleration matches a taint when its effect is empty or equal, and either
its operator is ``Exists`` (an empty key then matches every key) or it is
``Equal`` (the default) with the same key and value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def tolerates(toleration: Any, taint: Any) -> bool:
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    op = toleration.operator or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return bool(toleration.key) and toleration.value == taint.value
    return False


def tolerated(tolerations: Iterable[Any], taint: Any) -> bool:
    return any(tolerates(t, taint) for t in tolerations)
