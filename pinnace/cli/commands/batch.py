"""Batch commands: ``create job NAME --from=cronjob/X`` (kubectl's
``create job``), run as a Job built from the CronJob's jobTemplate with the
``cronjob.kubernetes.io/instantiate: manual`` annotation and the CronJob as
its controller, so the garbage collector deletes the Job with its CronJob.

As kubectl's ``createJobFromCronJob``: the owner reference sets
``controller: true`` but leaves ``blockOwnerDeletion`` unset (kubectl does
not use ``NewControllerRef``, which would set it and require permission on
the CronJob's finalizers), and the template's own annotations win over the
instantiate annotation."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from pinnace.api.batch.v1 import cronjob_pb2, job_pb2
from pinnace.cli.connect import connect
from pinnace.machinery.wellknown import ANNOTATION_CRONJOB_INSTANTIATE


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Extend the ``create`` verb (registered by resources.py, -f manifests)
    with ``create job NAME --from=cronjob/NAME``."""
    create = sub.choices["create"]
    for action in create._actions:
        if action.dest == "filename":
            action.required = False
    create.add_argument("what", nargs="?", help='"job" (with NAME and --from)')
    create.add_argument("name", nargs="?")
    create.add_argument("--from", dest="from_", default=None, help="cronjob/NAME")
    manifests = create.get_default("func")
    create.set_defaults(func=lambda args: _create(args, manifests))


def _create(args: argparse.Namespace, manifests: Callable[[argparse.Namespace], int]) -> int:
    if args.what is None:
        if not args.filename:
            raise ValueError(
                "must specify one of -f and -k, or a kind (create job NAME --from=cronjob/X)"
            )
        return manifests(args)
    if args.what not in ("job", "jobs") or not args.name or not args.from_:
        raise ValueError("usage: create job NAME --from=cronjob/NAME (or create -f FILE)")
    kind, _, source = args.from_.partition("/")
    if kind not in ("cronjob", "cronjobs", "cj") or not source:
        raise ValueError(f'from must be of the form cronjob/NAME, not "{args.from_}"')
    namespace = args.namespace or "default"
    with connect(args) as client:
        cj = client.cron_jobs(namespace).get(source)
        job = job_from_cronjob(cj, args.name)
        made = client.jobs(namespace).create(job)
    print(f"job.batch/{made.metadata.name} created")
    return 0


def job_from_cronjob(cj: cronjob_pb2.CronJob, name: str) -> job_pb2.Job:
    """The Job kubectl's ``create job NAME --from=cronjob/X`` sends."""
    tmpl = cj.spec.job_template
    job = job_pb2.Job(api_version="batch/v1", kind="Job")
    job.metadata.name = name
    job.metadata.namespace = cj.metadata.namespace
    job.metadata.labels.update(tmpl.metadata.labels)
    job.metadata.annotations[ANNOTATION_CRONJOB_INSTANTIATE] = "manual"
    job.metadata.annotations.update(tmpl.metadata.annotations)
    job.metadata.owner_references.add(
        api_version="batch/v1",
        kind="CronJob",
        name=cj.metadata.name,
        uid=cj.metadata.uid,
        controller=True,
    )
    job.spec.CopyFrom(tmpl.spec)
    return job
