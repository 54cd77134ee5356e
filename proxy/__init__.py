"""pinnace-proxy: the service proxy, one per machine (Kubernetes' kube-proxy
in nftables mode).

* ``servicemap`` (pure): Services + EndpointSlices → the service ports to
  program, each with the endpoints that get its traffic;
* ``rules`` (pure): those (and the ``ProxyConfig``) → one nft script that
  replaces the table ``ip pinnace`` in one transaction;
* ``nft`` and ``routes``: applying the script, the safety routes;
* ``app``: informers and the sync loop; ``main``: flags and the process.
"""
