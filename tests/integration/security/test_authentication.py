"""Authentication against a real secure apiserver, both front doors: every
row is a real attempt with its expected outcome (issue 13's attack table,
the authentication rows).

The apiserver serves gRPC and HTTPS with the cluster CA as its client CA
(mutual TLS on gRPC; a certificate or a bearer token on HTTPS), a static
token file, and no anonymous requests. A second apiserver serves plain gRPC
(no TLS) with the same token file, to show the token and anonymous paths
of the gRPC door.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest

from apiserver.etcd.client import EtcdClient
from apiserver.etcd.errors import EtcdTimeout, EtcdUnavailable
from pinnace.api.service.v1 import api_pb2
from pinnace.client import Client
from pinnace.client.config import ClientConfig
from pinnace.localcluster import process
from pinnace.localcluster.cluster import LocalCluster
from pinnace.localcluster.etcd import EtcdServer, free_port
from pinnace.machinery import errors, pki
from pinnace.machinery.kubeletaddr import kubelet_endpoint
from pinnace.machinery.tlsclient import client_ssl_context

WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
TOKEN = "token-of-alice"


@dataclass
class Secure:
    grpc: str
    https: str
    plain_grpc: str
    pki: Path
    ca: bytes
    pairs: dict[str, pki.Issued]


def _write(dir: Path, name: str, pair: pki.Issued) -> None:
    pki.write_pair(pki.PairPaths.of(dir, name), pair)


@pytest.fixture(scope="module")
def secure(etcd_server: EtcdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secure]:
    base = tmp_path_factory.mktemp("authn")
    files = pki.ensure_cluster_pki(base)
    ca = pki.read_pair(files.ca)
    assert ca is not None
    foreign_ca = pki.new_ca()
    pairs = {
        "admin": pki.read_pair(files.admin),
        "bob": pki.issue(ca, pki.client_spec("bob", ["devs"])),
        "foreign": pki.issue(foreign_ca, pki.client_spec("kubernetes-admin", ["system:masters"])),
        "expired": pki.issue(
            ca,
            pki.client_spec("kubernetes-admin", ["system:masters"]),
            now=datetime.now(UTC) - timedelta(days=400),
        ),
    }
    tokens = base / "tokens.csv"
    tokens.write_text(f'{TOKEN},alice,1001,"devs,ops"\n')
    grpc_port, https_port, plain_port = free_port(), free_port(), free_port()
    tls = [
        *("--tls-cert-file", str(files.apiserver.cert)),
        *("--tls-private-key-file", str(files.apiserver.key)),
    ]
    api = process.apiserver(
        etcd_server.endpoint, grpc_port, base / "apiserver.log",
        *tls, "--client-ca-file", str(files.ca.cert), "--token-auth-file", str(tokens),
        "--rest-listen", f"127.0.0.1:{https_port}",
    )  # fmt: skip
    plain = process.apiserver(
        etcd_server.endpoint, plain_port, base / "plain.log",
        "--token-auth-file", str(tokens),
    )  # fmt: skip
    try:
        api.start()
        plain.start()
        admin_creds = grpc.ssl_channel_credentials(
            files.ca.cert.read_bytes(), files.admin.key.read_bytes(), files.admin.cert.read_bytes()
        )
        api.wait_serving(f"127.0.0.1:{grpc_port}", 30, admin_creds)
        plain.wait_serving(f"127.0.0.1:{plain_port}", 30)
        api.wait_listening(f"127.0.0.1:{https_port}", 30)
        yield Secure(
            grpc=f"127.0.0.1:{grpc_port}",
            https=f"https://127.0.0.1:{https_port}",
            plain_grpc=f"127.0.0.1:{plain_port}",
            pki=base,
            ca=files.ca.cert.read_bytes(),
            pairs={k: v for k, v in pairs.items() if v is not None},
        )
    finally:
        api.stop()
        plain.stop()


# ---- the HTTP front door -------------------------------------------------------------------


def _https(
    s: Secure, path: str, *, pair: str | None = None, token: str | None = None, post: bool = False
) -> tuple[int, Any]:
    context = ssl.create_default_context(cadata=s.ca.decode())
    if pair is not None:
        cert_file, key_file = s.pki / f"{pair}-client.crt", s.pki / f"{pair}-client.key"
        _write(s.pki, f"{pair}-client", s.pairs[pair])
        context.load_cert_chain(str(cert_file), str(key_file))
    request = urllib.request.Request(
        s.https + path,
        method="POST" if post else "GET",
        data=b"{}" if post else None,
        headers={"Content-Type": "application/json"},
    )
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.mark.parametrize(
    ("pair", "token", "user", "groups"),
    [
        pytest.param(
            "admin",
            None,
            "kubernetes-admin",
            ["system:masters", "system:authenticated"],
            id="admin-certificate",
        ),
        pytest.param("bob", None, "bob", ["devs", "system:authenticated"], id="user-certificate"),
        pytest.param(None, TOKEN, "alice", ["devs", "ops", "system:authenticated"], id="token"),
    ],
)
def test_https_knows_who_asks(
    secure: Secure, pair: str | None, token: str | None, user: str, groups: list[str]
) -> None:
    code, review = _https(secure, WHOAMI, pair=pair, token=token, post=True)
    assert code == 201, review
    assert review["kind"] == "SelfSubjectReview"
    assert review["status"]["userInfo"]["username"] == user
    assert review["status"]["userInfo"]["groups"] == groups


@pytest.mark.parametrize(
    ("path", "token"),
    [
        pytest.param("/api/v1/namespaces", None, id="no-credentials"),
        pytest.param("/healthz", None, id="no-credentials-healthz"),
        pytest.param("/api/v1/namespaces", "not-a-token", id="bad-token"),
    ],
)
def test_https_refuses_with_401(secure: Secure, path: str, token: str | None) -> None:
    code, status = _https(secure, path, token=token)
    assert code == 401
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Unauthorized", 401)


@pytest.mark.parametrize("pair", ["foreign", "expired"])
def test_https_refuses_a_certificate_it_cannot_verify(secure: Secure, pair: str) -> None:
    """Another CA's certificate, or an expired one: the TLS handshake fails."""
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        _https(secure, "/api/v1/namespaces", pair=pair)


