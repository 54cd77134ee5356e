"""`pinnace expose` and `pinnace describe svc` against a real apiserver (no
controllers: the EndpointSlice is written by the test, as the EndpointSlice
controller would)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli.clirun import pinnace_cli
from tests.integration.conftest import RunningApiServer

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {team: a}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: c, image: busybox, command: [sleep, "300"], ports: [{containerPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: fancy
spec:
  selector:
    matchLabels: {app: fancy}
    matchExpressions: [{key: tier, operator: In, values: [front]}]
  template:
    metadata:
      labels: {app: fancy, tier: front}
    spec:
      containers:
      - {name: c, image: busybox, command: [sleep, "300"]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: front-x1
  labels: {kubernetes.io/service-name: front}
addressType: IPv4
ports:
- {name: "", port: 8080, protocol: TCP}
endpoints:
- addresses: [10.244.1.5]
  conditions: {ready: true}
- addresses: [10.244.1.6]
  conditions: {ready: false}
"""


def _field(text: str, name: str) -> str:
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line[len(name) + 1 :].strip()
    raise AssertionError(f"no {name} in:\n{text}")


def test_expose_and_describe(apiserver: RunningApiServer, namespace: str, tmp_path: Path) -> None:
    path = tmp_path / "objs.yaml"
    path.write_text(MANIFEST)
    pinnace_cli(apiserver, "apply", "-f", str(path), "-n", namespace)

    out = pinnace_cli(
        apiserver,
        *("expose", "deploy/web", "--port", "80", "--target-port", "8080", "--name", "front"),
        *("-n", namespace),
    ).stdout
    assert out.strip() == "service/front exposed"

    text = pinnace_cli(apiserver, "describe", "svc", "front", "-n", namespace).stdout
    assert _field(text, "Name") == "front"
    assert _field(text, "Namespace") == namespace
    assert _field(text, "Labels") == "team=a"
    assert _field(text, "Selector") == "app=web"
    assert _field(text, "Type") == "ClusterIP"
    ip = _field(text, "IP")
    assert ip.startswith("10.") and _field(text, "IPs") == ip
    assert _field(text, "Port").split() == ["<unset>", "80/TCP"]
    assert _field(text, "TargetPort") == "8080/TCP"
    assert _field(text, "Endpoints") == "10.244.1.5:8080"
    assert _field(text, "Session Affinity") == "None"
    assert _field(text, "Events") == "<none>"
    # Fields line up as kubectl's tabwriter lines them up.
    lines = text.splitlines()
    assert lines[0] == "Name:" + " " * 21 + "front"
    assert lines[3] == "Annotations:" + " " * 14 + "<none>"

    np = pinnace_cli(
        apiserver,
        *("expose", "deploy/web", "--port", "81", "--type", "NodePort", "-n", namespace),
    ).stdout
    assert np.strip() == "service/web exposed"
    text = pinnace_cli(apiserver, "describe", "svc/web", "-n", namespace).stdout
    assert _field(text, "Type") == "NodePort"
    node_port = _field(text, "NodePort").split()
    assert node_port[0] == "<unset>" and 30000 <= int(node_port[1].split("/")[0]) <= 32767
    assert _field(text, "Endpoints") == "<none>"

    bad = pinnace_cli(
        apiserver, "expose", "deploy/fancy", "--port", "80", "-n", namespace, check=False
    )
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "error: couldn't retrieve selectors via --selector flag or introspection: "
        'couldn\'t convert expressions - "[{Key:tier Operator:In Values:[front]}]" '
        "to map-based selector format"
    )
