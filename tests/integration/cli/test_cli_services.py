"""`pinnace apply` and `get svc` / `get endpointslices` against a real apiserver.

The node port asked for (30042) is in the range's static band, which
automatic allocation uses only once the rest is full, so other tests on the
shared etcd never hold it."""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli.clirun import pinnace_cli
from tests.integration.conftest import RunningApiServer

MANIFEST = """
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080, nodePort: 30042}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports:
- {name: http, port: 8080, protocol: TCP}
endpoints:
- addresses: [10.244.1.5]
  conditions: {ready: true}
"""


def test_apply_and_get_services_and_slices(
    apiserver: RunningApiServer, namespace: str, tmp_path: Path
) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text(MANIFEST)
    out = pinnace_cli(apiserver, "apply", "-f", str(path), "-n", namespace).stdout
    assert out.splitlines() == [
        "service/web created",
        "endpointslice.discovery.k8s.io/web-abc12 created",
    ]
    again = pinnace_cli(apiserver, "apply", "-f", str(path), "-n", namespace).stdout
    assert again.splitlines() == [
        "service/web unchanged",
        "endpointslice.discovery.k8s.io/web-abc12 unchanged",
    ]
    header, line = pinnace_cli(apiserver, "get", "svc", "-n", namespace).stdout.splitlines()
    assert header.split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    name, kind, ip, external, ports = line.split()[:5]
    assert (name, kind, external, ports) == ("web", "NodePort", "<none>", "80:30042/TCP")
    assert ip.startswith("10.")
    header, line = pinnace_cli(
        apiserver, "get", "endpointslices", "-n", namespace
    ).stdout.splitlines()
    assert header.split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert line.split()[:4] == ["web-abc12", "IPv4", "8080", "10.244.1.5"]
    pinnace_cli(apiserver, "delete", "svc", "web", "-n", namespace)
