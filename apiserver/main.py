"""pinnace-apiserver: the API in front of etcd.

pinnace-apiserver --etcd-servers 127.0.0.1:2379 --listen 127.0.0.1:6443
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from pathlib import Path

from apiserver.app import ApiServer, Options
from apiserver.auth.authn import TokenFileError, load_token_file
from apiserver.auth.authz import MODES
from apiserver.registry.allocation import IPRange, PortRange
from pinnace.machinery.flags import Parser, add_bool_flag, positive_seconds
from pinnace.machinery.logging_setup import setup_logging
from pinnace.machinery.metrics_http import serve_metrics

log = logging.getLogger("apiserver")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = Parser(prog="pinnace-apiserver", description=__doc__.splitlines()[0])
    p.add_argument(
        "--etcd-servers", required=True, help="comma-separated etcd endpoints (host:port)"
    )
    p.add_argument(
        "--kubelet-certificate-authority",
        default="",
        help="reach kubelets over HTTPS, trusting this CA (their serving certificates)",
    )
    p.add_argument(
        "--kubelet-client-certificate", default="", help="client certificate presented to kubelets"
    )
    p.add_argument("--kubelet-client-key", default="", help="key of --kubelet-client-certificate")
    p.add_argument("--etcd-cafile", default="", help="CA of etcd's serving certificate (TLS)")
    p.add_argument("--etcd-certfile", default="", help="client certificate presented to etcd")
    p.add_argument("--etcd-keyfile", default="", help="key of --etcd-certfile")
    p.add_argument(
        "--listen",
        default="127.0.0.1:6443",
        help="gRPC listen address host:port (default %(default)s)",
    )
    p.add_argument(
        "--metrics-listen", default="", help="serve /metrics on host:port (default: off)"
    )
    p.add_argument(
        "--watch-cache-size",
        type=int,
        default=10_000,
        help="events kept per resource for resuming watches",
    )
    p.add_argument(
        "--bookmark-interval", type=float, default=5.0, help="seconds between watch bookmarks"
    )
    p.add_argument(
        "--etcd-compaction-interval",
        type=float,
        default=300.0,
        help="seconds between etcd compactions; history older than one interval is dropped (0: never)",
    )
    p.add_argument(
        "--etcd-healthcheck-period",
        type=positive_seconds,
        default=1.0,
        help="seconds between readiness checks of etcd (default %(default)s)",
    )
    p.add_argument(
        "--etcd-healthcheck-timeout",
        type=positive_seconds,
        default=2.0,
        help="seconds etcd has to answer a readiness check; else not ready (default %(default)s)",
    )
    p.add_argument(
        "--namespace-sync-period",
        type=float,
        default=0.5,
        help="seconds between namespace cleanup passes",
    )
    p.add_argument(
        "--default-not-ready-toleration-seconds",
        type=int,
        default=300,
        help="tolerationSeconds of the not-ready:NoExecute toleration added to every pod",
    )
    p.add_argument(
        "--default-unreachable-toleration-seconds",
        type=int,
        default=300,
        help="tolerationSeconds of the unreachable:NoExecute toleration added to every pod",
    )
    p.add_argument(
        "--service-cluster-ip-range",
        type=_cidr,
        default="10.96.0.0/12",
        help="CIDR Services' cluster IPs are allocated from (default %(default)s)",
    )
    p.add_argument(
        "--service-node-port-range",
        type=_port_range,
        default="30000-32767",
        help="ports (lo-hi, inclusive) NodePort Services are allocated from (default %(default)s)",
    )
    p.add_argument(
        "--rest-listen",
        default="",
        help="serve the Kubernetes HTTP API (what kubectl speaks) on host:port, HTTPS with "
        "--tls-cert-file/--tls-private-key-file (default: off)",
    )
    p.add_argument(
        "--tls-cert-file",
        default="",
        help="PEM serving certificate of both listeners (without it gRPC is plain, for "
        "local experiments)",
    )
    p.add_argument("--tls-private-key-file", default="", help="PEM private key of --tls-cert-file")
    add_bool_flag(
        p,
        "--rest-plain-http",
        help="serve the HTTP API without TLS (local experiments only)",
    )
    p.add_argument(
        "--client-ca-file",
        default="",
        help="authenticate client certificates signed by this CA (CN = user, O = groups); "
        "gRPC then requires one (mutual TLS)",
    )
    p.add_argument(
        "--token-auth-file",
        default="",
        help='authenticate bearer tokens listed in this file (token,user,uid[,"g1,g2"] lines)',
    )
    p.add_argument(
        "--authorization-mode",
        type=_modes,
        default="Node,RBAC",
        help="authorizers in order, comma-separated: Node, RBAC, AlwaysAllow (local "
        "experiments only); system:masters may do everything (default %(default)s)",
    )
    add_bool_flag(
        p,
        "--anonymous-auth",
        help="serve requests without credentials as system:anonymous (local experiments "
        "only; default: refused with 401 / UNAUTHENTICATED)",
    )
    p.add_argument("--log-level", default="info", help="debug, info, warning or error")
    args = p.parse_args(argv)
    if bool(args.etcd_certfile) != bool(args.etcd_keyfile):
        p.error("--etcd-certfile and --etcd-keyfile go together")
    if args.etcd_certfile and not args.etcd_cafile:
        p.error("--etcd-certfile needs --etcd-cafile (etcd over TLS)")
    if bool(args.tls_cert_file) != bool(args.tls_private_key_file):
        p.error("--tls-cert-file and --tls-private-key-file go together")
    if args.client_ca_file and not args.tls_cert_file:
        p.error("--client-ca-file needs --tls-cert-file and --tls-private-key-file (TLS)")
    for flag, path in (
        ("--tls-cert-file", args.tls_cert_file),
        ("--tls-private-key-file", args.tls_private_key_file),
        ("--client-ca-file", args.client_ca_file),
        ("--token-auth-file", args.token_auth_file),
        ("--etcd-cafile", args.etcd_cafile),
        ("--etcd-certfile", args.etcd_certfile),
        ("--etcd-keyfile", args.etcd_keyfile),
        ("--kubelet-certificate-authority", args.kubelet_certificate_authority),
        ("--kubelet-client-certificate", args.kubelet_client_certificate),
        ("--kubelet-client-key", args.kubelet_client_key),
    ):
        if path and not os.path.isfile(path):
            p.error(f"{flag}: no such file: {path}")
    if args.token_auth_file:
        try:
            load_token_file(Path(args.token_auth_file))
        except TokenFileError as e:
            p.error(f"--token-auth-file: {e}")
    if args.rest_listen and not args.rest_plain_http:
        if not (args.tls_cert_file and args.tls_private_key_file):
            p.error(
                "--rest-listen needs --tls-cert-file and --tls-private-key-file "
                "(or --rest-plain-http for plain HTTP)"
            )
    return args


def _modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if not modes or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown mode(s) {', '.join(unknown) or '(none given)'}; use {', '.join(MODES)}"
        )
    return modes


def _cidr(text: str) -> str:
    try:
        IPRange.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a CIDR: {e}") from None
    return text


def _port_range(text: str) -> str:
    try:
        PortRange.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a port range lo-hi within 1-65535: {text!r}"
        ) from None
    return text


async def run(args: argparse.Namespace) -> None:
    opts = Options(
        etcd_servers=[s.strip() for s in args.etcd_servers.split(",") if s.strip()],
        listen=args.listen,
        watch_cache_size=args.watch_cache_size,
        bookmark_interval=args.bookmark_interval,
        compaction_interval=args.etcd_compaction_interval,
        etcd_healthcheck_period=args.etcd_healthcheck_period,
        etcd_healthcheck_timeout=args.etcd_healthcheck_timeout,
        namespace_sync_period=args.namespace_sync_period,
        default_not_ready_toleration_seconds=args.default_not_ready_toleration_seconds,
        default_unreachable_toleration_seconds=args.default_unreachable_toleration_seconds,
        service_cluster_ip_range=args.service_cluster_ip_range,
        service_node_port_range=args.service_node_port_range,
        rest_listen=args.rest_listen,
        tls_cert_file=args.tls_cert_file,
        tls_private_key_file=args.tls_private_key_file,
        rest_plain_http=args.rest_plain_http,
        client_ca_file=args.client_ca_file,
        token_auth_file=args.token_auth_file,
        anonymous_auth=args.anonymous_auth,
        authorization_modes=tuple(args.authorization_mode),
        etcd_cafile=args.etcd_cafile,
        etcd_certfile=args.etcd_certfile,
        etcd_keyfile=args.etcd_keyfile,
        kubelet_certificate_authority=args.kubelet_certificate_authority,
        kubelet_client_certificate=args.kubelet_client_certificate,
        kubelet_client_key=args.kubelet_client_key,
    )
    server = ApiServer(opts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    serve_metrics(args.metrics_listen)
    await stop.wait()
    log.info("shutting down")
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging(args.log_level)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; asyncio's loop also works
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))


if __name__ == "__main__":
    main()
