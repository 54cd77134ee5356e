"""A served resource: its kind, strategy, etcd store and watch cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from apiserver.registry.strategy import Strategy
from apiserver.storage.store import Store
from apiserver.storage.watchcache import WatchCache
from pinnace.machinery.kinds import KindInfo

KEY_ROOT = "/registry"


def resource_prefix(info: KindInfo) -> str:
    """The etcd key prefix of a kind: /registry/<group>/<resource>/ ("core" for "")."""
    return f"{KEY_ROOT}/{info.group or 'core'}/{info.plural}/"


@dataclass
class Resource:
    info: KindInfo
    strategy: Strategy[Any]
    store: Store
    cache: WatchCache

    @property
    def prefix(self) -> str:
        return resource_prefix(self.info)

    def key(self, namespace: str, name: str) -> str:
        if self.info.namespaced:
            return f"{self.prefix}{namespace}/{name}"
        return f"{self.prefix}{name}"

    def extract(self, obj: Message) -> tuple[str, str, dict[str, str], dict[str, str]]:
        """What the watch cache indexes: namespace, name, labels, fields."""
        return self.strategy.extract(obj)

    @property
    def qualified(self) -> str:
        """How Kubernetes names the resource in messages: "deployments.apps"."""
        return self.info.resource
