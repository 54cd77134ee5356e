"""pinnace scale / rollout (status, history, undo, pause, resume, restart) / set env.

kubectl's messages and exit codes: ``rollout status`` waits and prints each
new progress line, exits 1 with ``error: deployment "x" exceeded its
progress deadline``; ``rollout undo`` copies the template of the wanted
revision (default: the previous one) back into the workload, and its
controller rolls forward to it.

``status``, ``history`` and ``undo`` work for Deployments, StatefulSets and
DaemonSets. A Deployment's history is its ReplicaSets (revision annotation);
a StatefulSet's or DaemonSet's is the ControllerRevisions it controls, whose
``data`` is the patch ``{"spec": {"template": {..., "$patch": "replace"}}}``
restoring one template. Both are read into the same ``Revision`` list, so
listing, choosing the rollback target and the "skipped rollback" check are
shared.

The CLI does not import the controllers (layers): the annotation names it
shares with them come from ``pinnace.machinery.wellknown``, and the
revision lookup is its own.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from pinnace.api.apps.v1 import (
    controllerrevision_pb2,
    daemonset_pb2,
    deployment_pb2,
    replicaset_pb2,
    statefulset_pb2,
)
from pinnace.api.core.v1 import pod_pb2
from pinnace.cli.connect import connect
from pinnace.cli.targets import kind_ref, parse_pairs, ref, split_kind
from pinnace.client import Client, Conflict
from pinnace.machinery import codec, kinds
from pinnace.machinery.conditions import find_condition
from pinnace.machinery.flags import add_bool_flag, duration
from pinnace.machinery.objects import object_meta
from pinnace.machinery.timeutil import now_rfc3339
from pinnace.machinery.wellknown import (
    ANNOTATION_CHANGE_CAUSE,
    ANNOTATION_DEPLOYMENT_REVISION,
    ANNOTATION_RESTARTED_AT,
    DEPLOYMENT_ANNOTATIONS_NOT_COPIED,
    DEPLOYMENT_PROGRESSING,
    LABEL_POD_TEMPLATE_HASH,
    REASON_PROGRESS_DEADLINE_EXCEEDED,
)

POLL_INTERVAL = 0.2
ROLLING_UPDATE = "RollingUpdate"
# The kinds whose rollout status, history and undo the CLI knows.
ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


class RolloutError(ValueError):
    """A rollout failure the CLI prints as ``error: ...`` (exit 1)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scale", help="set the replicas of a deployment, rs, rc or statefulset")
    _target(p)
    p.add_argument("--replicas", type=int, required=True, help="the new number of replicas")
    p.add_argument(
        "--current-replicas", type=int, default=None, help="only scale if it has this many now"
    )
    p.set_defaults(func=scale)

    rollout = sub.add_parser(
        "rollout", help="manage the rollout of a deployment, statefulset or daemonset"
    )
    verbs = rollout.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True
    p = verbs.add_parser("status", help="wait for a rollout to finish, printing its progress")
    _target(p)
    p.add_argument(
        "--timeout", type=duration, default="0", help="give up after this long (0: never), e.g. 2m"
    )
    add_bool_flag(p, "-w", "--watch", default=True, help="keep waiting until the rollout ends")
    p.add_argument("--revision", type=int, default=0, help="fail unless this revision runs")
    p.set_defaults(func=rollout_status)
    p = verbs.add_parser("history", help="list the revisions of a workload")
    _target(p)
    p.add_argument("--revision", type=int, default=0, help="show the pod template of one")
    p.add_argument(
        "-o", "--output", default="", choices=["", "yaml"], help="yaml: a revision's template"
    )
    p.set_defaults(func=rollout_history)
    p = verbs.add_parser("undo", help="roll back to the previous (or a given) revision")
    _target(p)
    p.add_argument("--to-revision", type=int, default=0, help="the revision (0: previous)")
    p.set_defaults(func=rollout_undo)
    for verb, fn, text in (
        ("pause", rollout_pause, "stop rolling out template changes"),
        ("resume", rollout_resume, "roll out template changes again"),
        ("restart", rollout_restart, "replace every pod (a new rollout of the same template)"),
    ):
        p = verbs.add_parser(verb, help=text)
        _target(p)
        p.set_defaults(func=fn)

    setp = sub.add_parser("set", help="change a field of a workload's pod template")
    what = setp.add_subparsers(dest="what", metavar="WHAT")
    what.required = True
    p = what.add_parser("env", help="set (KEY=VALUE) or remove (KEY-) environment variables")
    p.add_argument("kind", help="KIND or KIND/NAME")
    p.add_argument("args", nargs="+", help="[NAME] KEY=VALUE ... KEY- ...")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("-c", "--containers", default="*", help="containers to change (a glob)")
    p.set_defaults(func=set_env)


