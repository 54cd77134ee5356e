"""Probes and lifecycle hooks: exec, httpGet, tcpSocket, grpc.

``run_handler`` runs one handler once and says Success, Failure or Unknown
(Kubernetes' probe results; Unknown means "no information", and leads to
no action):

* exec: the command (not in a shell) with the container's environment and
  working directory, in its own session; success iff it exits 0; killed
  (its whole group) at the timeout, which is a failure.
* httpGet: ``GET scheme://host:port/path`` (host defaults to the pod IP)
  with the probe's headers; success iff the status is >= 200 and < 400.
* tcpSocket: success iff a connection opens (an immediate close counts).
* grpc: the standard health service; success iff SERVING.

``ProbeWorker`` runs a probe every ``periodSeconds`` after
``initialDelaySeconds`` and turns raw results into a state with the
thresholds (``ProbeState``, pure): it becomes success after
``successThreshold`` successes in a row, failure after
``failureThreshold`` failures in a row. Its state starts as failure for
readiness and startup probes (not ready, not started) and success for
liveness probes, and ``on_change`` is called on every change (for
liveness and startup probes also on every further ``failureThreshold``
failures in a row while failed). Unknown results change nothing. The
worker's ``sleep`` is injectable, so its timing is testable without
sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import signal
import ssl as ssl_mod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kubelet.runtime import command_in_cgroups, command_in_netns
from pinnace.api.core.v1 import container_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery.intstr import intstr_value

__all__ = ["Outcome", "ProbeState", "ProbeWorker", "Result", "run_handler"]

log = logging.getLogger(__name__)
USER_AGENT = "kube-probe/1.33"
MAX_OUTPUT = 10 * 1024


class Result(enum.Enum):
    SUCCESS = "Success"
    FAILURE = "Failure"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Outcome:
    result: Result
    message: str = ""


def resolve_port(port: meta_pb2.IntOrString, container: container_pb2.Container) -> int:
    """A probe port: a number, or the name of one of the container's ports."""
    value = intstr_value(port)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        for p in container.ports:
            if p.name == value:
                return p.container_port
        raise ValueError(f'port "{value}" is not a named port of container "{container.name}"')
    raise ValueError("no port given")


async def run_exec(
    command: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float,
    netns: str = "",
    user: Sequence[str] = (),
    cgroups: Sequence[Path] = (),
) -> Outcome:
    """Run ``command`` (in the network namespace ``netns``, "" = the host's;
    behind ``user``, the setpriv prefix that switches to the container's
    user; in the container's ``cgroups``)."""
    try:
        argv = command_in_netns(
            command,
            netns=netns,
            path=env.get("PATH", ""),
            workdir=cwd,
            prefix=user,
            resolve=bool(cgroups),
        )
        argv = command_in_cgroups(argv, cgroups)
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env),
            cwd=str(cwd),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as e:
        return Outcome(Result.FAILURE, f"exec {command[0]!r}: {e.strerror or e}")
    try:
        async with asyncio.timeout(timeout):
            out, _ = await proc.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        return Outcome(Result.FAILURE, f"command {command!r} timed out after {timeout:g}s")
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    text = out[-MAX_OUTPUT:].decode(errors="replace")
    if proc.returncode == 0:
        return Outcome(Result.SUCCESS, text)
    return Outcome(
        Result.FAILURE,
        f"command {command!r} exited with {proc.returncode}: {text}".rstrip(": \n"),
    )


async def run_http_get(
    action: container_pb2.HTTPGetAction, *, host: str, port: int, timeout: float
) -> Outcome:
    scheme = (action.scheme or "HTTP").upper()
    target = action.host or host
    path = action.path or "/"
    url = f"{scheme.lower()}://{target}:{port}{path}"
    headers = {"Host": f"{target}:{port}", "User-Agent": USER_AGENT, "Accept": "*/*"}
    for h in action.http_headers:
        headers[h.name] = h.value
    try:
        async with asyncio.timeout(timeout):
            ssl = None
            if scheme == "HTTPS":
                ssl = ssl_mod.create_default_context()
                ssl.check_hostname = False
                ssl.verify_mode = ssl_mod.CERT_NONE
            reader, writer = await asyncio.open_connection(target, port, ssl=ssl)
            try:
                head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                writer.write(f"GET {path} HTTP/1.1\r\n{head}Connection: close\r\n\r\n".encode())
                await writer.drain()
                line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
    except TimeoutError:
        return Outcome(Result.FAILURE, f'Get "{url}": context deadline exceeded')
    except OSError as e:
        return Outcome(Result.FAILURE, f'Get "{url}": dial tcp {target}:{port}: {e.strerror or e}')
    parts = line.decode(errors="replace").split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return Outcome(Result.FAILURE, f'Get "{url}": malformed HTTP response {line[:80]!r}')
    code = int(parts[1])
    if 200 <= code < 400:
        return Outcome(Result.SUCCESS)
    return Outcome(Result.FAILURE, f"HTTP probe failed with statuscode: {code}")


