"""Real watch caches filled with given objects, for unit tests of what reads them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.protobuf.message import Message

from apiserver.etcd.types import KeyValue
from apiserver.storage.watchcache import WatchCache
from pinnace.machinery.objects import object_meta

Extract = Callable[[Message], tuple[str, str, dict[str, str], dict[str, str]]]


def _labels_only(obj: Message) -> tuple[str, str, dict[str, str], dict[str, str]]:
    meta = object_meta(obj)
    return meta.namespace, meta.name, dict(meta.labels), {}


def filled_cache(
    resource: str, objects: Sequence[Message], cls: type[Message], extract: Extract = _labels_only
) -> WatchCache:
    """A cache under ``/<resource>/`` holding ``objects`` (of type ``cls``),
    indexed by ``extract`` (default: labels, no fields)."""

    def decode(value: bytes, rv: int) -> Message:
        return cls.FromString(value)

    cache = WatchCache(prefix=f"/{resource}/", decode=decode, extract=extract)
    kvs = []
    for i, obj in enumerate(objects, start=1):
        meta = object_meta(obj)
        key = f"/{resource}/{meta.namespace + '/' if meta.namespace else ''}{meta.name}"
        kvs.append(KeyValue(key.encode(), obj.SerializeToString(), i, i, 1, 0))
    cache.replace(kvs, len(objects))
    return cache
