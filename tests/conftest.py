"""Suite-wide hooks.

* The tests never read the user's own Pinnace config or kubeconfig: a
  ``pinnace up`` of the user's (``~/.pinnace/config.json``, ``$KUBECONFIG``)
  would otherwise give the CLI's subprocesses its credentials. Each session
  gets an empty config path of its own.
* mypy runs beside the tests (tests/suitechecks.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.suitechecks import start_mypy, stop_mypy


def pytest_configure(config: pytest.Config) -> None:
    os.environ.pop("KUBECONFIG", None)
    os.environ.pop("PINNACE_SERVER", None)
    home = tempfile.mkdtemp(prefix="pinnace-test-config-")
    os.environ["PINNACE_CONFIG"] = os.path.join(home, "config.json")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.name == "test_mypy" for item in items):
        start_mypy(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_mypy(config)
    shutil.rmtree(Path(os.environ["PINNACE_CONFIG"]).parent, ignore_errors=True)
