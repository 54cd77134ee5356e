"""The kubelet's claim resolution (kubelet/volumes.py resolve_claims) against
a fake async client, and the local volume cleanup decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelet.volumes import VolumeError, cleanup_local_volumes, resolve_claims
from pinnace.api.core.v1 import pod_pb2, volume_pb2
from pinnace.client.fake import FakeClient
from pinnace.machinery import codec


def pvc(name: str, volume: str = "", uid: str = "") -> Any:
    return codec.from_dict(
        volume_pb2.PersistentVolumeClaim,
        {
            "metadata": {"name": name, "namespace": "ns", "uid": uid or f"uid-{name}"},
            "spec": {"volumeName": volume} if volume else {},
        },
    )


def pv(name: str, *, claim_uid: str = "", source: dict | None = None, **affinity: Any) -> Any:
    spec: dict[str, Any] = source if source is not None else {"local": {"path": f"/lv/{name}"}}
    if claim_uid:
        spec["claimRef"] = {"namespace": "ns", "name": "x", "uid": claim_uid}
    if affinity:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [affinity]}}
    return codec.from_dict(volume_pb2.PersistentVolume, {"metadata": {"name": name}, "spec": spec})


def hostname_in(*nodes: str) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": list(nodes)}
        ]
    }


CLAIMS = [
    pvc("local", "pv-local"),
    pvc("host", "pv-host"),
    pvc("pinned", "pv-n1"),
    pvc("zoned", "pv-zone"),
    pvc("unbound"),
    pvc("dangling", "pv-gone"),
    pvc("stolen", "pv-other"),
    pvc("nfs", "pv-nfs"),
]
VOLUMES = [
    pv("pv-local", claim_uid="uid-local"),
    pv("pv-host", source={"hostPath": {"path": "/srv/h"}}),
    pv("pv-n1", matchExpressions=hostname_in("n1")["matchExpressions"]),
    pv(
        "pv-zone",
        matchExpressions=[{"key": "zone", "operator": "NotIn", "values": ["b"]}],
    ),
    pv("pv-other", claim_uid="uid-someone-else"),
    pv("pv-nfs", source={"nfs": {"server": "s", "path": "/x"}}),
]


def pod(*claims: str) -> Any:
    volumes: list[dict[str, Any]] = [
        {"name": f"vol-{c}", "persistentVolumeClaim": {"claimName": c}} for c in claims
    ]
    volumes.append({"name": "scratch", "emptyDir": {}})
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"containers": [{"name": "c", "image": "x"}], "volumes": volumes},
        },
    )


@pytest.mark.parametrize(
    ("claims", "node", "labels", "want"),
    [
        pytest.param((), "n1", {}, {}, id="no-claims"),
        pytest.param(
            ("local", "host"),
            "n1",
            {},
            {"vol-local": Path("/lv/pv-local"), "vol-host": Path("/srv/h")},
            id="local-and-hostpath",
        ),
        pytest.param(
            ("pinned",), "n1", {}, {"vol-pinned": Path("/lv/pv-n1")}, id="hostname-defaults-to-node"
        ),
        pytest.param(
            ("zoned",), "n2", {"zone": "a"}, {"vol-zoned": Path("/lv/pv-zone")}, id="label-affinity"
        ),
    ],
)
async def test_resolve_claims(
    claims: tuple[str, ...], node: str, labels: dict[str, str], want: dict[str, Path]
) -> None:
    client = FakeClient(*CLAIMS, *VOLUMES)
    assert await resolve_claims(client, pod(*claims), node_name=node, node_labels=labels) == want


@pytest.mark.parametrize(
    ("claim", "node", "labels", "error"),
    [
        pytest.param(
            "missing", "n1", {}, 'persistentvolumeclaim "missing" not found', id="no-claim"
        ),
        pytest.param("unbound", "n1", {}, '"unbound" is not bound yet', id="unbound"),
        pytest.param(
            "dangling",
            "n1",
            {},
            'persistentvolume "pv-gone" of claim "dangling" not found',
            id="no-pv",
        ),
        pytest.param("stolen", "n1", {}, '"pv-other" is bound to another claim', id="other-claim"),
        pytest.param(
            "pinned",
            "n2",
            {},
            'persistentvolume "pv-n1" has a node affinity conflict with node "n2"',
            id="other-node",
        ),
        pytest.param(
            "pinned",
            "n1",
            {"kubernetes.io/hostname": "renamed"},
            "node affinity conflict",
            id="hostname-label-wins",
        ),
        pytest.param("zoned", "n1", {"zone": "b"}, "node affinity conflict", id="label-excluded"),
        pytest.param("nfs", "n1", {}, "only local and hostPath volumes", id="unsupported-source"),
    ],
)
async def test_resolve_claims_errors(
    claim: str, node: str, labels: dict[str, str], error: str
) -> None:
    client = FakeClient(*CLAIMS, *VOLUMES)
    with pytest.raises(VolumeError, match=error):
        await resolve_claims(client, pod(claim), node_name=node, node_labels=labels)


def test_cleanup_removes_only_directories_whose_volume_is_gone(tmp_path: Path) -> None:
    for name in ("pvc-a", "pvc-b", "pvc-c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "data").write_text(name)
    removed = cleanup_local_volumes(tmp_path, ["pvc-a", "pvc-b"], {"pvc-a", "pvc-c"})
    assert removed == ["pvc-b"]
    # pvc-c was not a candidate (made after the listing): kept, as pvc-a is.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pvc-a", "pvc-c"]
