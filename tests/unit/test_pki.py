"""pinnace.machinery.pki and .kubeconfig: a cluster CA, the apiserver's
serving certificate and the admin identity, kept across restarts, re-issued
when unfit; a kubeconfig that kubectl and the official client accept."""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import json
import os
import ssl
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from cryptography import x509
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

from pinnace.machinery import pki
from pinnace.machinery.kubeconfig import kubeconfig, write_kubeconfig
from tests.kubectl import run_kubectl

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NAMES = ("ca", "apiserver", "admin")


@pytest.fixture
def pki_dir(tmp_path: Path) -> Path:
    return tmp_path / "pki"


def _verify_server(ca: x509.Certificate, leaf: x509.Certificate, name: str) -> None:
    try:
        subject: verification.DNSName | verification.IPAddress = verification.IPAddress(
            ipaddress.ip_address(name)
        )
    except ValueError:
        subject = verification.DNSName(name)
    store = verification.Store([ca])
    verifier = verification.PolicyBuilder().store(store).time(NOW).build_server_verifier(subject)
    verifier.verify(leaf, [])


def _read(paths: pki.PairPaths) -> pki.Issued:
    pair = pki.read_pair(paths)
    assert pair is not None
    return pair


@pytest.mark.parametrize(
    "name",
    [
        *pki.APISERVER_DNS_NAMES,
        "127.0.0.1",
        "::1",
        pytest.param("pinnace.example.com", id="extra-dns"),
        pytest.param("192.0.2.7", id="extra-ip"),
    ],
)
def test_serving_certificate_verifies_for(pki_dir: Path, name: str) -> None:
    """A strict verifier (cryptography's, CA/B Forum rules) accepts the
    serving certificate for each name and address a client may dial."""
    files = pki.ensure_cluster_pki(
        pki_dir, extra_dns=["pinnace.example.com"], extra_ips=["192.0.2.7"], now=NOW
    )
    _verify_server(_read(files.ca).cert, _read(files.apiserver).cert, name)


@pytest.mark.parametrize("name", ["kubernetes.example.com", "10.0.0.1", "::2"])
def test_serving_certificate_refused_for_other_names(pki_dir: Path, name: str) -> None:
    files = pki.ensure_cluster_pki(pki_dir, now=NOW)
    with pytest.raises(verification.VerificationError):
        _verify_server(_read(files.ca).cert, _read(files.apiserver).cert, name)


def test_ca_and_admin_identity(pki_dir: Path) -> None:
    """The CA is pinnace-ca for 10 years; the admin certificate is a client
    certificate for CN kubernetes-admin, O system:masters, for 1 year."""
    files = pki.ensure_cluster_pki(pki_dir, now=NOW)
    ca, admin = _read(files.ca).cert, _read(files.admin).cert
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "pinnace-ca"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (ca.not_valid_after_utc - NOW).days == 3650
    assert (admin.not_valid_after_utc - NOW).days == 365
    # The Web PKI rules, but a client certificate needs no SAN (Kubernetes'
    # have none: the identity is the subject).
    ee = verification.ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None
    )
    ca_policy = verification.ExtensionPolicy.webpki_defaults_ca()
    builder = verification.PolicyBuilder().store(verification.Store([ca])).time(NOW)
    builder = builder.extension_policies(ca_policy=ca_policy, ee_policy=ee)
    result = builder.build_client_verifier().verify(admin, [])
    assert result.chain[-1] == ca
    assert admin.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == pki.ADMIN_USER
    groups = admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [g.value for g in groups] == [pki.ADMIN_GROUP]


@pytest.mark.parametrize(
    ("path", "mode"),
    [
        ("pki", 0o700),
        ("pki/ca.key", 0o600),
        ("pki/apiserver.key", 0o600),
        ("pki/admin.key", 0o600),
        ("pki/ca.crt", 0o644),
        ("pki/apiserver.crt", 0o644),
        ("pki/admin.crt", 0o644),
    ],
)
def test_file_modes(tmp_path: Path, path: str, mode: int) -> None:
    old = os.umask(0)  # the most permissive umask: modes come from the code alone
    try:
        pki.ensure_cluster_pki(tmp_path / "pki", now=NOW)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / path).stat().st_mode) == mode


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077], ids=["000", "022", "077"])
def test_key_is_never_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    """The bytes of a key reach the disk only in a file that is 0600 already:
    the temporary file is checked at the moment it is renamed into place."""
    seen: list[int] = []
    replace = os.replace

    def checking_replace(src: str, dst: str) -> None:
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", checking_replace)
    old = os.umask(umask)
    try:
        pki.write_file(tmp_path / "x.key", b"secret", pki.KEY_MODE)
    finally:
        os.umask(old)
    assert seen == [0o600]
    assert (tmp_path / "x.key").read_bytes() == b"secret"
    assert [p.name for p in tmp_path.iterdir()] == ["x.key"]  # no temporary left


