"""Owners' label selectors, parsed once per generation, and the owners that
select an object (for adopting orphans).

A workload's selector changes only with its spec, so ``SelectorCache``
keeps the parsed selector of each owner (by uid) until its
``metadata.generation`` changes. A malformed selector is logged once per
generation and reads as None: such an owner selects nothing (Kubernetes
leaves it alone too). An empty selector (``{}``) selects nothing as well,
when the kind says so (a DaemonSet, a ReplicaSet).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from pinnace.machinery.labels import Selector, SelectorError

__all__ = ["SelectorCache"]


class SelectorCache:
    """Parsed selectors of one kind of owner, memoized per (uid, generation)."""

    def __init__(
        self,
        parse: Callable[[Any], Selector | None],
        *,
        kind: str,
        log: logging.Logger,
        empty_selects_nothing: bool = False,
    ) -> None:
        self._parse = parse
        self._kind = kind
        self._log = log
        self._empty_selects_nothing = empty_selects_nothing
        self._cache: dict[str, tuple[int, Selector | None]] = {}

    def get(self, owner: Any) -> Selector | None:
        """The owner's selector; None if it is malformed (or empty, when
        empty selects nothing)."""
        meta = owner.metadata
        cached = self._cache.get(meta.uid)
        if cached is not None and cached[0] == meta.generation:
            return cached[1]
        try:
            selector = self._parse(owner)
            if selector is not None and selector.empty and self._empty_selects_nothing:
                selector = None
        except SelectorError as e:
            self._log.error(
                "%s %s/%s has a bad selector: %s", self._kind, meta.namespace, meta.name, e
            )
            selector = None
        self._cache[meta.uid] = (meta.generation, selector)
        return selector

    def forget(self, owner: Any) -> None:
        """Drop a deleted owner's entry."""
        self._cache.pop(owner.metadata.uid, None)

    def selecting(self, owners: Iterable[Any], obj: Any) -> list[Any]:
        """The owners whose selector selects obj's labels."""
        out = []
        for owner in owners:
            selector = self.get(owner)
            if selector is not None and selector.matches(obj.metadata.labels):
                out.append(owner)
        return out
