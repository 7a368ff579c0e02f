"""pytest fixtures for DSN, loaded through the ``pytest11`` entry point.

Imports nothing from Django at module level: pytest loads this in every project where
dsn-core is installed, configured for Django or not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest


@pytest.fixture
def dsn_outbox() -> Iterator[list[Any]]:
    """Messages sent through the test outbox messenger (``dsn_test_outbox``), emptied first.

    The messenger is registered for the test, so a Backend may name it.
    """
    from dsn_core.testing import outbox, register_plugin, testing_plugin

    outbox.clear()
    with register_plugin(testing_plugin, name="dsn_core.testing"):
        yield outbox
    outbox.clear()


@pytest.fixture
def dsn_plugin() -> Iterator[Callable[..., Any]]:
    """``dsn_plugin(obj, name=None)`` registers a plugin object until the test ends."""
    from dsn_core.testing import register_plugin

    with ExitStack() as stack:

        def add(plugin: Any, name: str | None = None) -> Any:
            return stack.enter_context(register_plugin(plugin, name))

        yield add
