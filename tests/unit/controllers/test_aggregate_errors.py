"""Several failed deletions are raised together (errors.raise_aggregate,
Kubernetes' utilerrors.NewAggregate), not only the first: every deleter of
the controllers is given a fake that fails two of three deletions, and must
try the third and report both failures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from controllers.claim import claim_pods
from controllers.daemonset.backoff import FailedPodBackoff
from controllers.daemonset.plan import Plan
from controllers.daemonset.sync import carry_out
from controllers.expectations import Expectations
from controllers.replicaset.sync import manage_replicas
from controllers.replicaset.util import REPLICA_SET
from pinnace.machinery import errors
from pinnace.machinery.labels import selector_from_map
from pinnace.machinery.timeutil import FakeClock
from tests.unit.controllers.daemonset.test_ds_plan import ds, pod
from tests.unit.controllers.deployment import fakes as deploy
from tests.unit.controllers.replicaset.fakes import FakePodControl, make_pod, make_rs

FAILING = {"a", "b"}
NAMES = ["a", "b", "c"]


@pytest.mark.parametrize(
    ("errs", "raised", "message"),
    [
        pytest.param([], None, None, id="none"),
        pytest.param([errors.NotFound("x")], errors.NotFound, "x", id="one-as-is"),
        pytest.param(
            [errors.InternalError("x"), errors.InternalError("y")],
            errors.InternalError,
            "[x, y]",
            id="same-type",
        ),
        pytest.param(
            [errors.Forbidden("x"), errors.Conflict("y")],
            errors.InternalError,
            "[x, y]",
            id="mixed-types",
        ),
        pytest.param([errors.Conflict("x"), KeyError("bug")], KeyError, None, id="a-bug-first"),
    ],
)
def test_raise_aggregate(
    errs: list[BaseException], raised: type | None, message: str | None
) -> None:
    if raised is None:
        errors.raise_aggregate(errs)
        return
    with pytest.raises(raised) as info:
        errors.raise_aggregate(errs)
    if message is not None:
        assert info.value.message == message  # type: ignore[attr-defined]  # an ApiError here


class FailingPods(FakePodControl):
    """Deletes pods, except those named in FAILING (an API error each)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_delete = set(FAILING)


async def replicaset_scale_down(done: list[str]) -> None:
    rs = make_rs(replicas=0)
    control = FailingPods()
    control.deleted = done
    pods = [make_pod(n, owner=rs) for n in NAMES]
    await manage_replicas(
        rs,
        pods,
        key="ns/web",
        kind=REPLICA_SET,
        pod_control=control,
        expectations=Expectations(clock=FakeClock().monotonic),
    )


async def daemonset_carry_out(done: list[str]) -> None:
    control = FailingPods()
    control.deleted = done
    clock = FakeClock()
    plan = Plan(delete=[pod(n, "node-1") for n in NAMES])
    await carry_out(
        ds(),
        "ns/d",
        plan,
        "new",
        pod_control=control,
        creations=Expectations(clock=clock.monotonic),
        deletions=Expectations(clock=clock.monotonic),
        backoff=FailedPodBackoff(clock=clock.monotonic),
        recorder=None,  # type: ignore[arg-type]  # no failed pods: no event
    )


class FailingReplicaSets(deploy.FakeControl):
    """Deletes ReplicaSets, except those named in FAILING."""

    async def delete_replica_set(self, namespace: str, name: str, *, uid: str) -> None:
        if name in FAILING:
            raise errors.InternalError(f"cannot delete {name}")
        await super().delete_replica_set(namespace, name, uid=uid)


async def deployment_cleanup(done: list[str]) -> None:
    d = deploy.make_deployment()
    d.spec.revision_history_limit = 0
    old = [deploy.make_rs(n, owner=d, revision=i + 1) for i, n in enumerate(NAMES)]
    control = FailingReplicaSets(d, *old)
    try:
        await deploy.syncer(control).cleanup_deployment(old, d)
    finally:
        done.extend(a[1] for a in control.actions if a[0] == "delete")


async def claim_orphans(done: list[str]) -> None:
    owner = make_rs()

    async def patch(name: str, body: dict) -> Any:
        if name in FAILING:
            raise errors.Conflict(f"{name} changed")
        done.append(name)
        return make_pod(name, owner=owner)

    async def recheck() -> Any:
        return owner

    await claim_pods(
        owner,
        [make_pod(n, labels={"app": "web"}) for n in NAMES],
        selector=selector_from_map({"app": "web"}),
        patch_pod=patch,
        recheck_owner=recheck,
    )


@pytest.mark.parametrize(
    "deleter",
    [
        pytest.param(replicaset_scale_down, id="replicaset-pods"),
        pytest.param(daemonset_carry_out, id="daemonset-pods"),
        pytest.param(deployment_cleanup, id="deployment-old-replicasets"),
        pytest.param(claim_orphans, id="claim-adoptions"),
    ],
)
async def test_every_failure_is_reported_and_the_rest_is_done(
    deleter: Callable[[list[str]], Awaitable[None]],
) -> None:
    done: list[str] = []
    with pytest.raises(errors.ApiError) as info:
        await deleter(done)
    assert done == ["c"]  # the failures stopped nothing
    message = info.value.message
    assert message.startswith("[") and message.endswith("]") and message.count(", ") == 1, message
