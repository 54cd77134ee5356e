"""The bootstrap RBAC policy against a real apiserver (its own etcd, so the
default objects of this test are nobody else's): through the SDK client,
and in process through the apiserver's verbs (VerbsAccess, what the
apiserver calls at start)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from apiserver.app import build_resources
from apiserver.etcd.client import EtcdClient
from apiserver.namespaces import NamespacePhases
from apiserver.registry.config import DEFAULT_CONFIG
from apiserver.registry.kinds.rbacbootstrap import VerbsAccess
from apiserver.registry.verbs import Verbs
from apiserver.storage.hub import CacheHub
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.client import AsyncClient
from pinnace.localcluster.etcd import EtcdServer
from pinnace.machinery import codec
from pinnace.machinery.rbac import AUTOUPDATE_ANNOTATION
from pinnace.machinery.rbacbootstrap import (
    CREATE,
    PROTECTED,
    RECREATE,
    UNCHANGED,
    UPDATE,
    ensure_bootstrap_rbac,
)
from pinnace.machinery.rbacdefaults import bootstrap_policy

POLICY = bootstrap_policy()
COUNT = len(POLICY.cluster_roles) + len(POLICY.cluster_role_bindings)


@pytest.fixture
async def private_client(
    own_etcd: EtcdServer, own_apiserver: Callable[..., Any]
) -> AsyncIterator[AsyncClient]:
    server = own_apiserver(etcd=own_etcd.endpoint)
    async with AsyncClient(config=server.config, timeout=10) as c:
        yield c


async def test_bootstrap_through_the_client(private_client: AsyncClient) -> None:
    """The apiserver bootstrapped the policy as it started: a client finds it all."""
    client = private_client
    first = await ensure_bootstrap_rbac(client)
    assert len(first) == COUNT and set(first.values()) == {UNCHANGED}
    admin = await client.cluster_role_bindings().get("cluster-admin")
    assert [(s.kind, s.name) for s in admin.subjects] == [("Group", "system:masters")]
    view = await client.cluster_roles().get("view")
    assert codec.to_dict(view)["aggregationRule"] == {
        "clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}
        ]
    }
    listed = await client.cluster_roles().list(
        label_selector="kubernetes.io/bootstrapping=rbac-defaults"
    )
    assert len(listed.items) == len(POLICY.cluster_roles)

    second = await ensure_bootstrap_rbac(client)
    assert set(second.values()) == {UNCHANGED}


async def test_restart_reconciles_user_changes(private_client: AsyncClient) -> None:
    """What the next apiserver start does to objects users changed."""
    client = private_client
    await ensure_bootstrap_rbac(client)
    roles, bindings = client.cluster_roles(), client.cluster_role_bindings()

    # A default rule removed, an own rule added: the default comes back, the own one stays.
    source = await roles.get("system:aggregate-to-view")
    removed = source.rules[0]
    own = rbac_pb2.PolicyRule(verbs=["get"], api_groups=["example.com"], resources=["widgets"])
    del source.rules[0]
    source.rules.append(own)
    await roles.update(source)

    # Opted out: left exactly as the user made it.
    edit = await roles.get("system:aggregate-to-edit")
    edit.metadata.annotations[AUTOUPDATE_ANNOTATION] = "false"
    del edit.rules[1:]
    await roles.update(edit)

    # A binding of the default name to another role: recreated, subjects kept.
    await bindings.delete("system:kube-scheduler")
    await bindings.create(
        codec.from_dict(
            rbac_pb2.ClusterRoleBinding,
            {
                "metadata": {"name": "system:kube-scheduler"},
                "roleRef": {"kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "User", "name": "alice"}],
            },
        )
    )

    got = await ensure_bootstrap_rbac(client)
    assert got["clusterroles/system:aggregate-to-view"] == UPDATE
    assert got["clusterroles/system:aggregate-to-edit"] == PROTECTED
    assert got["clusterrolebindings/system:kube-scheduler"] == RECREATE
    assert {v for k, v in got.items() if not k.endswith(("-view", "-edit", "kube-scheduler"))} == {
        UNCHANGED
    }

    source = await roles.get("system:aggregate-to-view")
    assert own in source.rules and removed in source.rules
    assert len((await roles.get("system:aggregate-to-edit")).rules) == 1
    sched = await bindings.get("system:kube-scheduler")
    assert sched.role_ref.name == "system:kube-scheduler"
    assert [s.name for s in sched.subjects] == ["alice", "system:kube-scheduler"]


async def test_bootstrap_through_the_apiserver_verbs(own_etcd: EtcdServer) -> None:
    """VerbsAccess: the apiserver's own registry, as at start (no client, no credential)."""
    etcd = EtcdClient([own_etcd.endpoint])
    resources = build_resources(etcd, 100, DEFAULT_CONFIG)
    hub = CacheHub(etcd, [r.cache for r in resources.values()])
    await hub.start()
    try:
        verbs = Verbs(namespace_phase=NamespacePhases(resources["namespaces"]).phase)
        access = VerbsAccess(resources, verbs)
        first = await ensure_bootstrap_rbac(access)
        assert len(first) == COUNT and set(first.values()) == {CREATE}
        stored = await verbs.get(resources["clusterroles.rbac.authorization.k8s.io"], "", "edit")
        assert stored.obj.metadata.uid and stored.obj.metadata.creation_timestamp
        assert stored.obj.metadata.labels["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
        assert set((await ensure_bootstrap_rbac(access)).values()) == {UNCHANGED}
    finally:
        await hub.stop()
        await etcd.close()
