"""Run Pinnace components as child processes (tests and ``pinnace up``).

Each component runs in its own process group with its output in a log file,
so stopping it (SIGTERM, then SIGKILL after a timeout) also stops whatever it
started. ``wait_serving`` polls the component's gRPC health service,
``wait_listening`` a plain TCP port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def in_netns(netns: str | None, argv: list[str]) -> list[str]:
    """``argv`` run inside network namespace ``netns`` (None: as it is)."""
    return argv if netns is None else ["ip", "netns", "exec", netns, *argv]


class ComponentError(RuntimeError):
    """A component did not start or exited early."""


class Component:
    """One component process: ``python -m <module> <args>``."""

    def __init__(
        self,
        name: str,
        module: str,
        args: Sequence[str],
        *,
        log_file: Path,
        env: dict[str, str] | None = None,
        netns: str | None = None,
    ) -> None:
        self.name = name
        self.module = module
        self.args = list(args)
        self.log_file = Path(log_file)
        self.env = env
        # A network namespace (``ip netns`` name) to run in: another machine.
        self.netns = netns
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> list[str]:
        return in_netns(self.netns, [sys.executable, "-m", self.module, *self.args])

    def start(self) -> Component:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **(self.env or {})},
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            tail = self.log_tail()
            raise ComponentError(
                f"{self.name} exited with code {self.proc.returncode}; log tail:\n{tail}"
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_serving(
        self,
        endpoint: str,
        timeout: float = 15.0,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        """Block until the gRPC health service at endpoint says SERVING
        (over TLS with ``credentials``, for a secure apiserver)."""
        deadline = time.monotonic() + timeout
        channel = (
            grpc.insecure_channel(endpoint)
            if credentials is None
            else grpc.secure_channel(endpoint, credentials)
        )
        with channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                self.check_alive()
                try:
                    resp = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=0.5)
                    if resp.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    raise ComponentError(
                        f"{self.name} not serving on {endpoint} after {timeout}s:\n{self.log_tail()}"
                    )
                time.sleep(0.05)

    def wait_listening(self, address: str, timeout: float = 15.0) -> None:
        """Block until something accepts TCP connections at host:port
        `address` (a listener without a gRPC health service)."""
        host, port = address.rsplit(":", 1)
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                with socket.create_connection((host, int(port)), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ComponentError(
                    f"{self.name} not listening on {address} after {timeout}s:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the process group, SIGKILL it after timeout."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(5)
        self._signal_group(signal.SIGKILL)  # anything the component left behind
        return self.proc.returncode

    def run_to_end(self, timeout: float = 30.0) -> int | None:
        """Start it and wait until it exits (a one-shot command); its exit code."""
        self.start()
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None

    def pause(self) -> None:
        """SIGSTOP the process group: a hang (it holds its sockets, answers nothing)."""
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after ``pause``."""
        self._signal_group(signal.SIGCONT)

    def kill(self) -> int | None:
        """SIGKILL the process (as a crash would), not its children."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        return self.proc.returncode


def apiserver(
    etcd_endpoint: str,
    port: int,
    log_file: Path,
    *extra: str,
    anonymous: bool = False,
    name: str = "apiserver",
) -> Component:
    """An apiserver component on 127.0.0.1:port, as secure as its ``extra``
    flags make it (LocalCluster and the tests give TLS and a client CA).
    ``anonymous``: requests without credentials are served and everything is
    allowed (``--anonymous-auth --authorization-mode AlwaysAllow``), as the
    benchmarks' bare apiservers on loopback run."""
    auth = ["--anonymous-auth", "--authorization-mode", "AlwaysAllow"] if anonymous else []
    return Component(
        name,
        "apiserver.main",
        ["--etcd-servers", etcd_endpoint, "--listen", f"127.0.0.1:{port}", *auth, *extra],
        log_file=log_file,
    )
