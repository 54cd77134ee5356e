"""Every filter plugin, table-driven: (pod, node) -> Status with Kubernetes'
reason strings."""

from __future__ import annotations

import pytest

from scheduler.framework import Code, Status
from scheduler.plugins.node_affinity import NodeAffinity
from scheduler.plugins.node_name import NodeName
from scheduler.plugins.node_ports import NodePorts
from scheduler.plugins.node_resources_fit import NodeResourcesFit
from scheduler.plugins.node_unschedulable import NodeUnschedulable
from scheduler.plugins.taint_toleration import TaintToleration
from tests.unit.scheduler.builders import info, node, node_info, pod

OK = Status()
AFFINITY = "node(s) didn't match Pod's node affinity/selector"


def unresolvable(*reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, reasons)


def unschedulable(*reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE, reasons)


# ---- NodeUnschedulable -------------------------------------------------------------

UNSCHEDULABLE_TOLERATION = {
    "key": "node.kubernetes.io/unschedulable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


@pytest.mark.parametrize(
    ("spec", "cordoned", "want"),
    [
        pytest.param({}, False, OK, id="schedulable"),
        pytest.param({}, True, unresolvable("node(s) were unschedulable"), id="cordoned"),
        pytest.param(
            {"tolerations": [UNSCHEDULABLE_TOLERATION]}, True, OK, id="cordoned-but-tolerated"
        ),
        pytest.param({"tolerations": [{"operator": "Exists"}]}, True, OK, id="tolerate-everything"),
    ],
)
def test_node_unschedulable(spec, cordoned, want):
    got = NodeUnschedulable().filter(info(pod(spec=spec)), node_info(unschedulable=cordoned))
    assert got == want


# ---- NodeName ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node_name", "want"),
    [
        pytest.param("", OK, id="unset"),
        pytest.param("n1", OK, id="this-node"),
        pytest.param(
            "n2", unresolvable("node(s) didn't match the requested node name"), id="other-node"
        ),
    ],
)
def test_node_name(node_name, want):
    assert NodeName().filter(info(pod(spec={"nodeName": node_name})), node_info()) == want


# ---- TaintToleration ---------------------------------------------------------------


def taint(key: str, value: str = "", effect: str = "NoSchedule") -> dict[str, str]:
    return {"key": key, "value": value, "effect": effect}


@pytest.mark.parametrize(
    ("taints", "tolerations", "ready", "want"),
    [
        pytest.param([], [], "True", OK, id="no-taints"),
        pytest.param(
            [taint("dedicated", "gpu")],
            [],
            "True",
            unresolvable("node(s) had untolerated taint {dedicated: gpu}"),
            id="noschedule-untolerated",
        ),
        pytest.param(
            [taint("dedicated", "gpu", "NoExecute")],
            [],
            "True",
            unresolvable("node(s) had untolerated taint {dedicated: gpu}"),
            id="noexecute-untolerated",
        ),
        pytest.param(
            [taint("dedicated", "gpu", "PreferNoSchedule")], [], "True", OK, id="prefer-only-scored"
        ),
        pytest.param(
            [taint("dedicated", "gpu")],
            [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
            "True",
            OK,
            id="equal-toleration",
        ),
        pytest.param(
            [taint("dedicated", "gpu")],
            [{"key": "dedicated", "value": "gpu"}],
            "True",
            OK,
            id="default-operator-is-equal-any-effect",
        ),
        pytest.param(
            [taint("dedicated", "gpu")],
            [{"key": "dedicated", "operator": "Equal", "value": "cpu"}],
            "True",
            unresolvable("node(s) had untolerated taint {dedicated: gpu}"),
            id="equal-wrong-value",
        ),
        pytest.param(
            [taint("dedicated", "gpu")],
            [{"key": "dedicated", "operator": "Exists"}],
            "True",
            OK,
            id="exists-any-value",
        ),
        pytest.param(
            [taint("dedicated", "gpu")],
            [{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}],
            "True",
            unresolvable("node(s) had untolerated taint {dedicated: gpu}"),
            id="wrong-effect",
        ),
        pytest.param(
            [taint("a"), taint("b", "x")],
            [{"operator": "Exists"}],
            "True",
            OK,
            id="empty-key-exists-tolerates-all",
        ),
        pytest.param(
            [taint("a"), taint("b", "x")],
            [{"key": "a", "operator": "Exists"}],
            "True",
            unresolvable("node(s) had untolerated taint {b: x}"),
            id="first-untolerated-reported",
        ),
        pytest.param(
            [],
            [],
            "False",
            unresolvable("node(s) had untolerated taint {node.kubernetes.io/not-ready: }"),
            id="not-ready-node",
        ),
        pytest.param(
            [],
            [],
            "Unknown",
            unresolvable("node(s) had untolerated taint {node.kubernetes.io/unreachable: }"),
            id="unknown-ready-node",
        ),
        pytest.param(
            [],
            [{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}],
            "False",
            OK,
            id="not-ready-tolerated",
        ),
    ],
)
def test_taint_toleration_filter(taints, tolerations, ready, want):
    p = pod(spec={"tolerations": tolerations})
    got = TaintToleration().filter(info(p), node_info(taints=taints, ready=ready))
    assert got == want


def test_node_without_ready_condition_counts_as_unreachable():
    got = TaintToleration().filter(info(pod()), node_info(ready=None))
    assert got == unresolvable("node(s) had untolerated taint {node.kubernetes.io/unreachable: }")


# ---- NodeAffinity ------------------------------------------------------------------


def required(*terms: dict) -> dict:
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
            }
        }
    }


