"""The ReplicaSet and ReplicationController controllers (one implementation)."""

from controllers.replicaset.controller import ReplicaSetController, ReplicationManager

__all__ = ["ReplicaSetController", "ReplicationManager"]
