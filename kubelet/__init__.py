"""The Pinnace kubelet: registers a Node, runs the pods bound to it as local
processes, reports their status and serves their logs.

Modules by concern: ``main`` (flags), ``app`` (wiring), ``node``
(registration, status, lease), ``manager`` (the pods of this node,
admission, orphans), ``podworker`` (a package: one task per pod, one
module per concern), ``runtime`` / ``hollow`` (processes, or none),
``probes``, ``status`` (pure pod status), ``env``, ``volumes``, ``logs``,
``admission``, ``server`` (HTTP logs / exec), ``paths`` (the disk layout).
"""
