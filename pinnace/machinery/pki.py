"""A cluster's certificates: its CA, the apiserver's serving certificate and
client identities (CN = user, O = groups, as Kubernetes reads them).

Choices, and why:

* Keys are ECDSA P-256: a key takes ~0.1 ms to make (RSA 2048: ~50 ms,
  and `pinnace up` makes three), and Go's TLS (kubectl), OpenSSL (Python's
  ``ssl``, the ``kubernetes`` client) and etcd all take it.
* The CA lives 10 years, a leaf 1 year, as kubeadm's do; both start 5
  minutes in the past so a peer whose clock lags a little still accepts them.
* Every certificate carries what strict verifiers (Python 3.13's
  ``VERIFY_X509_STRICT``, ``cryptography.x509.verification``) require:
  a critical basicConstraints, keyUsage, subject and authority key ids, and
  on a leaf its SANs and extendedKeyUsage.

Files (``ensure_*``): ``<name>.crt`` and ``<name>.key``, PEM. A key file is
created with mode 0600 under a temporary name and renamed into place, so it
is never readable by others, not even for a moment, and never half written.
An existing pair is reused when it still does the job (`unfit` says why it
does not): parses, the key matches, signed by the current CA, valid for at
least `RENEW_BEFORE` more, the same subject, and SANs and usages that cover
what is asked. So a restart on the same directory keeps the CA and every
certificate; asking for one more SAN re-issues only the serving certificate;
a new CA (its key lost) re-issues every leaf.

Issue 13 grows this: etcd server/peer and per-component client identities
are more `CertSpec`s through the same `ensure_leaf`.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "ADMIN_GROUP",
    "ADMIN_USER",
    "APISERVER_DNS_NAMES",
    "APISERVER_IPS",
    "CA_NAME",
    "COMPONENT_IDENTITIES",
    "CONTROLLER_MANAGER_USER",
    "NODES_GROUP",
    "PROXY_USER",
    "SCHEDULER_USER",
    "CertSpec",
    "ClusterPKI",
    "Issued",
    "PairPaths",
    "Usage",
    "client_spec",
    "ensure_ca",
    "ensure_cluster_pki",
    "ensure_leaf",
    "ensure_node_pairs",
    "issue",
    "new_ca",
    "node_user",
    "read_pair",
    "serving_spec",
    "unfit",
    "write_file",
    "write_pair",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CA_NAME = "pinnace-ca"
CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=365)
# Start validity this far back: tolerates a peer's clock a little behind ours.
BACKDATE = timedelta(minutes=5)
# A certificate with less than this left is re-issued at the next start.
RENEW_BEFORE = timedelta(days=30)

APISERVER_NAME = "kube-apiserver"
# The names a client may use for the apiserver, as kubeadm's serving
# certificate lists them (the in-cluster Service names too).
APISERVER_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
APISERVER_IPS: tuple[IPAddress, ...] = (
    ipaddress.IPv4Address("127.0.0.1"),
    ipaddress.IPv6Address("::1"),
)
# The identity of `pinnace up`'s kubeconfig: system:masters bypasses
# authorization in Kubernetes (and in Pinnace from issue 13 on).
ADMIN_USER = "kubernetes-admin"
ADMIN_GROUP = "system:masters"
# The components' identities, as Kubernetes names them (the bootstrap RBAC
# roles bind these users; kubelets are system:node:<name> in system:nodes).
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
SCHEDULER_USER = "system:kube-scheduler"
PROXY_USER = "system:kube-proxy"
ETCD_CLIENT_USER = "kube-apiserver-etcd-client"
KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"
NODES_GROUP = "system:nodes"


def node_user(node: str) -> str:
    """A kubelet's user: ``system:node:<node name>``."""
    return f"system:node:{node}"


# Client pairs every cluster has: file name -> (user, groups).
COMPONENT_IDENTITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": (ADMIN_USER, (ADMIN_GROUP,)),
    "controller-manager": (CONTROLLER_MANAGER_USER, ()),
    "scheduler": (SCHEDULER_USER, ()),
    "proxy": (PROXY_USER, ()),
}

