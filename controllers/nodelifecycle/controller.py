"""The node lifecycle controller: node health from Lease heartbeats,
conditions, taints and pod readiness (Kubernetes'
pkg/controller/nodelifecycle; eviction itself is the taint eviction
controller's, tainteviction.py).

Handlers map a Node or its Lease (``kube-node-lease/<node>``) to the node's
name. ``sync(name)``, for one node:

1. notes whether its heartbeat moved (health.py) and, once it has not for
   ``--node-monitor-grace-period`` (``--node-startup-grace-period`` for a
   node that never reported Ready), writes every kubelet condition Unknown
   — after reading the node's Lease and Node from the API rather than the
   cache: a controller that stood still (stopped, hung, starved of CPU) or
   whose watch lagged sees every heartbeat as old; one that moved means
   the node is alive, and its probe time is now;
2. marks the pods on a node that is not Ready ``Ready=False``;
3. makes the managed taints match the node's conditions and
   ``spec.unschedulable``; NoExecute taints are added no faster than the
   zone's rate allows (zones.py), removed at once.

It returns when to look again: when the grace period would run out
without a heartbeat, or when the zone's limiter has a token again. Zone
states are recomputed from the node cache on every sync; a change of
state re-queues every node (a resync), so a zone leaving full disruption
gets its taints.
"""

from __future__ import annotations

from typing import Any, ClassVar

from controllers import nodeutil
from controllers.base import Controller, ControllerContext, unwrap
from controllers.nodelifecycle.health import (
    HealthTracker,
    desired_taints,
    heartbeat_marker,
    reconcile_taints,
    unknown_status,
)
from controllers.nodelifecycle.zones import FULL, TokenBucket, ZoneSettings, zone_rate, zone_states
from pinnace.api.coordination.v1 import lease_pb2
from pinnace.api.core.v1 import node_pb2, pod_pb2
from pinnace.machinery import errors
from pinnace.machinery.conditions import find_condition, is_true
from pinnace.machinery.podutil import is_pod_terminal
from pinnace.machinery.timeutil import format_rfc3339
from pinnace.machinery.wellknown import NODE_READY, POD_READY, TAINT_EFFECT_NO_EXECUTE

LEASE_NAMESPACE = "kube-node-lease"
NODE_NAME_INDEX = "nodelifecycle/node-name"
UPDATE_RETRIES = 5
SKEW = 0.05


def node_name_index(pod: Any) -> list[str]:
    return [pod.spec.node_name] if pod.spec.node_name else []


def _opt(opts: Any, name: str, default: Any) -> Any:
    value = getattr(opts, name, None)
    return default if value is None else value


