"""Authorization on the secure session cluster (RBAC by default), both
front doors: every row a real attempt by a real identity (a client
certificate from the cluster CA) with its expected refusal, through the
real kubectl (HTTP) and the SDK (gRPC).

Each test makes its own users, named after its namespace, and binds them
with RoleBindings in that namespace only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.client import Client
from pinnace.client.config import ClientConfig
from pinnace.localcluster.cluster import LocalCluster
from pinnace.machinery import errors, kinds, pki
from pinnace.machinery.kubeconfig import kubeconfig, write_kubeconfig
from tests.integration.conftest import fresh_namespace
from tests.kubectl import run_kubectl

POD = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  containers:
  - {{name: c, image: busybox, command: [sleep, "30"]}}
"""


@dataclass
class User:
    name: str
    kubeconfig: Path
    config: ClientConfig

    def kubectl(self, *args: str, input: str | None = None) -> tuple[int, str]:
        out = run_kubectl(self.kubeconfig, *args, input=input)
        return out.returncode, out.stdout + out.stderr

    def client(self) -> Client:
        return Client(config=self.config, timeout=10)


def make_user(cluster: LocalCluster, tmp: Path, name: str, groups: tuple[str, ...] = ()) -> User:
    ca = pki.read_pair(cluster.pki.ca)
    assert ca is not None
    pair = pki.issue(ca, pki.client_spec(name, groups))
    path = tmp / f"{name}.kubeconfig"
    write_kubeconfig(
        path,
        kubeconfig(
            server=cluster.rest_server or "",
            grpc_server=cluster.server,
            ca_pem=ca.cert_pem(),
            client_cert_pem=pair.cert_pem(),
            client_key_pem=pair.key_pem(),
            name=name,
        ),
    )
    config = ClientConfig(
        servers=(cluster.server,),
        ca_pem=ca.cert_pem(),
        cert_pem=pair.cert_pem(),
        key_pem=pair.key_pem(),
    )
    return User(name, path, config)


def bind(client: Client, ns: str, role: str, user: str, *, kind: str = "ClusterRole") -> None:
    binding = rbac_pb2.RoleBinding(
        role_ref=rbac_pb2.RoleRef(api_group="rbac.authorization.k8s.io", kind=kind, name=role),
        subjects=[rbac_pb2.Subject(kind="User", api_group="rbac.authorization.k8s.io", name=user)],
    )
    binding.metadata.name = f"{role}-{user}"
    client.role_bindings(ns).create(binding)


@pytest.fixture
def other_namespace(cluster_client: Client) -> Iterator[str]:
    with fresh_namespace(cluster_client, "o") as name:
        yield name


def forbidden_message(verb: str, resource: str, ns: str, user: str, group: str = "") -> str:
    scope = f'in the namespace "{ns}"' if ns else "at the cluster scope"
    return (
        f'is forbidden: User "{user}" cannot {verb} resource "{resource}" '
        f'in API group "{group}" {scope}'
    )


def test_a_view_user_reads_but_cannot_write(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str, tmp_path: Path
) -> None:
    ns = cluster_namespace
    viewer = make_user(cluster, tmp_path, f"viewer-{ns}")
    bind(cluster_client, ns, "view", viewer.name)
    code, out = viewer.kubectl("get", "pods", "-n", ns)
    assert code == 0, out
    code, out = viewer.kubectl("apply", "-n", ns, "-f", "-", input=POD.format(name="p"))
    assert code != 0
    assert "Error from server (Forbidden)" in out
    assert forbidden_message("create", "pods", ns, viewer.name) in out
    with viewer.client() as client:
        assert client.pods(ns).list().items == []
        service = kinds.by_resource("services").new()
        service.metadata.name = "s"
        with pytest.raises(errors.Forbidden) as err:
            client.services(ns).create(service)
    assert forbidden_message("create", "services", ns, viewer.name) in str(err.value)


def test_a_namespace_bound_user_stays_in_its_namespace(
    cluster: LocalCluster,
    cluster_client: Client,
    cluster_namespace: str,
    other_namespace: str,
    tmp_path: Path,
) -> None:
    ns, other = cluster_namespace, other_namespace
    editor = make_user(cluster, tmp_path, f"editor-{ns}")
    bind(cluster_client, ns, "edit", editor.name)
    code, out = editor.kubectl("apply", "-n", ns, "-f", "-", input=POD.format(name="mine"))
    assert code == 0, out
    # Reading, listing and watching another namespace: refused on both doors.
    for args, verb in (
        (("get", "pods", "-n", other), "list"),
        (("get", "pod", "x", "-n", other), "get"),
        # kubectl lists before it watches: the list is what is refused.
        (("get", "pods", "-n", other, "--watch", "--request-timeout=5s"), "list"),
    ):
        code, out = editor.kubectl(*args)
        assert code != 0 and forbidden_message(verb, "pods", other, editor.name) in out, out
    # All namespaces at once needs a cluster-wide grant.
    code, out = editor.kubectl("get", "pods", "-A")
    assert code != 0 and forbidden_message("list", "pods", "", editor.name) in out, out
    with editor.client() as client:
        assert [p.metadata.name for p in client.pods(ns).list().items] == ["mine"]
        for call in (
            lambda: client.pods(other).list(),
            lambda: client.pods(other).get("x"),
            lambda: next(iter(client.pods(other).watch())),
            lambda: client.pods("").list(),
            lambda: client.services(other).list(),
        ):
            with pytest.raises(errors.Forbidden):
                call()