CERT_MODE = 0o644
KEY_MODE = 0o600
DIR_MODE = 0o700


class Usage(Enum):
    """What a leaf certificate may be used for (its extendedKeyUsage)."""

    SERVER = "server"
    CLIENT = "client"


_EKU = {
    Usage.SERVER: ExtendedKeyUsageOID.SERVER_AUTH,
    Usage.CLIENT: ExtendedKeyUsageOID.CLIENT_AUTH,
}


@dataclass(frozen=True)
class CertSpec:
    """What a leaf certificate must say."""

    common_name: str
    usages: frozenset[Usage]
    organizations: tuple[str, ...] = ()
    dns_names: frozenset[str] = frozenset()
    ips: frozenset[IPAddress] = frozenset()
    validity: timedelta = LEAF_VALIDITY


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass(frozen=True)
class PairPaths:
    """Where the pair named `name` lives in a PKI directory."""

    cert: Path
    key: Path

    @classmethod
    def of(cls, pki_dir: Path, name: str) -> PairPaths:
        return cls(cert=pki_dir / f"{name}.crt", key=pki_dir / f"{name}.key")


@dataclass(frozen=True)
class ClusterPKI:
    """The files of a local cluster's PKI directory (`ensure_cluster_pki`)."""

    dir: Path

    @property
    def ca(self) -> PairPaths:
        return PairPaths.of(self.dir, "ca")

    @property
    def apiserver(self) -> PairPaths:
        return PairPaths.of(self.dir, "apiserver")

    @property
    def admin(self) -> PairPaths:
        return PairPaths.of(self.dir, "admin")

    def client(self, name: str) -> PairPaths:
        """A component's client pair: a COMPONENT_IDENTITIES name or ``kubelet-<node>``."""
        return PairPaths.of(self.dir, name)

    def kubelet(self, node: str) -> PairPaths:
        return PairPaths.of(self.dir, f"kubelet-{node}")

    def kubelet_serving(self, node: str) -> PairPaths:
        """The serving pair of node ``node``'s kubelet endpoint (logs, exec)."""
        return PairPaths.of(self.dir, f"kubelet-{node}-serving")

    @property
    def apiserver_kubelet_client(self) -> PairPaths:
        """The apiserver's identity toward kubelets (in system:masters, as kubeadm's)."""
        return PairPaths.of(self.dir, "apiserver-kubelet-client")

    @property
    def etcd_server(self) -> PairPaths:
        return PairPaths.of(self.dir, "etcd-server")

    @property
    def etcd_peer(self) -> PairPaths:
        return PairPaths.of(self.dir, "etcd-peer")

    @property
    def apiserver_etcd_client(self) -> PairPaths:
        """The apiserver's identity toward etcd (etcd requires client certificates)."""
        return PairPaths.of(self.dir, "apiserver-etcd-client")


# ---- certificates (pure) ---------------------------------------------------------------


def serving_spec(
    *, extra_dns: Iterable[str] = (), extra_ips: Iterable[str | IPAddress] = ()
) -> CertSpec:
    """The apiserver's serving certificate: loopback and the `kubernetes`
    Service names, plus `extra_dns` and `extra_ips` (a machine's own names
    and addresses, for clients elsewhere)."""
    return CertSpec(
        common_name=APISERVER_NAME,
        usages=frozenset({Usage.SERVER}),
        dns_names=frozenset(APISERVER_DNS_NAMES) | frozenset(extra_dns),
        ips=frozenset(APISERVER_IPS) | frozenset(ipaddress.ip_address(ip) for ip in extra_ips),
    )


def client_spec(user: str, groups: Iterable[str] = ()) -> CertSpec:
    """A client identity as Kubernetes' x509 authenticator reads it: the
    subject's CN is the user, each O a group."""
    return CertSpec(common_name=user, usages=frozenset({Usage.CLIENT}), organizations=tuple(groups))


