"""The RBAC objects a cluster starts with (Kubernetes' bootstrap policy,
plugin/pkg/auth/authorizer/rbac/bootstrappolicy policy.go and
controller_policy.go), as data: `bootstrap_policy()`.

What is Kubernetes' and what is Pinnace's:

* cluster-admin, system:discovery, system:basic-user,
  system:public-info-viewer and their bindings (cluster-admin to the group
  system:masters; discovery and basic-user to system:authenticated;
  public-info-viewer to system:authenticated and system:unauthenticated)
  are Kubernetes' own.
* admin, edit and view hold no rules of their own: each aggregates the
  ClusterRoles labelled ``rbac.authorization.k8s.io/aggregate-to-<name>:
  "true"`` (and edit is itself labelled aggregate-to-admin, view
  aggregate-to-edit, so admin ⊇ edit ⊇ view). Their rules come from
  system:aggregate-to-admin/-edit/-view, whose rules are Kubernetes' with
  every resource Pinnace does not serve left out (`served_only`: a rule
  about ingresses can never match here; when Pinnace serves a kind, the
  rule about it comes back by itself).
* system:kube-scheduler, system:volume-scheduler (bound to the user
  system:kube-scheduler) and system:kube-controller-manager (bound to the
  user system:kube-controller-manager) are Kubernetes' rules, with the
  leader-election Lease names Pinnace uses (pinnace-scheduler,
  pinnace-controller-manager) in place of kube-scheduler and
  kube-controller-manager.
* system:controller:<name>: Kubernetes gives each controller a
  ServiceAccount and binds its role to it; Pinnace's controller-manager
  runs every controller under its own identity, so each role of a
  controller Pinnace runs is bound to the user system:kube-controller-manager.
* system:node: what a Pinnace kubelet does (Kubernetes' NodeRules for the
  kinds Pinnace serves, plus listing PersistentVolumes and watching
  Services and EndpointSlices, which Pinnace's kubelet does). Its binding
  has no subjects, as in Kubernetes: nodes are authorized by the Node
  authorizer, which confines each kubelet to its own node.

Every object carries the label ``kubernetes.io/bootstrapping:
rbac-defaults`` and the annotation
``rbac.authorization.kubernetes.io/autoupdate: "true"``; see
pinnace.machinery.rbacbootstrap for what the apiserver does with them at
start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pinnace.api.meta.v1 import meta_pb2
from pinnace.api.rbac.v1 import rbac_pb2
from pinnace.machinery import kinds
from pinnace.machinery.rbac import (
    AGGREGATE_TO_ADMIN,
    AGGREGATE_TO_EDIT,
    AGGREGATE_TO_VIEW,
    ALL,
    API_VERSION,
    AUTHENTICATED_GROUP,
    AUTOUPDATE_ANNOTATION,
    CLUSTER_ROLE_BINDING_KIND,
    CLUSTER_ROLE_KIND,
    GROUP,
    GROUP_KIND,
    MASTERS_GROUP,
    UNAUTHENTICATED_GROUP,
    USER_KIND,
)

BOOTSTRAP_LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")

READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection")
READ_WRITE = READ + WRITE
READ_UPDATE = ("get", "list", "watch", "update", "patch")

# Identities of the control plane (client certificate CNs).
SCHEDULER_USER = "system:kube-scheduler"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
KUBE_PROXY_USER = "system:kube-proxy"
# Pinnace's leader-election Leases (kube-system/<name>).
SCHEDULER_LEASE = "pinnace-scheduler"
CONTROLLER_MANAGER_LEASE = "pinnace-controller-manager"

CONTROLLER_ROLE_PREFIX = "system:controller:"

_CORE = ""
_APPS = "apps"
_BATCH = "batch"
_COORDINATION = "coordination.k8s.io"
_DISCOVERY = "discovery.k8s.io"
_EVENTS = "events.k8s.io"
_EXTENSIONS = "extensions"
_POLICY = "policy"
_STORAGE = "storage.k8s.io"
_AUTHENTICATION = "authentication.k8s.io"
_AUTHORIZATION = "authorization.k8s.io"


def rule(
    verbs: Iterable[str],
    groups: Iterable[str] = (),
    resources: Iterable[str] = (),
    *,
    names: Iterable[str] = (),
    urls: Iterable[str] = (),
) -> rbac_pb2.PolicyRule:
    """One PolicyRule (Kubernetes' NewRule(...).Groups().Resources().Names().URLs())."""
    return rbac_pb2.PolicyRule(
        verbs=list(verbs),
        api_groups=list(groups),
        resources=list(resources),
        resource_names=list(names),
        non_resource_urls=list(urls),
    )


def _events() -> rbac_pb2.PolicyRule:
    """Kubernetes' eventsRule(): what every component needs to record events."""
    return rule(("create", "update", "patch"), (_CORE, _EVENTS), ("events",))


# ------------------------------------------------------------------ serving


def _served() -> set[tuple[str, str]]:
    """(group, resource) of every served resource and subresource: ("apps", "deployments/scale")."""
    out: set[tuple[str, str]] = set()
    for info in kinds.KINDS:
        out.add((info.group, info.plural))
        out |= {(info.group, f"{info.plural}/{sub}") for sub in info.subresources}
    return out


def served_only(rules: Iterable[rbac_pb2.PolicyRule]) -> list[rbac_pb2.PolicyRule]:
    """``rules`` with every resource Pinnace does not serve left out; a rule
    left with no group or resource is dropped. Wildcards and URL rules stay."""
    served = _served()
    out = []
    for r in rules:
        if r.non_resource_urls or ALL in r.api_groups or ALL in r.resources:
            out.append(r)
            continue
        groups = [g for g in r.api_groups if any((g, res) in served for res in r.resources)]
        resources = [res for res in r.resources if any((g, res) in served for g in groups)]
        if groups and resources:
            out.append(
                rule(r.verbs, groups, resources, names=r.resource_names, urls=r.non_resource_urls)
            )
    return out


# ------------------------------------------------------------------ roles


def _aggregate_to_admin() -> list[rbac_pb2.PolicyRule]:
    return [
        rule(("create",), (_AUTHORIZATION,), ("localsubjectaccessreviews",)),
        rule(READ_WRITE, (GROUP,), ("roles", "rolebindings")),
    ]


def _aggregate_to_edit() -> list[rbac_pb2.PolicyRule]:
    pod_access = ("pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward")
    return [
        rule(
            READ,
            (_CORE,),
            (
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ),
        ),
        rule(("impersonate",), (_CORE,), ("serviceaccounts",)),
        rule(WRITE, (_CORE,), pod_access),
        rule(
            WRITE,
            (_CORE,),
            (
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "endpoints",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
            ),
        ),
        rule(
            WRITE,
            (_APPS,),
            (
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ),
        ),
        rule(WRITE, ("autoscaling",), ("horizontalpodautoscalers",)),
        rule(WRITE, (_BATCH,), ("jobs", "cronjobs")),
        rule(WRITE, (_POLICY,), ("poddisruptionbudgets",)),
        rule(WRITE, ("networking.k8s.io",), ("networkpolicies", "ingresses")),
    ]


def _aggregate_to_view() -> list[rbac_pb2.PolicyRule]:
    return [
        rule(
            READ,
            (_CORE,),
            (
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ),
        ),
        rule(
            READ,
            (_CORE,),
            (
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ),
        ),
        rule(READ, (_CORE,), ("namespaces",)),
        rule(READ, (_DISCOVERY,), ("endpointslices",)),
        rule(
            READ,
            (_APPS,),
            (
                "controllerrevisions",
                "statefulsets",
                "statefulsets/status",
                "statefulsets/scale",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
                "replicasets/status",
                "replicasets/scale",
            ),
        ),
        rule(
            READ, ("autoscaling",), ("horizontalpodautoscalers", "horizontalpodautoscalers/status")
        ),
        rule(READ, (_BATCH,), ("jobs", "cronjobs", "cronjobs/status", "jobs/status")),
        rule(READ, (_POLICY,), ("poddisruptionbudgets", "poddisruptionbudgets/status")),
        rule(READ, ("networking.k8s.io",), ("networkpolicies", "ingresses", "ingresses/status")),
    ]


def _scheduler() -> list[rbac_pb2.PolicyRule]:
    return [
        _events(),
        rule(("create",), (_COORDINATION,), ("leases",)),
        rule(("get", "update"), (_COORDINATION,), ("leases",), names=(SCHEDULER_LEASE,)),
        rule(READ, (_CORE,), ("nodes",)),
        rule(("get", "list", "watch", "delete"), (_CORE,), ("pods",)),
        rule(("create",), (_CORE,), ("pods/binding", "bindings")),
        rule(("patch", "update"), (_CORE,), ("pods/status",)),
        rule(READ, (_CORE,), ("services", "replicationcontrollers")),
        rule(READ, (_APPS, _EXTENSIONS), ("replicasets",)),
        rule(READ, (_APPS,), ("statefulsets",)),
        rule(READ, (_POLICY,), ("poddisruptionbudgets",)),
        rule(READ, (_CORE,), ("persistentvolumeclaims", "persistentvolumes")),
        rule(("create",), (_AUTHENTICATION,), ("tokenreviews",)),
        rule(("create",), (_AUTHORIZATION,), ("subjectaccessreviews",)),
        rule(READ, (_STORAGE,), ("csinodes",)),
        rule(READ, (_CORE,), ("namespaces",)),
        rule(READ, (_STORAGE,), ("csidrivers",)),
        rule(READ, (_STORAGE,), ("csistoragecapacities",)),
    ]


def _volume_scheduler() -> list[rbac_pb2.PolicyRule]:
    return [
        rule(READ_UPDATE, (_CORE,), ("persistentvolumes",)),
        rule(READ, (_STORAGE,), ("storageclasses",)),
        rule(READ_UPDATE, (_CORE,), ("persistentvolumeclaims",)),
    ]


def _controller_manager() -> list[rbac_pb2.PolicyRule]:
    return [
        _events(),
        rule(("create",), (_COORDINATION,), ("leases",)),
        rule(("get", "update"), (_COORDINATION,), ("leases",), names=(CONTROLLER_MANAGER_LEASE,)),
        rule(("create",), (_CORE,), ("secrets", "serviceaccounts")),
        rule(("delete",), (_CORE,), ("secrets",)),
        rule(("get",), (_CORE,), ("namespaces", "secrets", "serviceaccounts", "configmaps")),
        rule(("update",), (_CORE,), ("secrets", "serviceaccounts")),
        rule(("create",), (_AUTHENTICATION,), ("tokenreviews",)),
        rule(("create",), (_AUTHORIZATION,), ("subjectaccessreviews",)),
        # Needed for all shared informers.
        rule(("list", "watch"), (ALL,), (ALL,)),
        rule(("create",), (_CORE,), ("serviceaccounts/token",)),
    ]


def _node() -> list[rbac_pb2.PolicyRule]:
    return [
        rule(("create",), (_AUTHENTICATION,), ("tokenreviews",)),
        rule(("create",), (_AUTHORIZATION,), ("subjectaccessreviews", "localsubjectaccessreviews")),
        rule(READ, (_CORE,), ("services",)),
        rule(("create", "get", "list", "watch"), (_CORE,), ("nodes",)),
        rule(("update", "patch"), (_CORE,), ("nodes/status",)),
        rule(("update", "patch"), (_CORE,), ("nodes",)),
        rule(("create", "update", "patch"), (_CORE,), ("events",)),
        rule(READ, (_CORE,), ("pods",)),
        rule(("create", "delete"), (_CORE,), ("pods",)),
        rule(("update", "patch"), (_CORE,), ("pods/status",)),
        rule(("create",), (_CORE,), ("pods/eviction",)),
        rule(("get",), (_CORE,), ("persistentvolumeclaims", "persistentvolumes")),
        rule(("get", "create", "update", "patch", "delete"), (_COORDINATION,), ("leases",)),
        rule(("get", "update", "patch"), (_CORE,), ("persistentvolumeclaims/status",)),
        # Pinnace's kubelet: it lists PersistentVolumes (local volume
        # cleanup) and watches EndpointSlices (service routing on the node).
        rule(("list",), (_CORE,), ("persistentvolumes",)),
        rule(("list", "watch"), (_DISCOVERY,), ("endpointslices",)),
    ]


def _node_proxier() -> list[rbac_pb2.PolicyRule]:
    return [
        rule(("list", "watch"), (_CORE,), ("services", "endpoints")),
        rule(READ, (_CORE,), ("nodes",)),
        _events(),
        rule(("list", "watch"), (_DISCOVERY,), ("endpointslices",)),
    ]


@dataclass(frozen=True)
class _Role:
    name: str
    rules: tuple[rbac_pb2.PolicyRule, ...] = ()
    aggregates: str = ""  # the aggregate-to-* label this role collects
    labels: tuple[tuple[str, str], ...] = ()


def _roles() -> list[_Role]:
    return [
        _Role(
            "cluster-admin",
            (rule((ALL,), (ALL,), (ALL,)), rule((ALL,), urls=(ALL,))),
        ),
        _Role(
            "system:discovery",
            (
                rule(
                    ("get",),
                    urls=(
                        "/livez",
                        "/readyz",
                        "/healthz",
                        "/version",
                        "/version/",
                        "/openapi",
                        "/openapi/*",
                        "/api",
                        "/api/*",
                        "/apis",
                        "/apis/*",
                    ),
                ),
            ),
        ),
        _Role(
            "system:basic-user",
            (
                rule(
                    ("create",),
                    (_AUTHORIZATION,),
                    ("selfsubjectaccessreviews", "selfsubjectrulesreviews"),
                ),
                rule(("create",), (_AUTHENTICATION,), ("selfsubjectreviews",)),
            ),
        ),
        _Role(
            "system:public-info-viewer",
            (rule(("get",), urls=("/livez", "/readyz", "/healthz", "/version", "/version/")),),
        ),
        _Role("admin", aggregates=AGGREGATE_TO_ADMIN),
        _Role("edit", aggregates=AGGREGATE_TO_EDIT, labels=((AGGREGATE_TO_ADMIN, "true"),)),
        _Role("view", aggregates=AGGREGATE_TO_VIEW, labels=((AGGREGATE_TO_EDIT, "true"),)),
        _Role(
            "system:aggregate-to-admin",
            tuple(served_only(_aggregate_to_admin())),
            labels=((AGGREGATE_TO_ADMIN, "true"),),
        ),
        _Role(
            "system:aggregate-to-edit",
            tuple(served_only(_aggregate_to_edit())),
            labels=((AGGREGATE_TO_EDIT, "true"),),
        ),
        _Role(
            "system:aggregate-to-view",
            tuple(served_only(_aggregate_to_view())),
            labels=((AGGREGATE_TO_VIEW, "true"),),
        ),
        _Role("system:node", tuple(_node())),
        _Role("system:node-proxier", tuple(_node_proxier())),
        _Role("system:kube-controller-manager", tuple(_controller_manager())),
        _Role("system:kube-scheduler", tuple(_scheduler())),
        _Role("system:volume-scheduler", tuple(_volume_scheduler())),
        *(_Role(CONTROLLER_ROLE_PREFIX + n, tuple(r)) for n, r in _controller_roles().items()),
    ]


def _controller_roles() -> dict[str, list[rbac_pb2.PolicyRule]]:
    """controller_policy.go's roles of the controllers Pinnace's manager runs."""
    return {
        "clusterrole-aggregation-controller": [
            rule(
                ("escalate", "get", "list", "watch", "update", "patch"), (GROUP,), ("clusterroles",)
            ),
        ],
        "cronjob-controller": [
            rule(("get", "list", "watch", "update"), (_BATCH,), ("cronjobs",)),
            rule(
                ("get", "list", "watch", "create", "update", "delete", "patch"),
                (_BATCH,),
                ("jobs",),
            ),
            rule(("update",), (_BATCH,), ("cronjobs/status",)),
            rule(("update",), (_BATCH,), ("cronjobs/finalizers",)),
            rule(("list", "watch", "delete"), (_CORE,), ("pods",)),
            _events(),
        ],
        "daemon-set-controller": [
            rule(READ, (_EXTENSIONS, _APPS), ("daemonsets",)),
            rule(("update",), (_EXTENSIONS, _APPS), ("daemonsets/status",)),
            rule(("update",), (_EXTENSIONS, _APPS), ("daemonsets/finalizers",)),
            rule(("list", "watch"), (_CORE,), ("nodes",)),
            rule(("list", "watch", "create", "delete", "patch"), (_CORE,), ("pods",)),
            rule(("create",), (_CORE,), ("pods/binding",)),
            rule(
                ("get", "list", "watch", "create", "delete", "update", "patch"),
                (_APPS,),
                ("controllerrevisions",),
            ),
            _events(),
        ],
        "deployment-controller": [
            rule(("get", "list", "watch", "update"), (_EXTENSIONS, _APPS), ("deployments",)),
            rule(("update",), (_EXTENSIONS, _APPS), ("deployments/status",)),
            rule(("update",), (_EXTENSIONS, _APPS), ("deployments/finalizers",)),
            rule(
                ("get", "list", "watch", "create", "update", "patch", "delete"),
                (_APPS, _EXTENSIONS),
                ("replicasets",),
            ),
            rule(("get", "list", "watch", "update"), (_CORE,), ("pods",)),
            _events(),
        ],
        "endpointslice-controller": [
            rule(READ, (_CORE,), ("services", "pods", "nodes")),
            rule(("update",), (_CORE,), ("services/finalizers",)),
            rule(
                ("get", "list", "watch", "create", "update", "delete"),
                (_DISCOVERY,),
                ("endpointslices",),
            ),
            _events(),
        ],
        "generic-garbage-collector": [
            rule(("get", "list", "watch", "patch", "update", "delete"), (ALL,), (ALL,)),
            _events(),
        ],
        "job-controller": [
            rule(("get", "list", "watch", "update", "patch"), (_BATCH,), ("jobs",)),
            rule(("update",), (_BATCH,), ("jobs/status",)),
            rule(("update",), (_BATCH,), ("jobs/finalizers",)),
            rule(("list", "watch", "create", "delete", "patch"), (_CORE,), ("pods",)),
            _events(),
        ],
        "node-controller": [
            rule(("get", "list", "watch", "update", "delete", "patch"), (_CORE,), ("nodes",)),
            rule(("patch", "update"), (_CORE,), ("nodes/status",)),
            rule(("patch", "update"), (_CORE,), ("pods/status",)),
            rule(("list", "watch", "get", "delete"), (_CORE,), ("pods",)),
            _events(),
        ],
        "persistent-volume-binder": [
            rule(
                ("get", "list", "watch", "update", "create", "delete"),
                (_CORE,),
                ("persistentvolumes",),
            ),
            rule(("update",), (_CORE,), ("persistentvolumes/status",)),
            rule(("get", "list", "watch", "update"), (_CORE,), ("persistentvolumeclaims",)),
            rule(("update",), (_CORE,), ("persistentvolumeclaims/status",)),
            rule(("list", "watch", "get", "create", "delete"), (_CORE,), ("pods",)),
            rule(READ, (_STORAGE,), ("storageclasses",)),
            rule(("list", "watch"), (_CORE,), ("nodes",)),
            _events(),
            rule(("watch",), (_CORE,), ("events",)),
            rule(("get",), (_CORE,), ("services",)),
        ],
        "pod-garbage-collector": [
            rule(("list", "watch", "delete"), (_CORE,), ("pods",)),
            rule(READ, (_CORE,), ("nodes",)),
            rule(("patch",), (_CORE,), ("pods/status",)),
        ],
        "replicaset-controller": [
            rule(("get", "list", "watch", "update"), (_APPS, _EXTENSIONS), ("replicasets",)),
            rule(("update",), (_APPS, _EXTENSIONS), ("replicasets/status",)),
            rule(("update",), (_APPS, _EXTENSIONS), ("replicasets/finalizers",)),
            rule(("list", "watch", "patch", "create", "delete"), (_CORE,), ("pods",)),
            _events(),
        ],
        "replication-controller": [
            rule(("get", "list", "watch", "update"), (_CORE,), ("replicationcontrollers",)),
            rule(("update",), (_CORE,), ("replicationcontrollers/status",)),
            rule(("update",), (_CORE,), ("replicationcontrollers/finalizers",)),
            rule(("list", "watch", "patch", "create", "delete"), (_CORE,), ("pods",)),
            _events(),
        ],
        "statefulset-controller": [
            rule(("list", "watch"), (_CORE,), ("pods",)),
            rule(READ, (_APPS,), ("statefulsets",)),
            rule(("update",), (_APPS,), ("statefulsets/status",)),
            rule(("update",), (_APPS,), ("statefulsets/finalizers",)),
            rule(("get", "create", "delete", "update", "patch"), (_CORE,), ("pods",)),
            rule(
                ("get", "create", "delete", "update", "patch", "list", "watch"),
                (_APPS,),
                ("controllerrevisions",),
            ),
            rule(("get", "create", "list", "watch"), (_CORE,), ("persistentvolumeclaims",)),
            rule(("update", "delete"), (_CORE,), ("persistentvolumeclaims",)),
            rule(("update",), (_CORE,), ("pods/finalizers",)),
            _events(),
        ],
        "ttl-after-finished-controller": [
            rule(("get", "list", "watch", "delete"), (_BATCH,), ("jobs",)),
            _events(),
        ],
    }


# ------------------------------------------------------------------ bindings


def _user(name: str) -> rbac_pb2.Subject:
    return rbac_pb2.Subject(kind=USER_KIND, api_group=GROUP, name=name)


def _group(name: str) -> rbac_pb2.Subject:
    return rbac_pb2.Subject(kind=GROUP_KIND, api_group=GROUP, name=name)


def _bindings() -> list[tuple[str, tuple[rbac_pb2.Subject, ...]]]:
    """(ClusterRole name, subjects): each binding is named after its role."""
    controllers = [
        (CONTROLLER_ROLE_PREFIX + name, (_user(CONTROLLER_MANAGER_USER),))
        for name in _controller_roles()
    ]
    return [
        ("cluster-admin", (_group(MASTERS_GROUP),)),
        ("system:discovery", (_group(AUTHENTICATED_GROUP),)),
        ("system:basic-user", (_group(AUTHENTICATED_GROUP),)),
        (
            "system:public-info-viewer",
            (_group(AUTHENTICATED_GROUP), _group(UNAUTHENTICATED_GROUP)),
        ),
        ("system:node-proxier", (_user(KUBE_PROXY_USER),)),
        ("system:kube-controller-manager", (_user(CONTROLLER_MANAGER_USER),)),
        ("system:kube-scheduler", (_user(SCHEDULER_USER),)),
        ("system:volume-scheduler", (_user(SCHEDULER_USER),)),
        # Nodes are authorized by the Node authorizer; the binding stays, empty.
        ("system:node", ()),
        *controllers,
    ]


# ------------------------------------------------------------------ objects


def _metadata(name: str, labels: Iterable[tuple[str, str]] = ()) -> meta_pb2.ObjectMeta:
    meta = meta_pb2.ObjectMeta(name=name)
    meta.labels.update(dict(labels))
    meta.labels[BOOTSTRAP_LABEL[0]] = BOOTSTRAP_LABEL[1]
    meta.annotations[AUTOUPDATE_ANNOTATION] = "true"
    return meta


def _cluster_role(role: _Role) -> rbac_pb2.ClusterRole:
    obj = rbac_pb2.ClusterRole(
        api_version=API_VERSION,
        kind=CLUSTER_ROLE_KIND,
        metadata=_metadata(role.name, role.labels),
        rules=list(role.rules),
    )
    if role.aggregates:
        selector = obj.aggregation_rule.cluster_role_selectors.add()
        selector.match_labels[role.aggregates] = "true"
    return obj


def _cluster_role_binding(
    role: str, subjects: tuple[rbac_pb2.Subject, ...]
) -> rbac_pb2.ClusterRoleBinding:
    return rbac_pb2.ClusterRoleBinding(
        api_version=API_VERSION,
        kind=CLUSTER_ROLE_BINDING_KIND,
        metadata=_metadata(role),
        role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind=CLUSTER_ROLE_KIND, name=role),
        subjects=list(subjects),
    )


@dataclass(frozen=True)
class BootstrapPolicy:
    """The ClusterRoles and ClusterRoleBindings a cluster starts with (fresh
    messages on every call: callers may change them)."""

    cluster_roles: tuple[rbac_pb2.ClusterRole, ...]
    cluster_role_bindings: tuple[rbac_pb2.ClusterRoleBinding, ...]


def bootstrap_policy() -> BootstrapPolicy:
    """Every bootstrap ClusterRole and ClusterRoleBinding, in a stable order."""
    return BootstrapPolicy(
        cluster_roles=tuple(_cluster_role(r) for r in _roles()),
        cluster_role_bindings=tuple(_cluster_role_binding(n, s) for n, s in _bindings()),
    )


__all__ = [
    "BOOTSTRAP_LABEL",
    "CONTROLLER_MANAGER_LEASE",
    "CONTROLLER_MANAGER_USER",
    "CONTROLLER_ROLE_PREFIX",
    "KUBE_PROXY_USER",
    "READ",
    "READ_UPDATE",
    "READ_WRITE",
    "SCHEDULER_LEASE",
    "SCHEDULER_USER",
    "WRITE",
    "BootstrapPolicy",
    "bootstrap_policy",
    "rule",
    "served_only",
]
