"""The workloads of a chaos run, and the operations of plan.py done through
the SDK.

Every pod is a short-lived real process: Deployment, StatefulSet and
DaemonSet pods ``sleep`` (terminationGracePeriodSeconds 1), Job pods are
``sh -c`` one-liners of three kinds:

* ``ok``: sleep 1 and exit 0;
* ``flaky``: exit 0 or 1 by the parity of the shell's pid (backoffLimit 6);
* ``failing``: exit 3 (backoffLimit 1: the Job fails after two pods).

Deployments roll by a change of a pod template annotation; the DaemonSet
the same way. An operation is retried while the API answers that it is
unavailable, overloaded or in conflict, until ``deadline`` seconds have
passed (the fault of the moment may be in the way); a create that finds
its object made (a retry of a create that went through) and a delete that
finds it gone are done.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from pinnace.api.apps.v1 import daemonset_pb2, deployment_pb2, statefulset_pb2
from pinnace.api.batch.v1 import job_pb2
from pinnace.client import Client
from pinnace.machinery import codec, errors
from tests.chaos.convergence import job_problems
from tests.chaos.history import OpRecord
from tests.chaos.plan import Op

__all__ = ["Driver"]

ROLLOUT = "chaos.pinnace.io/rollout"
SLEEP = {"name": "c", "image": "busybox", "command": ["sleep", "3600"]}
JOB_COMMANDS = {
    "ok": ("sleep 1", 6),
    "flaky": ("sleep 1; exit $(( $$ % 2 ))", 6),
    "failing": ("exit 3", 1),
}
RETRIED = (errors.Unavailable, errors.Timeout, errors.InternalError, errors.Conflict)


def _template(app: str, container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}, "annotations": {ROLLOUT: "0"}},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [container], **spec},
    }


def deployment(name: str, replicas: int, surge: int | str, unavailable: int | str) -> Any:
    return codec.from_dict(
        deployment_pb2.Deployment,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
                },
                "template": _template(name, SLEEP),
            },
        },
    )


def statefulset(name: str, replicas: int) -> Any:
    return codec.from_dict(
        statefulset_pb2.StatefulSet,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "serviceName": name,
                "selector": {"matchLabels": {"app": name}},
                "template": _template(name, SLEEP),
            },
        },
    )


def daemonset(name: str) -> Any:
    return codec.from_dict(
        daemonset_pb2.DaemonSet,
        {
            "metadata": {"name": name},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                "template": _template(name, SLEEP),
            },
        },
    )


def job(name: str, variant: str, completions: int, parallelism: int) -> Any:
    script, backoff_limit = JOB_COMMANDS[variant]
    container = {"name": "c", "image": "busybox", "command": ["sh", "-c", script]}
    return codec.from_dict(
        job_pb2.Job,
        {
            "metadata": {"name": name, "labels": {"variant": variant}},
            "spec": {
                "completions": completions,
                "parallelism": parallelism,
                "backoffLimit": backoff_limit,
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "restartPolicy": "Never",
                        "terminationGracePeriodSeconds": 1,
                        "containers": [container],
                    },
                },
            },
        },
    )


def _rollout(n: int | str) -> dict[str, Any]:
    return {"spec": {"template": {"metadata": {"annotations": {ROLLOUT: str(n)}}}}}


class Driver:
    """Does operations in ``namespace``; ``now`` is the history's clock."""

    def __init__(
        self, client: Client, namespace: str, *, now: Callable[[], float], deadline: float = 30.0
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.now = now
        self.deadline = deadline
        self._paced = threading.Event()  # never set: a clock for retries

    def do(self, op: Op) -> OpRecord:
        at = self.now()
        ends = time.monotonic() + self.deadline
        while True:
            try:
                note = self._apply(op)
                return OpRecord(op.kind, str(op), at, note, self.now() - at)
            except RETRIED as e:
                if time.monotonic() > ends:
                    return OpRecord(op.kind, str(op), at, f"gave up: {e!r}", self.now() - at)
                self._paced.wait(0.2)

    def _apply(self, op: Op) -> str:
        """Do ``op`` once; a note when it was skipped, else ""."""
        ns, name, args = self.namespace, op.target, op.args
        c = self.client
        if op.kind == "create-deployment":
            replicas, surge, unavailable = args
            return _create(
                lambda: c.deployments(ns).create(
                    deployment(name, int(replicas), surge, unavailable)
                )
            )
        if op.kind == "create-statefulset":
            return _create(lambda: c.stateful_sets(ns).create(statefulset(name, int(args[0]))))
        if op.kind == "create-daemonset":
            return _create(lambda: c.daemon_sets(ns).create(daemonset(name)))
        if op.kind == "create-job":
            variant, completions, parallelism = args
            return _create(
                lambda: c.jobs(ns).create(
                    job(name, str(variant), int(completions), int(parallelism))
                )
            )
        if op.kind == "scale-deployment":
            c.deployments(ns).patch(name, {"spec": {"replicas": int(args[0])}})
        elif op.kind == "roll-deployment":
            c.deployments(ns).patch(name, _rollout(args[0]))
        elif op.kind == "scale-statefulset":
            c.stateful_sets(ns).patch(name, {"spec": {"replicas": int(args[0])}})
        elif op.kind == "roll-daemonset":
            c.daemon_sets(ns).patch(name, _rollout(args[0]))
        elif op.kind == "delete-job":
            return self._delete_job(name)
        else:
            raise ValueError(f"unknown operation {op.kind!r}")
        return ""

    def _delete_job(self, name: str) -> str:
        try:
            current = self.client.jobs(self.namespace).get(name)
            if job_problems(current, []):
                return "skipped: not finished"
            self.client.jobs(self.namespace).delete(name, propagation_policy="Background")
        except errors.NotFound:
            return "already gone"
        return ""


def _create(create: Callable[[], Any]) -> str:
    try:
        create()
    except errors.AlreadyExists:
        return "already there (a retried create)"
    return ""