def new_ca(
    common_name: str = CA_NAME, *, now: datetime | None = None, validity: timedelta = CA_VALIDITY
) -> Issued:
    """A new self-signed CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = (now or datetime.now(UTC)) - BACKDATE
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + BACKDATE + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return Issued(cert=cert, key=key)


def issue(ca: Issued, spec: CertSpec, *, now: datetime | None = None) -> Issued:
    """A new key and a certificate for it, signed by `ca`, saying what `spec` asks."""
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in spec.organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, spec.common_name))
    start = (now or datetime.now(UTC)) - BACKDATE
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + BACKDATE + spec.validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([_EKU[u] for u in sorted(spec.usages, key=lambda u: u.value)]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_authority_key_id(ca.cert), critical=False)
    )
    sans = _sans(spec)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return Issued(cert=builder.sign(ca.key, hashes.SHA256()), key=key)


def unfit(
    pair: Issued, *, ca: Issued | None, spec: CertSpec | None, now: datetime | None = None
) -> str | None:
    """Why `pair` cannot be kept (None: keep it). `ca` None: `pair` is the CA
    itself; `spec` None: any subject and SANs do."""
    now = now or datetime.now(UTC)
    if pair.key.public_key() != pair.cert.public_key():
        return "its key does not match the certificate"
    if pair.cert.not_valid_before_utc > now:
        return "it is not valid yet"
    if pair.cert.not_valid_after_utc - now < RENEW_BEFORE:
        return f"it expires at {pair.cert.not_valid_after_utc:%Y-%m-%d %H:%M}Z"
    issuer = ca or pair
    try:
        pair.cert.verify_directly_issued_by(issuer.cert)
    except (ValueError, TypeError, InvalidSignature):
        return "it is not signed by the cluster CA"
    if spec is None:
        return None
    if _common_name(pair.cert) != spec.common_name:
        return f"its CN is not {spec.common_name!r}"
    if _organizations(pair.cert) != spec.organizations:
        return f"its O (groups) are not {list(spec.organizations)}"
    missing = _missing_sans(pair.cert, spec)
    if missing:
        return f"its SANs do not cover {', '.join(missing)}"
    if not _usages(pair.cert) >= spec.usages:
        return "its extended key usage does not allow " + ", ".join(
            sorted(u.value for u in spec.usages)
        )
    return None


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _authority_key_id(ca: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:  # a CA brought from elsewhere
        ski = x509.SubjectKeyIdentifier.from_public_key(ca.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _sans(spec: CertSpec) -> list[x509.GeneralName]:
    dns: list[x509.GeneralName] = [x509.DNSName(n) for n in sorted(spec.dns_names)]
    ips: list[x509.GeneralName] = [
        x509.IPAddress(ip) for ip in sorted(spec.ips, key=lambda ip: (ip.version, int(ip)))
    ]
    return dns + ips


def _missing_sans(cert: x509.Certificate, spec: CertSpec) -> list[str]:
    try:
        have = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        have = x509.SubjectAlternativeName([])
    dns = set(have.get_values_for_type(x509.DNSName))
    ips = set(have.get_values_for_type(x509.IPAddress))
    return sorted(spec.dns_names - dns) + sorted(str(ip) for ip in spec.ips - ips)


def _usages(cert: x509.Certificate) -> set[Usage]:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return set()
    return {usage for usage, oid in _EKU.items() if oid in eku}


def _common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def _organizations(cert: x509.Certificate) -> tuple[str, ...]:
    return tuple(
        str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    )


# ---- files -----------------------------------------------------------------------------


def write_file(path: Path, data: bytes, mode: int) -> None:
    """Write `path` whole with exactly `mode`: into a temporary file created
    with that mode beside it, then renamed over it (readers see the old file
    or the new one, never a part or wider permissions)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_pair(paths: PairPaths, pair: Issued) -> None:
    """Write the key (0600), then the certificate (0644)."""
    paths.key.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    write_file(paths.key, pair.key_pem(), KEY_MODE)
    write_file(paths.cert, pair.cert_pem(), CERT_MODE)


