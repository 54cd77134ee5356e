"""Cluster DNS: a small DNS server for the cluster domain (Services,
EndpointSlices and pod addresses, as CoreDNS's kubernetes plugin answers),
forwarding every other name to the host's resolvers. The kubelet hosts it.

* ``wire``: DNS messages on the wire (RFC 1035, EDNS0).
* ``records``: the cluster zone, answered from the informer stores.
* ``upstream``: forwarding, and the host's resolv.conf.
* ``server``: ``ClusterDns``, the UDP and TCP server.
"""

from .server import ClusterDns
from .upstream import host_upstreams

__all__ = ["ClusterDns", "host_upstreams"]
