"""What the chaos run reads of the cluster once it has converged after the
last fault (final.py gathers it; the invariants read it). Plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.chaos.history import PodProcess

__all__ = ["CacheCheck", "FinalState", "Listed", "Wrapper"]


@dataclass(frozen=True)
class Wrapper:
    """A live container wrapper: container ``container``'s attempt
    ``attempt`` of pod ``uid`` on ``node``."""

    node: str
    uid: str
    container: str
    attempt: int


@dataclass(frozen=True)
class CacheCheck:
    """One cache compared with etcd at the cache's own resourceVersion:
    a component's informer (its /debug/caches entry) or an apiserver's
    watch cache (a list at resourceVersion 0). ``error`` says why it could
    not be compared."""

    component: str
    cache: str
    rv: str
    count: int
    digest: str
    etcd_count: int = -1
    etcd_digest: str = ""
    error: str = ""
    # the pairs on one side only, when the digests differ
    difference: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listed:
    """One resource listed after convergence, at resourceVersion ``rv``."""

    rv: int
    objects: tuple[Any, ...]


@dataclass
class FinalState:
    # the run's namespace: resource → listed objects (pods of every namespace in all_pods)
    listed: dict[str, Listed] = field(default_factory=dict)
    nodes: list[Any] = field(default_factory=list)
    all_pods: list[Any] = field(default_factory=list)
    # every process that carries a pod's PINNACE_POD_DIR, and every live wrapper
    processes: list[PodProcess] = field(default_factory=list)
    wrappers: list[Wrapper] = field(default_factory=list)
    caches: list[CacheCheck] = field(default_factory=list)

    def objects(self, resource: str) -> list[Any]:
        listed = self.listed.get(resource)
        return list(listed.objects) if listed else []