def expr(key: str, op: str, *values: str) -> dict:
    return {"key": key, "operator": op, "values": list(values)}


LABELS = {"zone": "a", "disk": "ssd", "cores": "8"}


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        pytest.param({}, OK, id="no-constraints"),
        pytest.param({"nodeSelector": {"zone": "a"}}, OK, id="selector-match"),
        pytest.param({"nodeSelector": {"zone": "a", "disk": "ssd"}}, OK, id="selector-all-match"),
        pytest.param(
            {"nodeSelector": {"zone": "a", "disk": "hdd"}},
            unresolvable(AFFINITY),
            id="selector-one-mismatch",
        ),
        pytest.param(
            {"nodeSelector": {"gpu": "yes"}}, unresolvable(AFFINITY), id="selector-missing"
        ),
        pytest.param(required({"matchExpressions": [expr("zone", "In", "a", "b")]}), OK, id="in"),
        pytest.param(
            required({"matchExpressions": [expr("zone", "In", "b")]}),
            unresolvable(AFFINITY),
            id="in-no",
        ),
        pytest.param(required({"matchExpressions": [expr("zone", "NotIn", "b")]}), OK, id="notin"),
        pytest.param(
            required({"matchExpressions": [expr("gpu", "NotIn", "x")]}), OK, id="notin-absent"
        ),
        pytest.param(
            required({"matchExpressions": [expr("zone", "NotIn", "a")]}),
            unresolvable(AFFINITY),
            id="notin-no",
        ),
        pytest.param(required({"matchExpressions": [expr("disk", "Exists")]}), OK, id="exists"),
        pytest.param(
            required({"matchExpressions": [expr("gpu", "Exists")]}),
            unresolvable(AFFINITY),
            id="exists-no",
        ),
        pytest.param(
            required({"matchExpressions": [expr("gpu", "DoesNotExist")]}), OK, id="doesnotexist"
        ),
        pytest.param(
            required({"matchExpressions": [expr("disk", "DoesNotExist")]}),
            unresolvable(AFFINITY),
            id="doesnotexist-no",
        ),
        pytest.param(required({"matchExpressions": [expr("cores", "Gt", "4")]}), OK, id="gt"),
        pytest.param(
            required({"matchExpressions": [expr("cores", "Gt", "8")]}),
            unresolvable(AFFINITY),
            id="gt-equal-no",
        ),
        pytest.param(required({"matchExpressions": [expr("cores", "Lt", "16")]}), OK, id="lt"),
        pytest.param(
            required({"matchExpressions": [expr("zone", "Lt", "16")]}),
            unresolvable(AFFINITY),
            id="lt-not-integer",
        ),
        pytest.param(
            required({"matchExpressions": [expr("zone", "In", "a"), expr("disk", "In", "hdd")]}),
            unresolvable(AFFINITY),
            id="expressions-anded",
        ),
        pytest.param(
            required(
                {"matchExpressions": [expr("zone", "In", "b")]},
                {"matchExpressions": [expr("disk", "In", "ssd")]},
            ),
            OK,
            id="terms-ored",
        ),
        pytest.param(required({}), unresolvable(AFFINITY), id="empty-term-matches-nothing"),
        pytest.param(
            required({"matchFields": [expr("metadata.name", "In", "n1")]}), OK, id="fields-name-in"
        ),
        pytest.param(
            required({"matchFields": [expr("metadata.name", "In", "n2")]}),
            unresolvable(AFFINITY),
            id="fields-name-other",
        ),
        pytest.param(
            required({"matchFields": [expr("metadata.name", "NotIn", "n2")]}),
            OK,
            id="fields-name-notin",
        ),
        pytest.param(
            {
                "nodeSelector": {"zone": "b"},
                **required({"matchExpressions": [expr("zone", "In", "a")]}),
            },
            unresolvable(AFFINITY),
            id="selector-and-affinity-both-needed",
        ),
    ],
)
def test_node_affinity_filter(spec, want):
    assert NodeAffinity().filter(info(pod(spec=spec)), node_info(labels=LABELS)) == want


