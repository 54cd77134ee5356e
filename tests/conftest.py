"""Suite-wide hooks: mypy runs beside the tests (tests/suitechecks.py)."""

from __future__ import annotations

import pytest

from tests.suitechecks import start_mypy, stop_mypy


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.name == "test_mypy" for item in items):
        start_mypy(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_mypy(config)