def _target(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", help="KIND/NAME, or KIND")
    p.add_argument("names", nargs="*")
    p.add_argument("-n", "--namespace", default="default")


def _one(args: argparse.Namespace, *allowed: str) -> tuple[kinds.KindInfo, str]:
    info, names = split_kind(args.kind, args.names)
    if len(names) != 1:
        raise ValueError("exactly one resource name is required (KIND/NAME or KIND NAME)")
    if allowed and info.kind not in allowed:
        raise ValueError(f'{args.command} is not supported for kind "{info.kind}"')
    return info, names[0]


# ---- scale ---------------------------------------------------------------------------


def scale(args: argparse.Namespace) -> int:
    info, names = split_kind(args.kind, args.names)
    if "scale" not in info.subresources:
        raise ValueError(f'kind "{info.kind}" has no scale subresource')
    if not names:
        raise ValueError("a resource name is required")
    if args.replicas < 0:
        raise ValueError("--replicas cannot be negative")
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        for name in names:
            rv = ""
            if args.current_replicas is not None:
                current = handle.get_scale(name)
                if current.spec.replicas != args.current_replicas:
                    raise ValueError(
                        f"Expected replicas to be {args.current_replicas}, "
                        f"was {current.spec.replicas}"
                    )
                rv = current.metadata.resource_version
            handle.scale(name, args.replicas, resource_version=rv)
            print(f"{kind_ref(info, name)} scaled")
    return 0


# ---- rollout status ---------------------------------------------------------------------


def status_message(d: deployment_pb2.Deployment) -> tuple[str, bool]:
    """(kubectl's progress line, whether the rollout is done) for a
    Deployment; RolloutError when it exceeded its progress deadline."""
    name = d.metadata.name
    if d.metadata.generation > d.status.observed_generation:
        return "Waiting for deployment spec update to be observed...", False
    cond = find_condition(d.status.conditions, DEPLOYMENT_PROGRESSING)
    if cond is not None and cond.reason == REASON_PROGRESS_DEADLINE_EXCEEDED:
        raise RolloutError(f'deployment "{name}" exceeded its progress deadline')
    want, st = d.spec.replicas, d.status
    prefix = f'Waiting for deployment "{name}" rollout to finish: '
    if st.updated_replicas < want:
        return (
            f"{prefix}{st.updated_replicas} out of {want} new replicas have been updated...",
            False,
        )
    if st.replicas > st.updated_replicas:
        return (
            f"{prefix}{st.replicas - st.updated_replicas} old replicas are pending termination...",
            False,
        )
    if st.available_replicas < st.updated_replicas:
        return (
            f"{prefix}{st.available_replicas} of {st.updated_replicas} updated replicas are available...",
            False,
        )
    return f'deployment "{name}" successfully rolled out', True


def _rolling_only() -> RolloutError:
    return RolloutError(f"rollout status is only available for {ROLLING_UPDATE} strategy type")


def statefulset_status_message(s: statefulset_pb2.StatefulSet) -> tuple[str, bool]:
    """kubectl's StatefulSetStatusViewer. The apiserver defaults
    ``rollingUpdate.partition`` to 0, so a finished RollingUpdate set reads
    "partitioned roll out complete"; the "at revision" lines are for a set
    stored without ``rollingUpdate``. Example: 3 replicas, partition 1,
    1 updated → "1 out of 2 new pods have been updated..."."""
    strategy = s.spec.update_strategy
    if strategy.type != ROLLING_UPDATE:
        raise _rolling_only()
    st = s.status
    if st.observed_generation == 0 or s.metadata.generation > st.observed_generation:
        return "Waiting for statefulset spec update to be observed...", False
    if s.spec.HasField("replicas") and st.ready_replicas < s.spec.replicas:
        return f"Waiting for {s.spec.replicas - st.ready_replicas} pods to be ready...", False
    if strategy.HasField("rolling_update"):
        ru = strategy.rolling_update
        if s.spec.HasField("replicas") and ru.HasField("partition"):
            want = s.spec.replicas - ru.partition
            if st.updated_replicas < want:
                return (
                    "Waiting for partitioned roll out to finish: "
                    f"{st.updated_replicas} out of {want} new pods have been updated...",
                    False,
                )
        return (
            f"partitioned roll out complete: {st.updated_replicas} new pods have been updated...",
            True,
        )
    if st.update_revision != st.current_revision:
        return (
            f"waiting for statefulset rolling update to complete {st.updated_replicas} pods "
            f"at revision {st.update_revision}...",
            False,
        )
    return (
        f"statefulset rolling update complete {st.current_replicas} pods "
        f"at revision {st.current_revision}...",
        True,
    )


def daemonset_status_message(ds: daemonset_pb2.DaemonSet) -> tuple[str, bool]:
    """kubectl's DaemonSetStatusViewer."""
    if ds.spec.update_strategy.type != ROLLING_UPDATE:
        raise _rolling_only()
    name, st = ds.metadata.name, ds.status
    if ds.metadata.generation > st.observed_generation:
        return "Waiting for daemon set spec update to be observed...", False
    prefix = f'Waiting for daemon set "{name}" rollout to finish: '
    want = st.desired_number_scheduled
    if st.updated_number_scheduled < want:
        return (
            f"{prefix}{st.updated_number_scheduled} out of {want} new pods have been updated...",
            False,
        )
    if st.number_available < want:
        return f"{prefix}{st.number_available} of {want} updated pods are available...", False
    return f'daemon set "{name}" successfully rolled out', True


# Keyed by kind; each viewer takes an object of that kind (read through an
# untyped handle: client.resource(info)).
STATUS_VIEWERS: dict[str, Callable[[Any], tuple[str, bool]]] = {
    "Deployment": status_message,
    "StatefulSet": statefulset_status_message,
    "DaemonSet": daemonset_status_message,
}


def rollout_status(args: argparse.Namespace) -> int:
    info, name = _one(args, *ROLLOUT_KINDS)
    viewer = STATUS_VIEWERS[info.kind]
    timeout = args.timeout
    deadline = time.monotonic() + timeout if timeout > 0 else None
    last = ""
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        while True:
            d = handle.get(name)
            if args.revision and info.kind == "Deployment":
                running = int(d.metadata.annotations.get(ANNOTATION_DEPLOYMENT_REVISION, "0") or 0)
                if running != args.revision:
                    raise RolloutError(
                        f"desired revision ({args.revision}) is different from the running "
                        f"revision ({running})"
                    )
            try:
                message, done = viewer(d)
            except RolloutError as e:
                print(f"error: {e}", file=sys.stderr)
                return 1
            if message != last:
                print(message, flush=True)
                last = message
            if done or not args.watch:
                return 0
            if deadline is not None and time.monotonic() > deadline:
                print("error: timed out waiting for the condition", file=sys.stderr)
                return 1
            time.sleep(POLL_INTERVAL)


# ---- history and undo ----------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    """One entry of a workload's history: its number, change cause, the pod
    template it restores and the object it was read from (a ReplicaSet or a
    ControllerRevision)."""

    number: int
    change_cause: str
    template: pod_pb2.PodTemplateSpec
    source: Message


def _revision(obj: Message) -> int:
    try:
        return int(object_meta(obj).annotations.get(ANNOTATION_DEPLOYMENT_REVISION, "") or 0)
    except ValueError:
        return 0


def _controlled_by(obj: Message, owner: Message) -> bool:
    uid = object_meta(owner).uid
    return any(r.controller and r.uid == uid for r in object_meta(obj).owner_references)


def owned_replica_sets(
    client: Client, d: deployment_pb2.Deployment
) -> list[replicaset_pb2.ReplicaSet]:
    """The ReplicaSets whose controller is d, by revision."""
    rss = client.replica_sets(d.metadata.namespace).list().items
    return sorted((rs for rs in rss if _controlled_by(rs, d)), key=_revision)


def revision_template(cr: controllerrevision_pb2.ControllerRevision) -> pod_pb2.PodTemplateSpec:
    """The pod template a ControllerRevision's ``data`` restores; RolloutError
    when the data holds none."""
    data = json_format.MessageToDict(cr.data)
    body = dict((data.get("spec") or {}).get("template") or {})
    body.pop("$patch", None)
    try:
        return codec.from_dict(pod_pb2.PodTemplateSpec, body)
    except codec.CodecError as e:
        raise RolloutError(
            f"controller revision {cr.metadata.name} holds no pod template: {e}"
        ) from None


def _from_replica_set(rs: replicaset_pb2.ReplicaSet) -> Revision:
    template = pod_pb2.PodTemplateSpec()
    template.CopyFrom(rs.spec.template)
    template.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
    return Revision(
        _revision(rs), rs.metadata.annotations.get(ANNOTATION_CHANGE_CAUSE, ""), template, rs
    )


def _from_controller_revision(cr: controllerrevision_pb2.ControllerRevision) -> Revision:
    cause = cr.metadata.annotations.get(ANNOTATION_CHANGE_CAUSE, "")
    return Revision(cr.revision, cause, revision_template(cr), cr)


def history(client: Client, obj: Message) -> list[Revision]:
    """The workload's revisions (number > 0), oldest first."""
    ns = object_meta(obj).namespace
    if isinstance(obj, deployment_pb2.Deployment):
        revisions = [_from_replica_set(rs) for rs in owned_replica_sets(client, obj)]
    else:
        crs = client.controller_revisions(ns).list().items
        revisions = [_from_controller_revision(cr) for cr in crs if _controlled_by(cr, obj)]
    return sorted((r for r in revisions if r.number > 0), key=lambda r: r.number)


def describe_template(template: pod_pb2.PodTemplateSpec) -> str:
    """kubectl's "Pod Template:" block, for the fields Pinnace pods use."""
    lines = ["Pod Template:"]

    def pairs(title: str, mapping: Mapping[str, str], indent: str) -> None:
        items = sorted(mapping.items())
        if not items:
            lines.append(f"{indent}{title}:\t<none>")
            return
        lines.append(f"{indent}{title}:\t{items[0][0]}={items[0][1]}")
        lines.extend(f"{indent}\t{k}={v}" for k, v in items[1:])

    pairs("Labels", template.metadata.labels, "  ")
    if template.metadata.annotations:
        pairs("Annotations", template.metadata.annotations, "  ")
    for title, containers in (
        ("Init Containers", template.spec.init_containers),
        ("Containers", template.spec.containers),
    ):
        if not containers:
            continue
        lines.append(f"  {title}:")
        for c in containers:
            lines.append(f"   {c.name}:")
            lines.append(f"    Image:\t{c.image or '<none>'}")
            for port in c.ports:
                lines.append(f"    Port:\t{port.container_port}/{port.protocol or 'TCP'}")
            if c.command:
                lines.append("    Command:")
                lines.extend(f"      {part}" for part in c.command)
            if c.args:
                lines.append("    Args:")
                lines.extend(f"      {part}" for part in c.args)
            if c.env:
                lines.append("    Environment:")
                lines.extend(f"      {e.name}:\t{e.value}" for e in c.env)
            else:
                lines.append("    Environment:\t<none>")
    vols = [v.name for v in template.spec.volumes]
    lines.append(f"  Volumes:\t{', '.join(vols) if vols else '<none>'}")
    return "\n".join(lines)


def format_history(revisions: Sequence[Revision]) -> str:
    """kubectl's REVISION / CHANGE-CAUSE table."""
    lines = ["REVISION  CHANGE-CAUSE"]
    lines.extend(f"{r.number:<10}{r.change_cause or '<none>'}" for r in revisions)
    return "\n".join(lines)


def rollout_history(args: argparse.Namespace) -> int:
    info, name = _one(args, *ROLLOUT_KINDS)
    with connect(args) as client:
        obj = client.resource(info, args.namespace).get(name)
        revisions = history(client, obj)
    if args.revision:
        for r in revisions:
            if r.number == args.revision:
                if args.output == "yaml":
                    print(codec.to_yaml(r.template), end="")
                else:
                    print(f"{ref(obj)} with revision #{args.revision}")
                    print(describe_template(r.template))
                return 0
        raise RolloutError(f"unable to find the specified revision {args.revision}")
    print(ref(obj))
    if not revisions:
        print("No rollout history found.")
        return 0
    print(format_history(revisions))
    print()
    return 0


def rollback_target(
    revisions: Sequence[Revision], to_revision: int, kind: str, name: str
) -> Revision:
    """The revision to roll back to: the one numbered ``to_revision``, or the
    one before the latest when 0."""
    if to_revision:
        for r in revisions:
            if r.number == to_revision:
                return r
        raise RolloutError(f"unable to find specified revision {to_revision} in history")
    ordered = sorted((r for r in revisions if r.number > 0), key=lambda r: r.number)
    if len(ordered) < 2:
        if kind == "Deployment":
            raise RolloutError(f'no rollout history found for deployment "{name}"')
        raise RolloutError("no last revision to roll back to")
    return ordered[-2]


def _same_template(a: pod_pb2.PodTemplateSpec, b: pod_pb2.PodTemplateSpec) -> bool:
    ca, cb = pod_pb2.PodTemplateSpec(), pod_pb2.PodTemplateSpec()
    ca.CopyFrom(a)
    cb.CopyFrom(b)
    ca.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
    cb.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
    return bool(ca == cb)


def _restore_annotations(d: deployment_pb2.Deployment, rs: Message) -> None:
    """A Deployment rollback takes the ReplicaSet's annotations (change
    cause, ...) but keeps the ones describing the Deployment itself."""
    kept = {
        k: v for k, v in d.metadata.annotations.items() if k in DEPLOYMENT_ANNOTATIONS_NOT_COPIED
    }
    d.metadata.ClearField("annotations")
    d.metadata.annotations.update(kept)
    for k, v in object_meta(rs).annotations.items():
        if k not in DEPLOYMENT_ANNOTATIONS_NOT_COPIED:
            d.metadata.annotations[k] = v


def rollout_undo(args: argparse.Namespace) -> int:
    info, name = _one(args, *ROLLOUT_KINDS)
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        obj = handle.get(name)
        if info.kind == "Deployment" and obj.spec.paused:
            raise RolloutError(
                "you cannot rollback a paused deployment; resume it first with "
                "'pinnace rollout resume' and try again"
            )
        target = rollback_target(history(client, obj), args.to_revision, info.kind, name)
        if _same_template(target.template, obj.spec.template):
            print(
                f"{ref(obj)} skipped rollback (current template already matches revision "
                f"{target.number})"
            )
            return 0
        obj.spec.template.CopyFrom(target.template)
        if info.kind == "Deployment":
            _restore_annotations(obj, target.source)
        handle.update(obj)  # guarded by the resourceVersion read above
        print(f"{ref(obj)} rolled back")
    return 0


# ---- pause, resume, restart ------------------------------------------------------------------


def _already(info: kinds.KindInfo, name: str, what: str) -> RolloutError:
    return RolloutError(f'{info.plural}.{info.group} "{name}" {what}')


def rollout_pause(args: argparse.Namespace) -> int:
    info, name = _one(args, "Deployment")
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        if handle.get(name).spec.paused:
            raise _already(info, name, "is already paused")
        print(f"{ref(handle.patch(name, {'spec': {'paused': True}}))} paused")
    return 0


def rollout_resume(args: argparse.Namespace) -> int:
    info, name = _one(args, "Deployment")
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        if not handle.get(name).spec.paused:
            raise _already(info, name, "is not paused")
        print(f"{ref(handle.patch(name, {'spec': {'paused': None}}))} resumed")
    return 0


def rollout_restart(args: argparse.Namespace) -> int:
    info, name = _one(args, "Deployment", "DaemonSet", "StatefulSet")
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        if info.kind == "Deployment" and handle.get(name).spec.paused:
            raise RolloutError(
                f"can't restart paused deployment (run rollout resume first): {name}"
            )
        patch = {
            "spec": {
                "template": {"metadata": {"annotations": {ANNOTATION_RESTARTED_AT: now_rfc3339()}}}
            }
        }
        print(f"{ref(handle.patch(name, patch))} restarted")
    return 0


# ---- set env ----------------------------------------------------------------------------------


def pod_spec(obj: Any) -> pod_pb2.PodSpec:
    """The pod spec inside a workload of any kind (a CronJob's is in its job
    template); ValueError for a kind without a pod template."""
    spec = obj.spec
    if spec.DESCRIPTOR.fields_by_name.get("job_template") is not None:
        spec = spec.job_template.spec
    elif spec.DESCRIPTOR.fields_by_name.get("template") is None:
        raise ValueError(f'kind "{kinds.by_message(obj).kind}" has no pod template')
    found: pod_pb2.PodSpec = spec.template.spec
    return found


def apply_env(spec: pod_pb2.PodSpec, pairs: dict[str, str | None], pattern: str) -> int:
    """Set (value) or remove (None) env vars in the matching containers
    (init containers too); returns how many containers matched."""
    matched = 0
    for c in [*spec.init_containers, *spec.containers]:
        if not fnmatch.fnmatchcase(c.name, pattern):
            continue
        matched += 1
        for key, value in pairs.items():
            kept = [e for e in c.env if e.name != key]
            existing = next((e for e in c.env if e.name == key), None)
            if value is None:
                del c.env[:]
                c.env.extend(kept)
            elif existing is not None:
                existing.ClearField("value_from")
                existing.value = value
            else:
                c.env.add(name=key, value=value)
    return matched


def set_env(args: argparse.Namespace) -> int:
    info, rest = split_kind(args.kind, args.args)
    names = [a for a in rest if "=" not in a and not a.endswith("-")]
    pairs = parse_pairs([a for a in rest if a not in names])
    if not names:
        raise ValueError("a resource name is required")
    if not pairs:
        raise ValueError("at least one environment variable change is required (KEY=VALUE or KEY-)")
    with connect(args) as client:
        handle = client.resource(info, args.namespace)
        for name in names:
            for attempt in range(5):
                obj = handle.get(name)
                if not apply_env(pod_spec(obj), pairs, args.containers):
                    raise ValueError(
                        f'no containers in {kind_ref(info, name)} match "{args.containers}"'
                    )
                try:
                    handle.update(obj)
                    break
                except Conflict:
                    if attempt == 4:
                        raise
            print(f"{kind_ref(info, name)} env updated")
    return 0