def test_nobody_grants_what_they_do_not_hold(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str, tmp_path: Path
) -> None:
    """A namespace admin may bind roles it holds, not cluster-admin (escalation)."""
    ns = cluster_namespace
    admin = make_user(cluster, tmp_path, f"nsadmin-{ns}")
    bind(cluster_client, ns, "admin", admin.name)
    code, out = admin.kubectl(
        "create", "rolebinding", "grant-edit", "-n", ns, "--clusterrole=edit", "--user=friend"
    )
    assert code == 0, out
    code, out = admin.kubectl(
        "create", "rolebinding", "grab", "-n", ns, "--clusterrole=cluster-admin",
        f"--user={admin.name}",
    )  # fmt: skip
    assert code != 0
    assert "is attempting to grant RBAC permissions not currently held" in out, out
    code, out = admin.kubectl(
        "create", "clusterrolebinding", f"grab-{ns}", "--clusterrole=cluster-admin",
        f"--user={admin.name}",
    )  # fmt: skip
    assert code != 0 and "is forbidden" in out, out
    # Nor a Role with more than it holds.
    code, out = admin.kubectl("create", "role", "wide", "-n", ns, "--verb=get", "--resource=nodes")
    assert code != 0 and "attempting to grant RBAC permissions not currently held" in out, out
    with admin.client() as client:
        assert client.role_bindings(ns).get("grant-edit").role_ref.name == "edit"
        names = [b.metadata.name for b in client.role_bindings(ns).list().items]
    assert "grab" not in names


def test_can_i_and_impersonation(
    cluster: LocalCluster,
    cluster_client: Client,
    cluster_namespace: str,
    other_namespace: str,
    tmp_path: Path,
) -> None:
    ns = cluster_namespace
    alice = make_user(cluster, tmp_path, f"alice-{ns}")
    bind(cluster_client, ns, "edit", alice.name)
    root = make_user(cluster, tmp_path, f"root-{ns}", ("system:masters",))
    # The admin asks for alice (kubectl auth can-i --as: impersonation + SelfSubjectAccessReview).
    for args, answer in (
        (("create", "pods", "-n", ns), "yes"),
        (("create", "pods", "-n", other_namespace), "no"),
        (("list", "nodes"), "no"),
    ):
        code, out = root.kubectl("auth", "can-i", *args, "--as", alice.name)
        assert out.splitlines()[0] == answer, (args, out)
    code, out = alice.kubectl("auth", "can-i", "create", "deployments", "-n", ns)
    assert out.splitlines()[0] == "yes", out
    # alice may not impersonate anyone.
    code, out = alice.kubectl("get", "pods", "-n", ns, "--as", "kubernetes-admin")
    assert code != 0
    assert 'cannot impersonate resource "users" in API group "" at the cluster scope' in out
    # The same over gRPC: the admin acting as alice is alice.
    with Client(
        config=ClientConfig(**{**root.config.__dict__, "impersonate_user": alice.name}),
        timeout=10,
    ) as as_alice:
        assert as_alice.pods(ns).list().items == []
        with pytest.raises(errors.Forbidden) as err:
            as_alice.pods(other_namespace).list()
    assert f'User "{alice.name}"' in str(err.value)
    review = json.loads(root.kubectl("auth", "whoami", "-o", "json", "--as", alice.name)[1])
    assert review["status"]["userInfo"]["username"] == alice.name


def test_pinnace_auth_can_i_and_whoami(
    cluster: LocalCluster, cluster_client: Client, cluster_namespace: str, tmp_path: Path
) -> None:
    """The pinnace CLI asks the same reviews, with --as too."""
    ns = cluster_namespace
    bob = make_user(cluster, tmp_path, f"bob-{ns}", ("devs",))
    bind(cluster_client, ns, "view", bob.name)

    def pinnace(*args: str) -> tuple[int, str]:
        out = subprocess.run(
            [sys.executable, "-m", "pinnace.cli.main", "--kubeconfig", str(bob.kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return out.returncode, out.stdout + out.stderr

    assert pinnace("auth", "can-i", "list", "pods", "-n", ns) == (0, "yes\n")
    assert pinnace("auth", "can-i", "delete", "pods", "-n", ns) == (1, "no\n")
    assert pinnace("auth", "can-i", "get", "deployments/web", "-n", ns)[1] == "yes\n"
    assert pinnace("auth", "can-i", "get", "/healthz") == (0, "yes\n")
    code, out = pinnace("auth", "whoami")
    assert code == 0 and f"Username: {bob.name}" in out and "devs" in out, out
    # bob may not impersonate: the CLI says so in one line.
    code, out = pinnace("--as", "kubernetes-admin", "auth", "can-i", "list", "pods", "-n", ns)
    assert code != 0 and 'cannot impersonate resource "users"' in out, out
    # The admin (the cluster's kubeconfig) asks for bob.
    admin = subprocess.run(
        [sys.executable, "-m", "pinnace.cli.main", *cluster.cli_args, "--as", bob.name, "auth",
         "can-i", "delete", "pods", "-n", ns],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (admin.returncode, admin.stdout) == (1, "no\n"), admin.stderr
