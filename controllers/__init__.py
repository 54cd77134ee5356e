"""pinnace-controller-manager: every workload controller in one process.

Inside a controller's package, a file's name says what it holds, the same
in every controller:

* ``controller.py``: the informer wiring, the handlers (which only map an
  object to a key) and ``sync(key)``, the orchestration of one sync;
* ``plan.py``: pure decisions, computed from cached objects and a given
  time, tested table by table (which pods to create or delete, which
  revision to roll to, what to do with a dependent);
* ``sync.py``: the API side that carries those decisions out (creates,
  deletes, patches, with expectations and events);
* ``util.py``: small pure helpers; other files hold one named concern each
  (``history.py``, ``status.py``, ``progress.py``, ``rolling.py``, ...).

Shared by the controllers: ``claim.py`` (adoption and release of pods and
ControllerRevisions), ``podcontrol.py`` (creating and deleting pods),
``disruption.py`` (mark DisruptionTarget, then delete), ``podutil.py`` (pod
predicates: active, terminating, ready, available), ``selectors.py`` (owners'
selectors, parsed once per generation), ``expectations.py``,
``controllerref.py`` and ``nodeutil.py``.
"""
