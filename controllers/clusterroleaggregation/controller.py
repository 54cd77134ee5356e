"""Keeps every aggregated ClusterRole's rules the union of the rules of the
ClusterRoles its aggregationRule selects.

Any ClusterRole change (add, update, delete) may change any aggregated
role, and the set of ClusterRoles is small, so every handler enqueues every
ClusterRole that has an aggregationRule, as Kubernetes does; the queue
merges repeated keys, so a burst of changes costs one sync per aggregated
role. ``sync`` recomputes the rules from the cache (plan.aggregated_rules)
and writes them only when they differ, with the cached resourceVersion: a
conflict (someone wrote the role meanwhile) is retried with backoff after
the cache has caught up. The write changes only ``rules``, so aggregated
roles that select each other settle: the second pass finds nothing to do.
"""

from __future__ import annotations

from typing import Any, ClassVar

from controllers.base import Controller, split_key
from controllers.clusterroleaggregation.plan import aggregated_rules
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import errors
from pinnace.machinery.rbac import rules_equal


class ClusterRoleAggregationController(Controller):
    name: ClassVar[str] = "clusterrole-aggregation"
    default_workers: ClassVar[int] = 1

    def setup(self) -> None:
        self.roles = self.ctx.informer(rbac_pb2.ClusterRole)
        self.roles.add_handler(
            on_add=self.role_changed,
            on_update=lambda _old, new: self.role_changed(new),
            on_delete=self.role_changed,
        )

    def role_changed(self, role: Any) -> None:
        """Enqueue every aggregated ClusterRole (``role`` may feed any of them)."""
        for candidate in self.roles.store.list():
            if candidate.HasField("aggregation_rule"):
                self.enqueue(candidate)

    async def sync(self, key: str) -> float | None:
        role = self.roles.store.get(key)
        if role is None:
            return None
        rules = aggregated_rules(role, self.roles.store.list())
        if rules is None or rules_equal(rules, role.rules):
            return None
        updated = rbac_pb2.ClusterRole()
        updated.CopyFrom(role)  # never mutate the cache
        del updated.rules[:]
        updated.rules.extend(rules)
        _, name = split_key(key)
        self.log.info("aggregating %d rules into clusterrole %s", len(rules), name)
        try:
            await self.client.cluster_roles().update(updated)
        except errors.NotFound:
            return None
        return None
