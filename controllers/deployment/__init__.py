"""The Deployment controller: rollouts of pod templates through ReplicaSets.

controller.py (wiring, handlers, dispatch), sync.py (claiming, new
ReplicaSet, scaling, cleanup, status), rolling.py, recreate.py, rollback.py,
progress.py (Progressing condition, deadline), status.py (pure status),
util.py (pure rollout arithmetic).
"""

from controllers.deployment.controller import DeploymentController

__all__ = ["DeploymentController"]
