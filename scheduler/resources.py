"""Pod requests and node allocatable as integers (pure functions).

Units: cpu in millicores, everything else (memory, ephemeral-storage,
extended resources such as ``example.com/gpu``) in whole units, rounded up
as Kubernetes' ``MilliValue()`` / ``Value()`` do.

A pod's request is what Kubernetes' ``resourcehelper.PodRequests`` computes:

    regular  = sum(containers) + sum(sidecars)      (sidecar: init container
                                                      with restartPolicy Always)
    init_i   = init container i + sidecars started before it
    request  = max(regular, max_i(init_i)) + spec.overhead

Worked example: containers 100m and 200m, one init container of 500m, no
sidecars: max(300m, 500m) = 500m. With pod-level ``spec.resources.requests``
those win for the resources they name.

A container request missing for a resource falls back to its limit (what the
apiserver's defaulting does in Kubernetes); missing both, it is 0 for
fitting. For scoring, ``non_zero=True`` counts a missing cpu request as 100m
and a missing memory request as 200Mi per container (Kubernetes'
``schedutil.GetNonzeroRequests``), so many request-less pods still spread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pinnace.machinery.quantity import QuantityError, to_int, to_milli

log = logging.getLogger(__name__)

CPU = "cpu"
MEMORY = "memory"
PODS = "pods"
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


@dataclass
class Resources:
    """An amount of cpu (millicores), memory (bytes) and other resources."""

    milli_cpu: int = 0
    memory: int = 0
    scalars: dict[str, int] = field(default_factory=dict)

    def add(self, other: Resources, sign: int = 1) -> None:
        self.milli_cpu += sign * other.milli_cpu
        self.memory += sign * other.memory
        for name, value in other.scalars.items():
            self.scalars[name] = self.scalars.get(name, 0) + sign * value

    def copy(self) -> Resources:
        return Resources(self.milli_cpu, self.memory, dict(self.scalars))

    def get(self, name: str) -> int:
        if name == CPU:
            return self.milli_cpu
        if name == MEMORY:
            return self.memory
        return self.scalars.get(name, 0)

    def max_with(self, other: Resources) -> None:
        self.milli_cpu = max(self.milli_cpu, other.milli_cpu)
        self.memory = max(self.memory, other.memory)
        for name, value in other.scalars.items():
            self.scalars[name] = max(self.scalars.get(name, 0), value)


def quantity(name: str, text: str) -> int:
    """One quantity in the scheduler's unit for ``name``; 0 (logged) if malformed."""
    try:
        return to_milli(text) if name == CPU else to_int(text)
    except QuantityError:
        log.warning("ignoring malformed quantity %r for %s", text, name)
        return 0


def from_map(values: Mapping[str, str], *, skip: Iterable[str] = (PODS,)) -> Resources:
    """Resources from a quantity map (requests, limits, allocatable)."""
    out = Resources()
    skipped = set(skip)
    for name, text in values.items():
        if name in skipped:
            continue
        amount = quantity(name, text)
        if name == CPU:
            out.milli_cpu = amount
        elif name == MEMORY:
            out.memory = amount
        else:
            out.scalars[name] = amount
    return out


def container_requests(container: Any, *, non_zero: bool = False) -> Resources:
    """A container's requests (limits where a request is missing)."""
    res = container.resources
    merged = dict(res.limits)
    merged.update(res.requests)
    out = from_map(merged)
    if non_zero:
        if CPU not in merged:
            out.milli_cpu = DEFAULT_MILLI_CPU_REQUEST
        if MEMORY not in merged:
            out.memory = DEFAULT_MEMORY_REQUEST
    return out


def pod_requests(pod: Any, *, non_zero: bool = False) -> Resources:
    """What the pod asks for; see the module docstring for the formula."""
    spec = pod.spec
    total = Resources()
    for c in spec.containers:
        total.add(container_requests(c, non_zero=non_zero))
    sidecars = Resources()
    init_peak = Resources()
    for c in spec.init_containers:
        req = container_requests(c, non_zero=non_zero)
        if c.HasField("restart_policy") and c.restart_policy == "Always":
            sidecars.add(req)
            total.add(req)
            running = sidecars.copy()
        else:
            running = sidecars.copy()
            running.add(req)
        init_peak.max_with(running)
    total.max_with(init_peak)
    if spec.HasField("resources") and spec.resources.requests:
        pod_level = from_map(spec.resources.requests)
        if CPU in spec.resources.requests:
            total.milli_cpu = pod_level.milli_cpu
        if MEMORY in spec.resources.requests:
            total.memory = pod_level.memory
    if spec.overhead:
        total.add(from_map(spec.overhead))
    return total


@dataclass(frozen=True)
class Allocatable:
    """What a node offers pods: cpu (millicores), memory, pod count, others."""

    milli_cpu: int = 0
    memory: int = 0
    pods: int = 0
    scalars: Mapping[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int:
        if name == CPU:
            return self.milli_cpu
        if name == MEMORY:
            return self.memory
        if name == PODS:
            return self.pods
        return self.scalars.get(name, 0)


def node_allocatable(node: Any) -> Allocatable:
    """status.allocatable, falling back to status.capacity per resource."""
    merged = dict(node.status.capacity)
    merged.update(node.status.allocatable)
    res = from_map(merged)
    pods = quantity(PODS, merged[PODS]) if PODS in merged else 0
    return Allocatable(res.milli_cpu, res.memory, pods, dict(res.scalars))
