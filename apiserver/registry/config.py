"""Registry settings chosen by the apiserver's flags, passed to every strategy.

The settings are frozen and handed to each ``Strategy`` when the apiserver
builds its resources, so two apiservers in one process (as the tests run
them) never share a setting, and nothing is changed at module level after
import.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegistryConfig:
    """What differs between apiservers in how objects are admitted.

    ``not_ready_toleration_seconds`` and ``unreachable_toleration_seconds``
    are the tolerationSeconds of the NoExecute tolerations that Kubernetes'
    DefaultTolerationSeconds admission adds to every new pod
    (--default-not-ready-toleration-seconds,
    --default-unreachable-toleration-seconds; Kubernetes' default 300).

    ``service_cluster_ip_range`` (a CIDR) and ``service_node_port_range``
    ("lo-hi") are the ranges Services' clusterIPs and nodePorts are drawn
    from (--service-cluster-ip-range, kubeadm's default 10.96.0.0/12;
    --service-node-port-range, Kubernetes' default 30000-32767).
    """

    not_ready_toleration_seconds: int = 300
    unreachable_toleration_seconds: int = 300
    service_cluster_ip_range: str = "10.96.0.0/12"
    service_node_port_range: str = "30000-32767"


DEFAULT_CONFIG = RegistryConfig()