class NodeLifecycleController(Controller):
    name: ClassVar[str] = "nodelifecycle"
    default_workers: ClassVar[int] = 5

    def __init__(self, ctx: ControllerContext) -> None:
        opts = ctx.options
        self.grace = float(_opt(opts, "node_monitor_grace_period", 50.0))
        self.startup_grace = float(_opt(opts, "node_startup_grace_period", 60.0))
        self.monitor_period = float(_opt(opts, "node_monitor_period", 5.0))
        self.zone_settings = ZoneSettings(
            eviction_rate=float(_opt(opts, "node_eviction_rate", 0.1)),
            secondary_eviction_rate=float(_opt(opts, "secondary_node_eviction_rate", 0.01)),
            unhealthy_zone_threshold=float(_opt(opts, "unhealthy_zone_threshold", 0.55)),
            large_cluster_threshold=int(_opt(opts, "large_cluster_size_threshold", 50)),
        )
        self.health = HealthTracker()
        self.limiters: dict[str, TokenBucket] = {}
        self._zone_states: dict[str, str] = {}
        super().__init__(ctx)

    def setup(self) -> None:
        self.nodes = self.ctx.informer(node_pb2.Node)
        self.leases = self.ctx.informer(lease_pb2.Lease, namespace=LEASE_NAMESPACE)
        self.pods = self.ctx.informer(pod_pb2.Pod, indexers={NODE_NAME_INDEX: node_name_index})
        self.nodes.add_handler(
            on_add=self.enqueue,
            on_update=lambda old, cur: self.enqueue(cur),
            on_delete=self.node_deleted,
        )
        self.leases.add_handler(
            on_add=self.lease_changed,
            on_update=lambda old, cur: self.lease_changed(cur),
        )

    def node_deleted(self, obj: Any) -> None:
        self.health.forget(unwrap(obj).metadata.name)

    def lease_changed(self, lease: lease_pb2.Lease) -> None:
        self.queue.add(lease.metadata.name)

    # ---- sync ------------------------------------------------------------------

    async def sync(self, key: str) -> float | None:
        node = self.nodes.store.get(key)
        if node is None:
            self.health.forget(key)
            return None
        now = self.ctx.clock.monotonic()
        lease = self.leases.store.get_by_name(LEASE_NAMESPACE, key)
        renew = lease.spec.renew_time if lease is not None else ""
        probe = self.health.observe(key, heartbeat_marker(node, renew), now)
        ready = find_condition(node.status.conditions, NODE_READY)
        ever_ready = ready is not None and ready.reason != "NodeStatusNeverUpdated"
        grace = self.grace if ever_ready else self.startup_grace
        requeue: float | None = probe + grace - now + SKEW
        if now - probe > grace and not await self._heartbeat_moved(key, node, renew, now):
            requeue = None
            node = await self._mark_unknown(node)
        elif now - probe > grace:
            requeue = grace + SKEW  # alive after all: its probe time is now
        if nodeutil.ready_status(node) != "True":
            await self._mark_pods_not_ready(node)
        wait = await self._sync_taints(node)
        if wait is not None:
            requeue = wait if requeue is None else min(requeue, wait)
        return max(requeue, SKEW) if requeue is not None else None

    async def _heartbeat_moved(
        self, key: str, cached: node_pb2.Node, renew: str, now: float
    ) -> bool:
        """Whether the node's heartbeat, read from the API (its Node, and its
        Lease by a list: the controller may list Leases, not get them),
        differs from the cached one; if so it is observed now. False when
        the API cannot say: the verdict then rests on the cache, as
        Kubernetes' does."""
        try:
            node = await self.client.nodes().get(key)
            leases = await self.client.leases(LEASE_NAMESPACE).list(
                field_selector=f"metadata.name={key}"
            )
        except errors.ApiError as e:
            self.log.info("node %s: heartbeat not confirmed from the API: %s", key, e)
            return False
        live = leases.items[0].spec.renew_time if leases.items else ""
        marker = heartbeat_marker(node, live)
        if marker == heartbeat_marker(cached, renew):
            return False
        self.health.observe(key, marker, now)
        self.log.info("node %s: its heartbeat moved while this controller did not see it", key)
        return True

    async def _mark_unknown(self, node: node_pb2.Node) -> node_pb2.Node:
        status = unknown_status(node, format_rfc3339(self.ctx.clock.now()))
        if status is None:
            return node
        copy = node_pb2.Node()
        copy.CopyFrom(node)
        copy.status.CopyFrom(status)
        try:
            updated = await self.client.nodes().update_status(copy)
        except errors.Conflict:
            raise  # retried: the kubelet may just have posted
        self.log.info("node %s stopped posting its status: conditions Unknown", node.metadata.name)
        self.recorder.event(
            updated,
            "Normal",
            "NodeNotReady",
            f"Node {node.metadata.name} status is now: NodeNotReady",
        )
        return updated

    async def _mark_pods_not_ready(self, node: node_pb2.Node) -> None:
        """Kubernetes' MarkPodsNotReady: the Ready condition of every pod on
        the node goes False (the kubelet cannot say otherwise any more)."""
        stamp = format_rfc3339(self.ctx.clock.now())
        for pod in self.pods.store.by_index(NODE_NAME_INDEX, node.metadata.name):
            if is_pod_terminal(pod):
                continue
            if not is_true(pod.status.conditions, POD_READY):
                continue
            copy = pod_pb2.Pod()
            copy.CopyFrom(pod)
            ready = find_condition(copy.status.conditions, POD_READY)
            assert ready is not None  # it is True in the pod copied
            ready.status = "False"
            ready.last_transition_time = stamp
            try:
                await self.client.pods(pod.metadata.namespace).update_status(copy)
            except (errors.NotFound, errors.Conflict):
                continue  # gone, or changed: the pod's next event brings us back

    async def _sync_taints(self, node: node_pb2.Node) -> float | None:
        """Make the managed taints match; returns when to retry a NoExecute
        taint the zone's limiter held back."""
        now = self.ctx.clock.monotonic()
        stamp = format_rfc3339(self.ctx.clock.now())
        may_taint, wait = self._may_add_no_execute(node, now, peek=True)
        taints, waiting = reconcile_taints(
            node.spec.taints, desired_taints(node), now_rfc3339=stamp, may_add_no_execute=may_taint
        )
        if list(taints) == list(node.spec.taints):
            return wait if waiting else None
        adds_no_execute = any(
            t.effect == TAINT_EFFECT_NO_EXECUTE and t not in node.spec.taints for t in taints
        )
        if adds_no_execute:
            self._may_add_no_execute(node, now, peek=False)
        copy = node_pb2.Node()
        copy.CopyFrom(node)
        for _ in range(UPDATE_RETRIES):
            del copy.spec.taints[:]
            copy.spec.taints.extend(taints)
            try:
                await self.client.nodes().update(copy)
                break
            except errors.NotFound:
                return None
            except errors.Conflict:
                copy = await self.client.nodes().get(node.metadata.name)
                taints, waiting = reconcile_taints(
                    copy.spec.taints,
                    desired_taints(copy),
                    now_rfc3339=stamp,
                    may_add_no_execute=may_taint,
                )
        return wait if waiting else None

    def _may_add_no_execute(
        self, node: node_pb2.Node, now: float, *, peek: bool
    ) -> tuple[bool, float | None]:
        """Whether the node's zone may get a NoExecute taint now (taking the
        token unless peeking), and else how long until it may."""
        states = zone_states(self.nodes.store.list(), self.zone_settings)
        if states and all(state == FULL for state, _ in states.values()):
            return False, self.monitor_period
        zone = nodeutil.zone_of(node)
        state, size = states.get(zone, ("Normal", 1))
        rate = zone_rate(state, size, self.zone_settings)
        bucket = self.limiters.get(zone)
        if bucket is None:
            bucket = self.limiters[zone] = TokenBucket(rate, now=now)
        elif bucket.rate != rate:
            bucket.set_rate(rate, now)
        if self._zone_states.get(zone) != state:
            self._zone_states[zone] = state
            self.log.info("zone %r is now %s", zone, state)
        if peek:
            wait = bucket.wait(now)
            if wait is None:
                return False, self.monitor_period
            return wait == 0, max(wait, SKEW)
        return bucket.take(now), None