async def run_tcp(*, host: str, port: int, timeout: float) -> Outcome:
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    except TimeoutError:
        return Outcome(Result.FAILURE, f"dial tcp {host}:{port}: i/o timeout")
    except OSError as e:
        return Outcome(Result.FAILURE, f"dial tcp {host}:{port}: {e.strerror or e}")
    return Outcome(Result.SUCCESS)


async def run_grpc(action: container_pb2.GRPCAction, *, host: str, timeout: float) -> Outcome:
    target = f"{host}:{action.port}"
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            resp = await stub.Check(
                health_pb2.HealthCheckRequest(service=action.service), timeout=timeout
            )
        except grpc.RpcError as e:
            return Outcome(Result.FAILURE, f"failed to connect service {target!r}: {e.code().name}")
    if resp.status == health_pb2.HealthCheckResponse.SERVING:
        return Outcome(Result.SUCCESS)
    return Outcome(Result.FAILURE, f"service unhealthy (responded with {resp.status})")


async def run_handler(
    handler: container_pb2.Probe | container_pb2.LifecycleHandler,
    *,
    container: container_pb2.Container,
    env: Mapping[str, str],
    cwd: Path,
    pod_ip: str,
    timeout: float,
    netns: str = "",
    user: Sequence[str] = (),
    cgroups: Sequence[Path] = (),
) -> Outcome:
    """Run a Probe's or a LifecycleHandler's action once (an exec inside the
    pod's network namespace ``netns``, as the container's ``user``, in its
    ``cgroups``)."""
    try:
        if handler.HasField("exec"):
            if not handler.exec.command:
                return Outcome(Result.FAILURE, "exec: no command")
            return await run_exec(
                list(handler.exec.command),
                env=env,
                cwd=cwd,
                timeout=timeout,
                netns=netns,
                user=user,
                cgroups=cgroups,
            )
        if handler.HasField("http_get"):
            port = resolve_port(handler.http_get.port, container)
            return await run_http_get(handler.http_get, host=pod_ip, port=port, timeout=timeout)
        if handler.HasField("tcp_socket"):
            port = resolve_port(handler.tcp_socket.port, container)
            host = handler.tcp_socket.host or pod_ip
            return await run_tcp(host=host, port=port, timeout=timeout)
        if isinstance(handler, container_pb2.Probe) and handler.HasField("grpc"):
            return await run_grpc(handler.grpc, host=pod_ip, timeout=timeout)
        if isinstance(handler, container_pb2.LifecycleHandler) and handler.HasField("sleep"):
            await asyncio.sleep(min(handler.sleep.seconds, timeout))
            return Outcome(Result.SUCCESS)
    except ValueError as e:
        return Outcome(Result.FAILURE, str(e))
    return Outcome(Result.UNKNOWN, "no handler")


@dataclass
class ProbeState:
    """A probe's state from its results and thresholds (see the module docstring)."""

    kind: str  # liveness, readiness or startup
    success_threshold: int = 1
    failure_threshold: int = 3
    ok: bool = False
    successes: int = 0
    failures: int = 0
    last_message: str = ""

    @classmethod
    def for_probe(cls, kind: str, probe: container_pb2.Probe) -> ProbeState:
        return cls(
            kind=kind,
            success_threshold=max(probe.success_threshold or 1, 1),
            failure_threshold=max(probe.failure_threshold or 3, 1),
            ok=kind == "liveness",
        )

    def observe(self, out: Outcome) -> bool:
        """Count one result; True when ``on_change`` is due."""
        if out.result is Result.SUCCESS:
            self.successes += 1
            self.failures = 0
            if not self.ok and self.successes >= self.success_threshold:
                self.ok = True
                return True
        elif out.result is Result.FAILURE:
            self.failures += 1
            self.successes = 0
            self.last_message = out.message
            if self.failures >= self.failure_threshold and (self.ok or self.kind != "readiness"):
                self.ok = False
                self.failures = 0 if self.kind != "readiness" else self.failures
                return True
        return False


class ProbeWorker:
    """Runs one probe of one container instance (see the module docstring)."""

    def __init__(
        self,
        kind: str,  # liveness, readiness or startup
        probe: container_pb2.Probe,
        run: Callable[[float], Awaitable[Outcome]],
        on_change: Callable[[str, bool, str], None],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.kind = kind
        self.probe = probe
        self.state = ProbeState.for_probe(kind, probe)
        self._run = run
        self._on_change = on_change
        self._sleep = sleep

    @property
    def ok(self) -> bool:
        return self.state.ok

    @property
    def period(self) -> float:
        return float(max(self.probe.period_seconds or 10, 1))

    @property
    def timeout(self) -> float:
        return float(max(self.probe.timeout_seconds or 1, 1))

    async def run(self) -> None:
        await self._sleep(float(max(self.probe.initial_delay_seconds, 0)))
        while True:
            try:
                out = await self._run(self.timeout)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a probe bug must not kill the worker
                log.exception("%s probe crashed", self.kind)
                out = Outcome(Result.UNKNOWN, str(e))
            if self.state.observe(out):
                self._on_change(self.kind, self.state.ok, out.message)
            await self._sleep(self.period)
