"""kubelet.envvars: the Service variables (Kubernetes' envvars.FromServices
and getServiceEnvVarMap), and how container_environment merges them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kubelet.env import ConfigError, container_environment
from kubelet.envvars import env_name, from_services, links_enabled, service_env
from pinnace.api.core.v1 import pod_pb2, service_pb2
from pinnace.client.fake import FakeClient
from pinnace.client.informer import Informer
from pinnace.machinery import codec
from pinnace.machinery.timeutil import FakeClock
from tests.unit.kubelet.kubelet_fakes import make_state


def _svc(name: str, ip: str, ports: list[dict[str, Any]], ns: str = "ns") -> service_pb2.Service:
    return codec.from_dict(
        service_pb2.Service,
        {"metadata": {"name": name, "namespace": ns}, "spec": {"clusterIP": ip, "ports": ports}},
    )


def _pod(ns: str = "ns", **spec: Any) -> pod_pb2.Pod:
    return codec.from_dict(
        pod_pb2.Pod,
        {
            "metadata": {"name": "p", "namespace": ns},
            "spec": {"containers": [{"name": "c", "command": ["true"]}], **spec},
        },
    )


@pytest.mark.parametrize(
    ("name", "want"),
    [
        pytest.param("web", "WEB", id="plain"),
        pytest.param("my-svc", "MY_SVC", id="dash"),
        pytest.param("a-b-c1", "A_B_C1", id="several-dashes"),
    ],
)
def test_env_name(name: str, want: str) -> None:
    assert env_name(name) == want


@pytest.mark.parametrize(
    ("service", "want"),
    [
        pytest.param(
            _svc("redis-primary", "10.96.0.11", [{"port": 6379, "protocol": "TCP"}]),
            [
                ("REDIS_PRIMARY_SERVICE_HOST", "10.96.0.11"),
                ("REDIS_PRIMARY_SERVICE_PORT", "6379"),
                ("REDIS_PRIMARY_PORT", "tcp://10.96.0.11:6379"),
                ("REDIS_PRIMARY_PORT_6379_TCP", "tcp://10.96.0.11:6379"),
                ("REDIS_PRIMARY_PORT_6379_TCP_PROTO", "tcp"),
                ("REDIS_PRIMARY_PORT_6379_TCP_PORT", "6379"),
                ("REDIS_PRIMARY_PORT_6379_TCP_ADDR", "10.96.0.11"),
            ],
            id="one-unnamed-port",
        ),
        pytest.param(
            _svc(
                "web",
                "10.96.0.5",
                [
                    {"name": "http", "port": 80, "protocol": "TCP"},
                    {"name": "dns-udp", "port": 53, "protocol": "UDP"},
                ],
            ),
            [
                ("WEB_SERVICE_HOST", "10.96.0.5"),
                ("WEB_SERVICE_PORT", "80"),
                ("WEB_SERVICE_PORT_HTTP", "80"),
                ("WEB_SERVICE_PORT_DNS_UDP", "53"),
                ("WEB_PORT", "tcp://10.96.0.5:80"),
                ("WEB_PORT_80_TCP", "tcp://10.96.0.5:80"),
                ("WEB_PORT_80_TCP_PROTO", "tcp"),
                ("WEB_PORT_80_TCP_PORT", "80"),
                ("WEB_PORT_80_TCP_ADDR", "10.96.0.5"),
                ("WEB_PORT_53_UDP", "udp://10.96.0.5:53"),
                ("WEB_PORT_53_UDP_PROTO", "udp"),
                ("WEB_PORT_53_UDP_PORT", "53"),
                ("WEB_PORT_53_UDP_ADDR", "10.96.0.5"),
            ],
            id="named-ports-and-udp",
        ),
        pytest.param(
            _svc("v6", "fd00::1", [{"port": 443}]),
            [
                ("V6_SERVICE_HOST", "fd00::1"),
                ("V6_SERVICE_PORT", "443"),
                ("V6_PORT", "tcp://[fd00::1]:443"),
                ("V6_PORT_443_TCP", "tcp://[fd00::1]:443"),
                ("V6_PORT_443_TCP_PROTO", "tcp"),
                ("V6_PORT_443_TCP_PORT", "443"),
                ("V6_PORT_443_TCP_ADDR", "fd00::1"),
            ],
            id="ipv6-and-default-protocol",
        ),
        pytest.param(_svc("headless", "None", [{"port": 80}]), [], id="headless-skipped"),
        pytest.param(_svc("noip", "", [{"port": 80}]), [], id="no-cluster-ip-skipped"),
    ],
)
def test_from_services(service: service_pb2.Service, want: list[tuple[str, str]]) -> None:
    assert from_services([service]) == want


_MASTER = _svc("kubernetes", "10.96.0.1", [{"name": "https", "port": 443}], ns="default")
_OWN = _svc("my-svc", "10.96.0.20", [{"port": 80}])
_OTHER_NS = _svc("elsewhere", "10.96.0.30", [{"port": 80}], ns="other")
_OWN_KUBERNETES = _svc("kubernetes", "10.96.0.40", [{"port": 443}])


@pytest.mark.parametrize(
    ("services", "enable_links", "want_hosts"),
    [
        pytest.param(
            [_MASTER, _OWN, _OTHER_NS],
            True,
            {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "MY_SVC_SERVICE_HOST": "10.96.0.20"},
            id="own-namespace-and-master",
        ),
        pytest.param(
            [_MASTER, _OWN, _OTHER_NS],
            False,
            {"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
            id="links-disabled-keeps-master",
        ),
        pytest.param([_OWN], False, {}, id="links-disabled-no-master"),
        pytest.param(
            [_MASTER, _OWN_KUBERNETES],
            True,
            {"KUBERNETES_SERVICE_HOST": "10.96.0.40"},
            id="own-kubernetes-wins",
        ),
        pytest.param(
            [_OWN_KUBERNETES, _MASTER],
            True,
            {"KUBERNETES_SERVICE_HOST": "10.96.0.40"},
            id="own-kubernetes-wins-any-order",
        ),
        pytest.param(
            [_MASTER, _OWN_KUBERNETES],
            False,
            {"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
            id="links-disabled-master-kubernetes",
        ),
    ],
)
def test_service_env_picks_services(
    services: list[service_pb2.Service], enable_links: bool, want_hosts: dict[str, str]
) -> None:
    env = service_env(services, namespace="ns", enable_links=enable_links)
    assert {k: v for k, v in env.items() if k.endswith("_SERVICE_HOST")} == want_hosts


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        pytest.param({}, True, id="unset-is-true"),
        pytest.param({"enableServiceLinks": True}, True, id="true"),
        pytest.param({"enableServiceLinks": False}, False, id="false"),
    ],
)
def test_links_enabled(spec: dict[str, Any], want: bool) -> None:
    assert links_enabled(_pod(**spec)) is want


def test_container_environment_own_variables_win_and_expand(tmp_path: Path) -> None:
    pod = _pod(
        containers=[
            {
                "name": "c",
                "command": ["true"],
                "env": [
                    {"name": "MY_SVC_SERVICE_PORT", "value": "8080"},
                    {
                        "name": "URL",
                        "value": "http://$(MY_SVC_SERVICE_HOST):$(MY_SVC_SERVICE_PORT)",
                    },
                ],
            }
        ]
    )
    env = container_environment(
        pod,
        pod.spec.containers[0],
        host_ip="127.0.0.1",
        pod_ip="127.0.0.1",
        pod_dir=tmp_path,
        services=[_MASTER, _OWN],
    ).env
    assert env["MY_SVC_SERVICE_HOST"] == "10.96.0.20"
    assert env["MY_SVC_SERVICE_PORT"] == "8080"
    assert env["URL"] == "http://10.96.0.20:8080"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"


def test_container_environment_links_disabled(tmp_path: Path) -> None:
    pod = _pod(enableServiceLinks=False)
    env = container_environment(
        pod,
        pod.spec.containers[0],
        host_ip="127.0.0.1",
        pod_ip="127.0.0.1",
        pod_dir=tmp_path,
        services=[_MASTER, _OWN],
    ).env
    assert "MY_SVC_SERVICE_HOST" not in env
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"


async def test_build_environment_waits_for_the_service_informer(tmp_path: Path) -> None:
    """As Kubernetes: no environment until the Services were listed once (a
    ConfigError, retried), so a pod started right after a kubelet restart
    still gets KUBERNETES_SERVICE_HOST; then the informer's Services."""
    client = FakeClient(_MASTER, _OWN)
    state = make_state(tmp_path, _pod(), clock=FakeClock(), client=client)
    informer = Informer(client, "services")
    state.ctx.services = informer
    cs = state.apps[0]
    with pytest.raises(ConfigError, match="services have not yet been read at least once"):
        state.build_environment(cs)
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_synced(timeout=5)
        env = state.build_environment(cs).env
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert env["MY_SVC_SERVICE_HOST"] == "10.96.0.20"
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
