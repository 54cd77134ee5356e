"""pinnace-scheduler: binds pending pods to nodes.

Modules, lower layers first:

* ``resources``  pod requests and node allocatable as integers (pure).
* ``nodeinfo``   ``PodInfo`` (what the scheduler precomputes about a pod) and
  ``NodeInfo`` (a node plus the pods on it and what they use).
* ``framework``  plugin interfaces (filter, score), ``Status`` and ``Framework``
  which runs them.
* ``plugins/``   the filters and scores (Kubernetes' default profile, light).
* ``failure``    the "0/3 nodes are available: ..." message.
* ``cache``      nodes and pods, with pods assumed between choice and bind.
* ``queue``      active / backoff / unschedulable sub-queues.
* ``scheduler``  the loop: pop, filter, score, assume, bind asynchronously.
* ``main``       flags, informers, leader election, health and metrics.
"""
