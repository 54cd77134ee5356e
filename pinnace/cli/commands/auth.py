"""pinnace auth can-i / whoami: kubectl's, over the cluster's HTTP API.

    pinnace auth can-i create pods [-n NS] [--as alice]
    pinnace auth can-i get deployments/web     pinnace auth can-i get /healthz
    pinnace auth whoami

The reviews (SelfSubjectAccessReview, SelfSubjectReview) are HTTP-API
objects: the command posts them to the kubeconfig's ``server`` with its CA
and credentials (and the Impersonate headers of ``--as``/``--as-group``),
and prints ``yes`` or ``no`` (exit 0 or 1) as kubectl does.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from pinnace.client.config import default_kubeconfig
from pinnace.machinery import errors, kinds
from pinnace.machinery.kubeconfig import KubeconfigError, KubeContext, load_kubeconfig
from pinnace.machinery.tlsclient import client_ssl_context

ACCESS_REVIEW = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SELF_REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("auth", help="check what you may do (can-i) and who you are (whoami)")
    verbs = p.add_subparsers(dest="auth_command", metavar="can-i|whoami")
    verbs.required = True
    can = verbs.add_parser("can-i", help="may I VERB this RESOURCE (or /path)?")
    can.add_argument("verb")
    can.add_argument("resource", help="a resource (pods, deployments/web), or a URL path")
    can.add_argument("-n", "--namespace", default=None)
    can.add_argument("--subresource", default="")
    can.set_defaults(func=can_i)
    who = verbs.add_parser("whoami", help="the user and groups the cluster takes you for")
    who.set_defaults(func=whoami)


def can_i(args: argparse.Namespace) -> int:
    if args.resource.startswith("/"):
        spec: dict[str, Any] = {"nonResourceAttributes": {"verb": args.verb, "path": args.resource}}
    else:
        kind, _, name = args.resource.partition("/")
        info = kinds.lookup(kind)
        attrs = {"verb": args.verb, "group": info.group, "resource": info.plural, "name": name}
        if args.subresource:
            attrs["subresource"] = args.subresource
        if info.namespaced:
            attrs["namespace"] = args.namespace or _context(args).namespace or "default"
        spec = {"resourceAttributes": attrs}
    review = _post(args, ACCESS_REVIEW, {"spec": spec})
    allowed = bool(review.get("status", {}).get("allowed"))
    print("yes" if allowed else "no")
    return 0 if allowed else 1


def whoami(args: argparse.Namespace) -> int:
    info = _post(args, SELF_REVIEW, {}).get("status", {}).get("userInfo", {})
    print(f"Username: {info.get('username', '')}")
    if info.get("groups"):
        print(f"Groups:   [{' '.join(info['groups'])}]")
    return 0


def _context(args: argparse.Namespace) -> KubeContext:
    path = Path(args.kubeconfig).expanduser() if args.kubeconfig else default_kubeconfig()
    if path is None:
        raise KubeconfigError("no kubeconfig: give --kubeconfig or set $KUBECONFIG")
    return load_kubeconfig(path, args.context)


def _post(args: argparse.Namespace, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a review to the kubeconfig's HTTP API; its answer."""
    ctx = _context(args)
    if not ctx.server.startswith("https://"):
        raise KubeconfigError(f"context {ctx.name!r}: the server {ctx.server!r} is not https://")
    document = {
        "apiVersion": path.split("/")[2] + "/v1",
        "kind": "SelfSubjectAccessReview" if path == ACCESS_REVIEW else "SelfSubjectReview",
        **body,
    }
    request = urllib.request.Request(
        ctx.server.rstrip("/") + path,
        data=json.dumps(document).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if ctx.token:
        request.add_header("Authorization", f"Bearer {ctx.token}")
    if args.as_user:
        request.add_header("Impersonate-User", args.as_user)
    for group in args.as_group:
        request.add_header("Impersonate-Group", group)
    context = client_ssl_context(ctx.ca_pem, ctx.cert_pem, ctx.key_pem)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
            return answer
    except urllib.error.HTTPError as e:
        status = json.loads(e.read() or b"{}")
        raise errors.ApiError(status.get("message") or str(e)) from None