# ---- the gRPC front door -------------------------------------------------------------------


def _grpc_config(s: Secure, pair: str | None) -> ClientConfig:
    p = s.pairs.get(pair) if pair else None
    return ClientConfig(
        servers=(s.grpc,),
        ca_pem=s.ca,
        cert_pem=p.cert_pem() if p else None,
        key_pem=p.key_pem() if p else None,
    )


def test_grpc_with_a_cluster_certificate_is_served(secure: Secure) -> None:
    with Client(config=_grpc_config(secure, "admin"), timeout=10) as client:
        names = {ns.metadata.name for ns in client.namespaces().list().items}
    assert "default" in names


@pytest.mark.parametrize("pair", [None, "foreign", "expired"])
def test_grpc_refuses_a_connection_without_a_good_certificate(
    secure: Secure, pair: str | None
) -> None:
    """Mutual TLS: no certificate, another CA's or an expired one ends in the handshake."""
    with Client(config=_grpc_config(secure, pair), timeout=3) as client:
        with pytest.raises((errors.Unavailable, errors.Timeout)):
            client.namespaces().list()


def test_grpc_plaintext_to_the_tls_port_is_refused(secure: Secure) -> None:
    with Client(secure.grpc, timeout=3) as client:
        with pytest.raises((errors.Unavailable, errors.Timeout)):
            client.namespaces().list()


def _raw_list(endpoint: str, token: str | None) -> grpc.StatusCode:
    """One List of namespaces over plain gRPC with an optional bearer token."""
    metadata = [("authorization", f"Bearer {token}")] if token is not None else []
    with grpc.insecure_channel(endpoint) as channel:
        call = channel.unary_unary(
            "/pinnace.api.service.v1.Api/List",
            request_serializer=api_pb2.ListRequest.SerializeToString,
            response_deserializer=lambda b: b,
        )
        try:
            call(api_pb2.ListRequest(resource="namespaces"), metadata=metadata, timeout=10)
        except grpc.RpcError as e:
            return e.code()
        return grpc.StatusCode.OK