def read_pair(paths: PairPaths) -> Issued | None:
    """The pair in `paths`; None if a file is missing or does not parse."""
    try:
        cert = x509.load_pem_x509_certificate(paths.cert.read_bytes())
        key = serialization.load_pem_private_key(paths.key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return None  # a key kind we never write
    return Issued(cert=cert, key=key)


def ensure_ca(pki_dir: Path, name: str = "ca", *, now: datetime | None = None) -> Issued:
    """The CA in `pki_dir`, made (and written) if missing or unfit."""
    paths = PairPaths.of(pki_dir, name)
    pair = read_pair(paths)
    if pair is not None and unfit(pair, ca=None, spec=None, now=now) is None:
        return pair
    pair = new_ca(now=now)
    write_pair(paths, pair)
    return pair


def ensure_leaf(
    pki_dir: Path, name: str, ca: Issued, spec: CertSpec, *, now: datetime | None = None
) -> Issued:
    """The pair `name` in `pki_dir`, issued by `ca` (and written) if missing
    or unfit for `spec`."""
    paths = PairPaths.of(pki_dir, name)
    pair = read_pair(paths)
    if pair is not None and unfit(pair, ca=ca, spec=spec, now=now) is None:
        return pair
    pair = issue(ca, spec, now=now)
    write_pair(paths, pair)
    return pair


def ensure_cluster_pki(
    pki_dir: Path,
    *,
    extra_dns: Iterable[str] = (),
    extra_ips: Iterable[str | IPAddress] = (),
    now: datetime | None = None,
    nodes: Iterable[str] = (),
    etcd_ips: Iterable[str | IPAddress] = (),
) -> ClusterPKI:
    """A cluster's CA, apiserver serving pair, etcd's server and peer pairs
    and the apiserver's etcd client pair, and client pairs in `pki_dir`
    (``ca``, ``apiserver``, ``etcd-server``, ``etcd-peer``,
    ``apiserver-etcd-client``, one per COMPONENT_IDENTITIES entry, and
    ``kubelet-<node>`` for each of `nodes`), each kept if still fit. etcd's
    pairs name the apiservers' addresses and `etcd_ips` (members elsewhere)."""
    pki_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    ca = ensure_ca(pki_dir, now=now)
    spec = serving_spec(extra_dns=extra_dns, extra_ips=extra_ips)
    ensure_leaf(pki_dir, "apiserver", ca, spec, now=now)
    for name, usages in (
        ("etcd-server", {Usage.SERVER}),
        ("etcd-peer", {Usage.SERVER, Usage.CLIENT}),
    ):
        etcd = CertSpec(
            common_name=name,
            usages=frozenset(usages),
            dns_names=frozenset({"localhost"}) | frozenset(extra_dns),
            ips=frozenset(APISERVER_IPS)
            | frozenset(ipaddress.ip_address(ip) for ip in (*extra_ips, *etcd_ips)),
        )
        ensure_leaf(pki_dir, name, ca, etcd, now=now)
    ensure_leaf(pki_dir, "apiserver-etcd-client", ca, client_spec(ETCD_CLIENT_USER), now=now)
    for name, (user, groups) in COMPONENT_IDENTITIES.items():
        ensure_leaf(pki_dir, name, ca, client_spec(user, groups), now=now)
    ensure_leaf(
        pki_dir, "apiserver-kubelet-client", ca, client_spec(KUBELET_CLIENT_USER, [ADMIN_GROUP]),
        now=now,
    )  # fmt: skip
    for node in nodes:
        ensure_node_pairs(pki_dir, ca, node, now=now)
    return ClusterPKI(pki_dir)


def ensure_node_pairs(pki_dir: Path, ca: Issued, node: str, *, now: datetime | None = None) -> None:
    """Node ``node``'s kubelet pairs: its client identity (system:node:<node>
    in system:nodes) and its endpoint's serving pair (loopback and the node
    name; clients check the chain, not the address)."""
    ensure_leaf(
        pki_dir, f"kubelet-{node}", ca, client_spec(node_user(node), [NODES_GROUP]), now=now
    )
    serving = CertSpec(
        common_name=f"{node}-kubelet",
        usages=frozenset({Usage.SERVER}),
        dns_names=frozenset({"localhost", node}),
        ips=frozenset(APISERVER_IPS),
    )
    ensure_leaf(pki_dir, f"kubelet-{node}-serving", ca, serving, now=now)
