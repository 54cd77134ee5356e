"""The Pinnace SDK: typed clients, watches, informers, work queues, leader
election and events.

    from pinnace.client import Client
    client = Client("127.0.0.1:6443")
    deploy = client.deployments("default").get("web")
"""

from pinnace.client._requests import ObjectList, WatchEvent, delete_options
from pinnace.client.aio import AsyncClient, AsyncResourceClient
from pinnace.client.events import EventRecorder, events_for
from pinnace.client.informer import (
    DeletedFinalStateUnknown,
    Informer,
    SharedInformerFactory,
    Store,
)
from pinnace.client.leaselock import LeaseLock, run_leader_elected
from pinnace.client.sync import Client, ResourceClient
from pinnace.machinery.errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    Conflict,
    Expired,
    Invalid,
    NotFound,
)
from pinnace.machinery.manifests import load_manifests
from pinnace.machinery.objects import object_meta

__all__ = [
    "AlreadyExists",
    "ApiError",
    "AsyncClient",
    "AsyncResourceClient",
    "BadRequest",
    "Client",
    "Conflict",
    "DeletedFinalStateUnknown",
    "EventRecorder",
    "Expired",
    "Informer",
    "Invalid",
    "LeaseLock",
    "NotFound",
    "ObjectList",
    "ResourceClient",
    "SharedInformerFactory",
    "Store",
    "WatchEvent",
    "delete_options",
    "events_for",
    "load_manifests",
    "object_meta",
    "run_leader_elected",
]