@pytest.mark.parametrize(
    ("token", "code"),
    [
        pytest.param(None, grpc.StatusCode.UNAUTHENTICATED, id="no-credentials"),
        pytest.param("not-a-token", grpc.StatusCode.UNAUTHENTICATED, id="bad-token"),
        # Authenticated, then refused by RBAC: alice holds no role (403, not 401).
        pytest.param(TOKEN, grpc.StatusCode.PERMISSION_DENIED, id="token"),
    ],
)
def test_plain_grpc_takes_tokens_only(
    secure: Secure, token: str | None, code: grpc.StatusCode
) -> None:
    assert _raw_list(secure.plain_grpc, token) == code


def test_anonymous_requests_only_with_the_flag(etcd_server: EtcdServer, tmp_path: Path) -> None:
    port = free_port()
    api = process.apiserver(etcd_server.endpoint, port, tmp_path / "anon.log", anonymous=True)
    try:
        api.start()
        api.wait_serving(f"127.0.0.1:{port}", 30)
        assert _raw_list(f"127.0.0.1:{port}", None) == grpc.StatusCode.OK
        # A wrong credential is still refused.
        assert _raw_list(f"127.0.0.1:{port}", "nope") == grpc.StatusCode.UNAUTHENTICATED
    finally:
        api.stop()


# ---- etcd: only the apiserver ----------------------------------------------------------------


async def _read_etcd(endpoint: str, credentials: grpc.ChannelCredentials | None) -> None:
    async with EtcdClient([endpoint], credentials=credentials, timeout=3) as etcd:
        await etcd.get(b"/registry/core/namespaces/default")


async def test_the_cluster_etcd_takes_only_the_apiserver_certificate(
    cluster: LocalCluster,
) -> None:
    """etcd over TLS with --client-cert-auth: a client without the cluster
    CA's certificate gets nothing; the apiserver's etcd client pair reads."""
    assert cluster.etcd is not None
    endpoint, tls = cluster.etcd.endpoint, cluster.etcd_tls
    ca = tls.ca.read_bytes()
    stranger = pki.issue(pki.new_ca(), pki.client_spec("kube-apiserver-etcd-client"))
    for credentials in (
        None,  # plaintext
        grpc.ssl_channel_credentials(ca),  # TLS, no client certificate
        grpc.ssl_channel_credentials(ca, stranger.key_pem(), stranger.cert_pem()),
    ):
        with pytest.raises((EtcdUnavailable, EtcdTimeout)):
            await _read_etcd(endpoint, credentials)
    await _read_etcd(endpoint, tls.channel_credentials())


# ---- the kubelets' endpoint: only system:masters (the apiserver, admins) --------------------


def _kubelet_get(address: tuple[str, int], tls: ssl.SSLContext | None) -> int:
    """The status of GET /healthz at a kubelet endpoint."""
    conn = (
        http.client.HTTPConnection(*address, timeout=5)
        if tls is None
        else http.client.HTTPSConnection(*address, timeout=5, context=tls)
    )
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    finally:
        conn.close()


def test_the_kubelet_endpoint_serves_only_the_cluster_admins(
    cluster: LocalCluster, cluster_client: Client
) -> None:
    address = kubelet_endpoint(cluster_client.nodes().get("node-1"))
    assert address is not None
    ca_pair = pki.read_pair(cluster.pki.ca)
    admin = pki.read_pair(cluster.pki.admin)
    assert ca_pair is not None and admin is not None
    ca = ca_pair.cert_pem()
    alice = pki.issue(ca_pair, pki.client_spec("alice", ["devs"]))
    # Plain HTTP to the TLS endpoint, or TLS without a certificate: no answer.
    for tls in (None, client_ssl_context(ca, check_hostname=False)):
        with pytest.raises((ConnectionError, ssl.SSLError, http.client.HTTPException, OSError)):
            _kubelet_get(address, tls)
    as_alice = client_ssl_context(ca, alice.cert_pem(), alice.key_pem(), check_hostname=False)
    assert _kubelet_get(address, as_alice) == 403
    as_admin = client_ssl_context(ca, admin.cert_pem(), admin.key_pem(), check_hostname=False)
    assert _kubelet_get(address, as_admin) == 200