# ---- NodePorts ---------------------------------------------------------------------


def port(host_port: int, protocol: str = "", host_ip: str = "") -> dict:
    out = {"containerPort": host_port, "hostPort": host_port}
    if protocol:
        out["protocol"] = protocol
    if host_ip:
        out["hostIP"] = host_ip
    return out


PORTS_REASON = "node(s) didn't have free ports for the requested pod ports"


@pytest.mark.parametrize(
    ("used", "wanted", "want"),
    [
        pytest.param([], [port(80)], OK, id="free"),
        pytest.param([port(80)], [port(80)], unschedulable(PORTS_REASON), id="same-port"),
        pytest.param([port(80)], [port(81)], OK, id="other-port"),
        pytest.param([port(80)], [port(80, "UDP")], OK, id="other-protocol"),
        pytest.param(
            [port(80, host_ip="10.0.0.1")], [port(80, host_ip="10.0.0.2")], OK, id="other-ip"
        ),
        pytest.param(
            [port(80, host_ip="10.0.0.1")],
            [port(80)],
            unschedulable(PORTS_REASON),
            id="wildcard-vs-specific",
        ),
        pytest.param(
            [port(80)],
            [port(80, host_ip="10.0.0.1")],
            unschedulable(PORTS_REASON),
            id="specific-vs-wildcard",
        ),
        pytest.param(
            [{"containerPort": 80}], [{"containerPort": 80}], OK, id="container-ports-only"
        ),
    ],
)
def test_node_ports(used, wanted, want):
    existing = pod("old", ports=used)
    ni = node_info(node(), existing)
    assert NodePorts().filter(info(pod("new", ports=wanted)), ni) == want


def test_node_ports_freed_when_pod_removed():
    ni = node_info(node(), pod("old", ports=[port(80)]))
    ni.remove_pod("default/old")
    assert NodePorts().filter(info(pod("new", ports=[port(80)])), ni) == OK


# ---- NodeResourcesFit --------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "new", "alloc", "want"),
    [
        pytest.param([], {"cpu": "1"}, {}, OK, id="fits-empty-node"),
        pytest.param([{"cpu": "3"}], {"cpu": "1"}, {}, OK, id="fits-exactly"),
        pytest.param(
            [{"cpu": "3"}],
            {"cpu": "1001m"},
            {},
            unschedulable("Insufficient cpu"),
            id="cpu-over-by-1m",
        ),
        pytest.param(
            [{"memory": "7Gi"}],
            {"memory": "2Gi"},
            {},
            unschedulable("Insufficient memory"),
            id="memory",
        ),
        pytest.param(
            [{"cpu": "4", "memory": "8Gi"}],
            {"cpu": "1", "memory": "1Gi"},
            {},
            unschedulable("Insufficient cpu", "Insufficient memory"),
            id="both-reasons",
        ),
        pytest.param(
            [{"cpu": "4", "memory": "8Gi"}], {}, {}, OK, id="no-requests-always-fit-resources"
        ),
        pytest.param(
            [{}, {}],
            {},
            {"pods": "2"},
            unschedulable("Too many pods"),
            id="pod-count-counts-request-less-pods",
        ),
        pytest.param(
            [{}],
            {"cpu": "5"},
            {"pods": "1"},
            unschedulable("Too many pods", "Insufficient cpu"),
            id="too-many-pods-first",
        ),
    ],
)
def test_node_resources_fit(existing, new, alloc, want):
    pods_on_node = [pod(f"e{i}", **r) for i, r in enumerate(existing)]
    ni = node_info(node(**alloc), *pods_on_node)
    assert NodeResourcesFit().filter(info(pod("new", **new)), ni) == want


def test_extended_resource_insufficient():
    p = pod(
        "gpu",
        spec={"containers": [{"name": "c", "resources": {"limits": {"example.com/gpu": "1"}}}]},
    )
    got = NodeResourcesFit().filter(info(p), node_info())
    assert got == unschedulable("Insufficient example.com/gpu")