def _garble(path: Path) -> None:
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n")


# What changes between two starts (on disk; SANs asked; days later), and
# which files the second start re-issues.
CHANGES = [
    pytest.param(None, ["a.example", "b.example"], [], 0, set(), id="nothing"),
    pytest.param(None, [], [], 0, set(), id="fewer-sans-asked"),
    pytest.param(None, ["b.example", "a.example"], [], 0, set(), id="sans-in-other-order"),
    pytest.param(None, ["new.example"], [], 0, {"apiserver"}, id="one-more-dns-san"),
    pytest.param(None, [], ["192.0.2.9"], 0, {"apiserver"}, id="one-more-ip-san"),
    pytest.param("apiserver.crt", [], [], 0, {"apiserver"}, id="serving-cert-removed"),
    pytest.param("admin.key", [], [], 0, {"admin"}, id="admin-key-garbled"),
    pytest.param("ca.key", [], [], 0, set(NAMES), id="ca-key-garbled"),
    pytest.param(None, [], [], 340, {"apiserver", "admin"}, id="leaves-about-to-expire"),
    pytest.param(None, [], [], 3640, set(NAMES), id="ca-about-to-expire"),
]


@pytest.mark.parametrize(("garble", "extra_dns", "extra_ips", "days", "reissued"), CHANGES)
def test_restart_keeps_what_is_still_fit(
    pki_dir: Path,
    garble: str | None,
    extra_dns: list[str],
    extra_ips: list[str],
    days: int,
    reissued: set[str],
) -> None:
    pki.ensure_cluster_pki(pki_dir, extra_dns=["a.example", "b.example"], now=NOW)
    before = {n: pki.PairPaths.of(pki_dir, n).cert.read_bytes() for n in NAMES}
    if garble:
        (pki_dir / garble).write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n")
    later = NOW + timedelta(days=days)
    files = pki.ensure_cluster_pki(pki_dir, extra_dns=extra_dns, extra_ips=extra_ips, now=later)
    after = {n: pki.PairPaths.of(pki_dir, n).cert.read_bytes() for n in NAMES}
    assert {n for n in NAMES if before[n] != after[n]} == reissued
    ca = _read(files.ca)
    assert pki.unfit(ca, ca=None, spec=None, now=later) is None
    for name in ("apiserver", "admin"):  # every leaf is the current CA's, with its key
        pair = _read(pki.PairPaths.of(pki_dir, name))
        assert pki.unfit(pair, ca=ca, spec=None, now=later) is None


def _spec(**changes: Any) -> pki.CertSpec:
    return dataclasses.replace(pki.client_spec("alice", ["dev"]), **changes)


@pytest.mark.parametrize(
    ("asked", "reason"),
    [
        pytest.param(_spec(), None, id="as-issued"),
        pytest.param(_spec(common_name="bob"), "its CN is not 'bob'", id="other-user"),
        pytest.param(_spec(organizations=()), "its O (groups) are not []", id="other-groups"),
        pytest.param(
            _spec(dns_names=frozenset({"x.example"})),
            "its SANs do not cover x.example",
            id="missing-san",
        ),
        pytest.param(
            _spec(usages=frozenset({pki.Usage.SERVER})),
            "its extended key usage does not allow server",
            id="server-usage",
        ),
    ],
)
def test_unfit_says_why(asked: pki.CertSpec, reason: str | None) -> None:
    ca = pki.new_ca(now=NOW)
    pair = pki.issue(ca, pki.client_spec("alice", ["dev"]), now=NOW)
    assert pki.unfit(pair, ca=ca, spec=asked, now=NOW) == reason


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(
            lambda ca, pair: pki.Issued(pair.cert, pki.new_ca(now=NOW).key),
            "its key does not match the certificate",
            id="other-key",
        ),
        pytest.param(
            lambda ca, pair: pki.issue(pki.new_ca(now=NOW), pki.client_spec("alice"), now=NOW),
            "it is not signed by the cluster CA",
            id="other-ca",
        ),
        pytest.param(
            lambda ca, pair: pki.issue(ca, pki.client_spec("alice"), now=NOW + timedelta(days=1)),
            "it is not valid yet",
            id="future",
        ),
    ],
)
def test_unfit_pairs(make: Callable[[pki.Issued, pki.Issued], pki.Issued], reason: str) -> None:
    ca = pki.new_ca(now=NOW)
    pair = make(ca, pki.issue(ca, pki.client_spec("alice"), now=NOW))
    assert pki.unfit(pair, ca=ca, spec=None, now=NOW) == reason


