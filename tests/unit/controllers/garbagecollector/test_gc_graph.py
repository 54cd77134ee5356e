"""The garbage collector's ownership graph: table-driven over sequences of
observed changes, checking the graph's shape and the work it asks for."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from controllers.garbagecollector.graph import (
    FOREGROUND,
    ORPHAN,
    Graph,
    Identity,
    ObjectState,
    Owner,
    Work,
    invalid_namespace,
    owner_namespace,
)

NS = "ns"


def pod(uid: str, *owners: Owner, ns: str = NS, deleting: bool = False, fin=()) -> ObjectState:
    return ObjectState(
        identity=Identity("v1", "Pod", ns, f"pod-{uid}", uid),
        owners=tuple(owners),
        being_deleted=deleting,
        finalizers=frozenset(fin),
    )


def rs(uid: str, *owners: Owner, ns: str = NS, deleting: bool = False, fin=()) -> ObjectState:
    return ObjectState(
        identity=Identity("apps/v1", "ReplicaSet", ns, f"rs-{uid}", uid),
        owners=tuple(owners),
        being_deleted=deleting,
        finalizers=frozenset(fin),
    )


def node_obj(uid: str, *owners: Owner) -> ObjectState:
    return ObjectState(identity=Identity("v1", "Node", "", f"node-{uid}", uid), owners=owners)


def ref_rs(uid: str, block: bool = True) -> Owner:
    return Owner("apps/v1", "ReplicaSet", f"rs-{uid}", uid, block_owner_deletion=block)


def ref_pod(uid: str, block: bool = True) -> Owner:
    return Owner("v1", "Pod", f"pod-{uid}", uid, block_owner_deletion=block)


def ref_node(uid: str) -> Owner:
    return Owner("v1", "Node", f"node-{uid}", uid)


@dataclass
class Case:
    steps: list  # ("observe", ObjectState) | ("forget", uid) | ("absent", uid)
    delete: set[str] = field(default_factory=set)  # work asked by the last step
    orphan: set[str] = field(default_factory=set)
    virtual: set[str] = field(default_factory=set)  # virtual nodes at the end
    absent: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)  # uids with no node at the end


def run(steps: list) -> tuple[Graph, Work]:
    g = Graph()
    work = Work()
    for op, arg in steps:
        if op == "observe":
            work = g.observe(arg)
        elif op == "forget":
            work = g.forget(arg)
        elif op == "absent":
            work = g.confirm_absent(arg)
        check_invariants(g)
    return g, work


def check_invariants(g: Graph) -> None:
    for uid, node in g.nodes.items():
        assert node.uid == uid
        for owner in node.owners:
            assert owner.uid in g.nodes, f"owner {owner.uid} of {uid} has no node"
            assert uid in g.nodes[owner.uid].dependents
        for dep in node.dependents:
            assert dep in g.nodes, f"dependent {dep} of {uid} has no node"
            assert uid in {o.uid for o in g.nodes[dep].owners}
        if node.virtual:
            assert not node.owners
        if node.absent:
            assert node.virtual
            assert node.dependents, "an absent node nobody names is dropped"


CASES = {
    "owner first then dependent: nothing to do": Case(
        steps=[("observe", rs("r")), ("observe", pod("p", ref_rs("r")))],
    ),
    "dependent first: virtual owner, verify it": Case(
        steps=[("observe", pod("p", ref_rs("r")))],
        delete={"r"},
        virtual={"r"},
    ),
    "virtual owner observed becomes real": Case(
        steps=[("observe", pod("p", ref_rs("r"))), ("observe", rs("r"))],
    ),
    "owner deleted (background): its dependents are looked at": Case(
        steps=[
            ("observe", rs("r")),
            ("observe", pod("a", ref_rs("r"))),
            ("observe", pod("b", ref_rs("r"))),
            ("forget", "r"),
        ],
        delete={"a", "b"},
        virtual={"r"},
        absent={"r"},
    ),
    "owner without dependents deleted: node dropped": Case(
        steps=[("observe", rs("r")), ("forget", "r")],
        missing={"r"},
    ),
    "last dependent of an absent owner goes: absent node dropped": Case(
        steps=[
            ("observe", rs("r")),
            ("observe", pod("a", ref_rs("r"))),
            ("forget", "r"),
            ("forget", "a"),
        ],
        missing={"r", "a"},
    ),
    "dangling owner verified absent: dependent looked at": Case(
        steps=[("observe", pod("p", ref_rs("never"))), ("absent", "never")],
        delete={"p"},
        virtual={"never"},
        absent={"never"},
    ),
    "confirm_absent of a real node does nothing": Case(
        steps=[("observe", rs("r")), ("observe", pod("p", ref_rs("r"))), ("absent", "r")],
    ),
    "dependent seen after its owner's deletion is looked at": Case(
        steps=[
            ("observe", rs("r")),
            ("observe", pod("a", ref_rs("r"))),
            ("forget", "r"),
            ("observe", pod("b", ref_rs("r"))),
        ],
        delete={"b"},
        virtual={"r"},
        absent={"r"},
    ),
    "foreground owner: it and its dependents are looked at": Case(
        steps=[
            ("observe", rs("r")),
            ("observe", pod("a", ref_rs("r"))),
            ("observe", pod("b", ref_rs("r", block=False))),
            ("observe", rs("r", deleting=True, fin=[FOREGROUND])),
        ],
        delete={"r", "a", "b"},
    ),
    "orphan owner: goes to the orphan queue": Case(
        steps=[
            ("observe", rs("r")),
            ("observe", pod("a", ref_rs("r"))),
            ("observe", rs("r", deleting=True, fin=[ORPHAN])),
        ],
        orphan={"r"},
    ),
    "blocking dependent of a foreground owner goes: owner woken": Case(
        steps=[
            ("observe", rs("r", deleting=True, fin=[FOREGROUND])),
            ("observe", pod("a", ref_rs("r"))),
            ("forget", "a"),
        ],
        delete={"r"},
    ),
    "dependent stops blocking a foreground owner: owner woken": Case(
        steps=[
            ("observe", rs("r", deleting=True, fin=[FOREGROUND])),
            ("observe", pod("a", ref_rs("r"))),
            ("observe", pod("a", ref_rs("r", block=False))),
        ],
        delete={"r", "a"},  # r may go now; a still has to
    ),
    "new dependent of a foreground owner is looked at": Case(
        steps=[
            ("observe", rs("r", deleting=True, fin=[FOREGROUND])),
            ("observe", pod("a", ref_rs("r"))),
        ],
        delete={"a"},
    ),
    "reference removed from a dependent: unlinked": Case(
        steps=[
            ("observe", rs("r1")),
            ("observe", rs("r2")),
            ("observe", pod("a", ref_rs("r1"), ref_rs("r2"))),
            ("observe", pod("a", ref_rs("r2"))),
        ],
    ),
    "reference to an unverified owner removed: virtual node dropped": Case(
        steps=[("observe", pod("a", ref_rs("x"))), ("observe", pod("a"))],
        missing={"x"},
    ),
    "cycle of three: deleting one looks at the next only": Case(
        steps=[
            ("observe", pod("a", ref_pod("c"))),
            ("observe", pod("b", ref_pod("a"))),
            ("observe", pod("c", ref_pod("b"))),
            ("forget", "a"),
        ],
        delete={"b"},
        virtual={"a"},
        absent={"a"},
    ),
    "cycle: second deletion, the first's absent node goes with it": Case(
        steps=[
            ("observe", pod("a", ref_pod("c"))),
            ("observe", pod("b", ref_pod("a"))),
            ("observe", pod("c", ref_pod("b"))),
            ("forget", "a"),
            ("forget", "b"),
        ],
        delete={"c"},
        virtual={"b"},
        absent={"b"},
        missing={"a"},
    ),
    "cluster-scoped dependent with a namespaced owner is looked at": Case(
        steps=[("observe", rs("r")), ("observe", node_obj("n", ref_rs("r")))],
        delete={"n"},
    ),
    "owner seen in another namespace is looked at": Case(
        steps=[("observe", rs("r", ns="other")), ("observe", pod("p", ref_rs("r")))],
        delete={"p"},
    ),
    "namespaced dependent of a cluster-scoped owner is fine": Case(
        steps=[("observe", node_obj("n")), ("observe", pod("p", ref_node("n")))],
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_graph(case: Case) -> None:
    g, work = run(case.steps)
    assert work.attempt_to_delete == case.delete
    assert work.attempt_to_orphan == case.orphan
    assert {u for u, n in g.nodes.items() if n.virtual} == case.virtual
    assert {u for u, n in g.nodes.items() if n.absent} == case.absent
    for uid in case.missing:
        assert g.get(uid) is None


@pytest.mark.parametrize(
    ("refs", "want"),
    [
        pytest.param([ref_rs("r")], ["a"], id="one-blocking"),
        pytest.param([ref_rs("r", block=False)], [], id="not-blocking"),
        pytest.param([ref_rs("other"), ref_rs("r")], ["a"], id="blocks-r-among-others"),
        pytest.param([ref_rs("r", block=False), ref_rs("other")], [], id="blocks-only-another"),
    ],
)
def test_blocking_dependents(refs: list[Owner], want: list[str]) -> None:
    g, _ = run(
        [
            ("observe", rs("r", deleting=True, fin=[FOREGROUND])),
            ("observe", rs("other")),
            ("observe", pod("a", *refs)),
        ]
    )
    assert [d.uid for d in g.blocking_dependents("r")] == want


def test_virtual_owner_takes_the_dependents_namespace() -> None:
    g, _ = run([("observe", pod("p", ref_rs("r"))), ("observe", node_obj("n"))])
    assert g.get("r").identity == Identity("apps/v1", "ReplicaSet", NS, "rs-r", "r")
    g2, _ = run([("observe", pod("p", ref_node("n")))])
    assert g2.get("n").identity.namespace == ""


@pytest.mark.parametrize(
    ("dependent_ns", "owner", "want"),
    [
        pytest.param(NS, ref_rs("r"), NS, id="namespaced-in-own-namespace"),
        pytest.param(NS, ref_node("n"), "", id="cluster-scoped-owner"),
        pytest.param("", ref_rs("r"), None, id="cluster-dependent-namespaced-owner-invalid"),
        pytest.param("", ref_node("n"), "", id="cluster-dependent-cluster-owner"),
        pytest.param(NS, Owner("x.io/v1", "Thing", "t", "t"), NS, id="unknown-kind"),
    ],
)
def test_owner_namespace(dependent_ns: str, owner: Owner, want: str | None) -> None:
    dep = Identity("v1", "Pod" if dependent_ns else "Node", dependent_ns, "d", "d")
    assert owner_namespace(dep, owner) == want
    assert invalid_namespace(dep, owner, None) is (want is None)


def test_self_reference_is_ignored() -> None:
    g, work = run([("observe", pod("a", ref_pod("a")))])
    assert g.get("a").owners == ()
    assert not work


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_recheck_asks_what_observe_asks(case: Case) -> None:
    """An update that changes nothing the graph holds: ``recheck`` returns
    the work ``observe`` of the same state would, or None where only
    ``observe`` will do."""
    g, _ = run(case.steps)
    last = {arg.identity.uid: arg for op, arg in case.steps if op == "observe"}
    for uid, state in last.items():
        rechecked = g.recheck(uid)
        node = g.get(uid)
        if node is None or node.virtual:
            assert rechecked is None
            continue
        assert rechecked is not None
        observed = g.observe(state)
        assert rechecked.attempt_to_delete == observed.attempt_to_delete
        assert rechecked.attempt_to_orphan == observed.attempt_to_orphan


def test_recheck_of_an_unknown_uid_is_none() -> None:
    assert Graph().recheck("nope") is None
