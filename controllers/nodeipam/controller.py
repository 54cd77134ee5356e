"""The node IPAM controller: gives every Node a ``spec.podCIDR`` from
``--cluster-cidr`` (Kubernetes' pkg/controller/nodeipam, its
RangeAllocator; run only with ``--allocate-node-cidrs``).

Handlers map a Node to its name. ``sync(name)``:

1. the first sync claims the CIDRs of every Node in the (synced) cache
   before anything is allocated, so a restarted controller never hands out
   a range a Node already has (level-triggered: the Nodes are the state);
2. a Node that is gone frees its range, and Nodes waiting for one are
   synced again;
3. a Node that has podCIDRs keeps them: they are claimed; one outside the
   cluster CIDR or another node's gets a Warning ``CIDRNotAvailable`` event
   and is left as it is (the apiserver forbids changing it anyway);
4. a Node without one gets the range it was given before (a retry after a
   failed or not yet observed write) or the lowest free one, written with
   a merge patch of ``podCIDR`` and ``podCIDRs``. When every range is
   taken: a Warning ``CIDRNotAvailable`` event and a retry after 1, 2, 4,
   ... 60 s (or at once when a Node is deleted).

A range is only freed when its Node is gone: after a failed patch it stays
the node's (the write may have succeeded), to be written again.
"""

from __future__ import annotations

from typing import ClassVar

from controllers.base import Controller, ControllerContext, key_of, unwrap
from controllers.nodeipam.plan import CidrSet, IPAMConfig, backoff, config_from_options
from pinnace.api.core.v1 import node_pb2
from pinnace.machinery import errors
from pinnace.machinery.wellknown import REASON_CIDR_NOT_AVAILABLE


def pod_cidrs(node: node_pb2.Node) -> list[str]:
    """The CIDRs a Node carries (podCIDRs, else the single podCIDR)."""
    if node.spec.pod_cidrs:
        return list(node.spec.pod_cidrs)
    return [node.spec.pod_cidr] if node.spec.pod_cidr else []


class NodeIPAMController(Controller):
    name: ClassVar[str] = "nodeipam"
    default_workers: ClassVar[int] = 5

    def __init__(self, ctx: ControllerContext, config: IPAMConfig | None = None) -> None:
        self.config = config or config_from_options(ctx.options)
        self.cidrs = CidrSet(self.config)
        self._primed = False
        self._waiting: set[str] = set()  # nodes that found the range full
        self._failures: dict[str, int] = {}
        self._warned: dict[str, str] = {}  # node -> the last warning given
        super().__init__(ctx)

    def setup(self) -> None:
        self.nodes = self.ctx.informer(node_pb2.Node)
        self.nodes.add_handler(
            on_add=self.enqueue,
            on_update=self.node_updated,
            on_delete=lambda obj: self.queue.add(key_of(unwrap(obj))),
        )

    def node_updated(self, old: node_pb2.Node, cur: node_pb2.Node) -> None:
        """Only a change of podCIDRs, or a node still without one, matters."""
        if pod_cidrs(old) != pod_cidrs(cur) or not pod_cidrs(cur):
            self.enqueue(cur)

    # ---- sync ------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        self._prime()
        node = self.nodes.store.get(key)
        if node is None:
            self._forget(key)
            return None
        cidrs = pod_cidrs(node)
        if cidrs:
            self._waiting.discard(key)
            self._failures.pop(key, None)
            self._claim(node, cidrs)
            return None
        return await self._allocate(node)

    def _prime(self) -> None:
        """Claim every cached Node's CIDRs (once, before any allocation)."""
        if self._primed:
            return
        self._primed = True
        nodes = sorted(self.nodes.store.list(), key=lambda n: n.metadata.name)
        for node in nodes:
            self.cidrs.claim(node.metadata.name, pod_cidrs(node))
        self.log.info(
            "claimed %d of %d node ranges of %s already on Nodes",
            self.cidrs.used(),
            self.cidrs.size,
            self.config.cluster_cidr,
        )

    def _forget(self, name: str) -> None:
        freed = self.cidrs.release(name)
        self._warned.pop(name, None)
        self._failures.pop(name, None)
        self._waiting.discard(name)
        if freed:
            self.log.info("node %s is gone; released %s", name, ", ".join(map(str, freed)))
            for waiting in sorted(self._waiting):
                self.queue.add(waiting)

    def _claim(self, node: node_pb2.Node, cidrs: list[str]) -> None:
        name = node.metadata.name
        rejected = self.cidrs.claim(name, cidrs)
        if not rejected:
            self._warned.pop(name, None)
            return
        message = "; ".join(r.message(self.config.cluster_cidr) for r in rejected)
        if self._warned.get(name) == message:
            return
        self._warned[name] = message
        self.log.warning("node %s: %s", name, message)
        self.recorder.event(node, "Warning", REASON_CIDR_NOT_AVAILABLE, message)

    async def _allocate(self, node: node_pb2.Node) -> float | None:
        name = node.metadata.name
        subnet = self.cidrs.allocate(name)
        if subnet is None:
            return self._range_full(node)
        self._waiting.discard(name)
        self._failures.pop(name, None)
        cidr = str(subnet)
        patch = {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}}
        try:
            await self.client.nodes().patch(name, patch)
        except errors.NotFound:
            return None  # its delete event releases the range
        self.log.info("node %s: podCIDR %s", name, cidr)
        return None

    def _range_full(self, node: node_pb2.Node) -> float:
        name = node.metadata.name
        self._waiting.add(name)
        failures = self._failures[name] = self._failures.get(name, 0) + 1
        message = (
            f"no podCIDR left for node {name}: all {self.cidrs.size} /{self.config.mask_size} "
            f"ranges of {self.config.cluster_cidr} are allocated"
        )
        self.log.warning("%s", message)
        self.recorder.event(node, "Warning", REASON_CIDR_NOT_AVAILABLE, message)
        return backoff(failures)