# ---- kubeconfig ------------------------------------------------------------------------


@pytest.fixture
def admin_kubeconfig(tmp_path: Path) -> Callable[[str], Path]:
    """Write a kubeconfig for the admin identity of a fresh PKI; its path."""
    files = pki.ensure_cluster_pki(tmp_path / "pki")

    def write(server: str) -> Path:
        config = kubeconfig(
            server=server,
            ca_pem=files.ca.cert.read_bytes(),
            client_cert_pem=files.admin.cert.read_bytes(),
            client_key_pem=files.admin.key.read_bytes(),
        )
        return write_kubeconfig(tmp_path / "kubeconfig", config)

    return write


def test_kubeconfig_is_kubernetes_format(
    tmp_path: Path, admin_kubeconfig: Callable[[str], Path]
) -> None:
    path = admin_kubeconfig("https://127.0.0.1:6444")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = yaml.safe_load(path.read_text())
    assert (doc["apiVersion"], doc["kind"], doc["current-context"]) == ("v1", "Config", "pinnace")
    assert doc["contexts"] == [
        {"name": "pinnace", "context": {"cluster": "pinnace", "user": "pinnace-admin"}}
    ]
    cluster = doc["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6444"
    ca = x509.load_pem_x509_certificate(base64.b64decode(cluster["certificate-authority-data"]))
    assert ca == x509.load_pem_x509_certificate((tmp_path / "pki" / "ca.crt").read_bytes())
    assert set(doc["users"][0]["user"]) == {"client-certificate-data", "client-key-data"}


def test_official_client_loads_kubeconfig(admin_kubeconfig: Callable[[str], Path]) -> None:
    """`kubernetes.config.load_kube_config` reads it: server, CA and the
    client pair, written out to the files urllib3 is given."""
    path = admin_kubeconfig("https://127.0.0.1:6444")
    cfg = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(path), client_configuration=cfg)
    assert cfg.host == "https://127.0.0.1:6444"
    assert cfg.verify_ssl
    pki_dir = path.parent / "pki"
    assert cfg.ssl_ca_cert and cfg.cert_file and cfg.key_file
    assert Path(cfg.ssl_ca_cert).read_bytes() == (pki_dir / "ca.crt").read_bytes()
    assert Path(cfg.cert_file).read_bytes() == (pki_dir / "admin.crt").read_bytes()
    assert Path(cfg.key_file).read_bytes() == (pki_dir / "admin.key").read_bytes()


VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-pinnace",
    "gitCommit": "0",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@pytest.fixture
def tls_version_server(tmp_path: Path) -> Iterator[str]:
    """A TLS server with the apiserver's certificate, asking for a client
    certificate from the cluster CA, that answers GET /version; its URL."""
    files = pki.ensure_cluster_pki(tmp_path / "pki")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.apiserver.cert, files.apiserver.key)
    context.load_verify_locations(files.ca.cert)
    context.verify_mode = ssl.CERT_REQUIRED
    clients: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            peer = self.connection.getpeercert()
            clients.append(dict(x[0] for x in peer["subject"])["commonName"])
            body = json.dumps(VERSION).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
        assert set(clients) <= {pki.ADMIN_USER}
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_official_client_talks_tls_with_it(
    tls_version_server: str, admin_kubeconfig: Callable[[str], Path]
) -> None:
    """The client verifies the serving certificate (IP SAN 127.0.0.1) and
    presents the admin certificate."""
    path = admin_kubeconfig(tls_version_server)
    api = kubernetes.config.new_client_from_config(config_file=str(path))
    try:
        assert kubernetes.client.VersionApi(api).get_code().git_version == "v1.32.0-pinnace"
    finally:
        api.close()


def test_kubectl_talks_tls_with_it(
    tls_version_server: str, admin_kubeconfig: Callable[[str], Path]
) -> None:
    path = admin_kubeconfig(tls_version_server)
    result = run_kubectl(path, "version", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["serverVersion"]["gitVersion"] == "v1.32.0-pinnace"
