"""The Pinnace SDK: typed clients, watches, informers, work queues, leader
election and events.

    from pinnace.client import Client
    client = Client("127.0.0.1:6443")
    deploy = client.deployments("default").get("web")
"""

from pinnace.client._requests import ObjectList, WatchEvent, delete_options
from pinnace.client.aio import AsyncClient, AsyncResourceClient
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

__all__ = [
    "AlreadyExists",
    "ApiError",
    "AsyncClient",
    "AsyncResourceClient",
    "BadRequest",
    "Client",
    "Conflict",
    "Expired",
    "Invalid",
    "NotFound",
    "ObjectList",
    "ResourceClient",
    "WatchEvent",
    "delete_options",
    "load_manifests",
]
