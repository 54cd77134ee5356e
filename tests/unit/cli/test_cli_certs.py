"""pinnace certs: a multi-machine cluster's PKI and one kubeconfig per identity."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509

from apiserver.auth.authn import certificate_user
from apiserver.auth.user import UserInfo
from pinnace.cli.main import main
from pinnace.machinery.kubeconfig import load_kubeconfig


def test_certs_writes_every_identity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pki_dir = tmp_path / "pki"
    with pytest.raises(SystemExit) as done:
        main([
            "certs", "--dir", str(pki_dir), "--server", "10.0.0.1:6443,10.0.0.2:6443",
            "--rest-server", "https://10.0.0.1:6444", "--apiserver-ip", "10.0.0.1",
            "--apiserver-dns", "api.example", "--node", "worker-1", "--node", "worker-2",
        ])  # fmt: skip
    assert done.value.code in (0, None)
    expected = {
        "admin": UserInfo("kubernetes-admin", ("system:masters",)),
        "controller-manager": UserInfo("system:kube-controller-manager"),
        "scheduler": UserInfo("system:kube-scheduler"),
        "proxy": UserInfo("system:kube-proxy"),
        "kubelet-worker-1": UserInfo("system:node:worker-1", ("system:nodes",)),
        "kubelet-worker-2": UserInfo("system:node:worker-2", ("system:nodes",)),
    }
    for name, user in expected.items():
        path = pki_dir / "kubeconfigs" / f"{name}.kubeconfig"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        assert stat.S_IMODE((pki_dir / f"{name}.key").stat().st_mode) == 0o600, name
        ctx = load_kubeconfig(path)
        assert (ctx.server, ctx.grpc_server) == (
            "https://10.0.0.1:6444",
            "10.0.0.1:6443,10.0.0.2:6443",
        )
        assert ctx.cert_pem is not None and certificate_user(ctx.cert_pem) == user
        assert ctx.ca_pem == (pki_dir / "ca.crt").read_bytes()
    serving = x509.load_pem_x509_certificate((pki_dir / "apiserver.crt").read_bytes())
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("10.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert "api.example" in sans.get_values_for_type(x509.DNSName)
    assert "kubelet-worker-2:" in capsys.readouterr().out


def test_certs_name_etcd_members_on_other_machines(tmp_path: Path) -> None:
    """etcd's serving and peer pairs name every --etcd-ip (a member on a
    machine without an apiserver), else its peers and the apiservers would
    refuse it; the apiservers' own pair does not."""
    pki_dir = tmp_path / "pki"
    with pytest.raises(SystemExit) as done:
        main([
            "certs", "--dir", str(pki_dir), "--server", "10.0.0.1:6443",
            "--rest-server", "https://10.0.0.1:6444", "--apiserver-ip", "10.0.0.1",
            "--etcd-ip", "10.0.0.3",
        ])  # fmt: skip
    assert done.value.code in (0, None)

    def ips(name: str) -> list[object]:
        cert = x509.load_pem_x509_certificate((pki_dir / f"{name}.crt").read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return sans.get_values_for_type(x509.IPAddress)

    member = ipaddress.ip_address("10.0.0.3")
    assert member in ips("etcd-server") and member in ips("etcd-peer")
    assert ipaddress.ip_address("10.0.0.1") in ips("etcd-server")
    assert member not in ips("apiserver")


@pytest.mark.parametrize("flag", ["--apiserver-ip", "--etcd-ip"])
def test_a_bad_address_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    pki_dir = tmp_path / "pki"
    with pytest.raises(SystemExit) as done:
        main([
            "certs", "--dir", str(pki_dir), "--server", "10.0.0.1:6443",
            "--rest-server", "https://10.0.0.1:6444", flag, "10.0.0.x",
        ])  # fmt: skip
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and "'10.0.0.x' is not an IPv4 or IPv6 address" in err
    assert not pki_dir.exists()
