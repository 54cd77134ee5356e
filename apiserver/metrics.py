"""The apiserver's Prometheus metrics (names follow Kubernetes' apiserver)."""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "apiserver_request_total",
    "API requests by verb, resource and gRPC code.",
    ["verb", "resource", "code"],
)
REQUEST_LATENCY = Histogram(
    "apiserver_request_duration_seconds",
    "API request latency by verb and resource (watches excluded).",
    ["verb", "resource"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WATCHERS = Gauge(
    "apiserver_registered_watchers",
    "Client watches currently open, by resource.",
    ["resource"],
)
ETCD_LATENCY = Histogram(
    "etcd_request_duration_seconds",
    "etcd request latency by operation.",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
CACHE_OBJECTS = Gauge(
    "apiserver_watch_cache_objects",
    "Objects held in the watch cache, by resource.",
    ["resource"],
)


# The labelled children, looked up once: ``Metric.labels()`` validates and
# joins its label values on every call (~3 us), and a create counts twice
# and times twice. The children are kept for good by the metric anyway.


@functools.cache
def requests_counter(verb: str, resource: str, code: str) -> Counter:
    """REQUESTS' child for (verb, resource, code)."""
    return REQUESTS.labels(verb, resource, code)


@functools.cache
def request_latency(verb: str, resource: str) -> Histogram:
    """REQUEST_LATENCY's child for (verb, resource)."""
    return REQUEST_LATENCY.labels(verb, resource)


@functools.cache
def etcd_latency(operation: str) -> Histogram:
    """ETCD_LATENCY's child for ``operation``."""
    return ETCD_LATENCY.labels(operation)
