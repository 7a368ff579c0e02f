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


@pytest.fixture
def dsn_subscribe(db: None) -> Callable[..., Any]:
    """``dsn_subscribe(model, users, messenger=..., template=..., options=...)``: a Trigger
    on ``verb`` (``post_save``) of ``model``, a Backend and a Subscription for ``users``.

    Save a ``model`` inside ``django_capture_on_commit_callbacks(execute=True)`` (or in a
    ``transaction=True`` test) and the deliveries run through the configured TASKS.
    """
    from dsn_core.models import Backend, Subscription, Trigger

    def make(
        model: Any,
        users: Any = (),
        *,
        messenger: str,
        template: str = "event_summary",
        options: dict[str, Any] | None = None,
        verb: str = "post_save",
    ) -> Any:
        trigger = Trigger.save_by_model(verb, action_object=model)
        backend = Backend.objects.create(
            name=f"{messenger}/{template}",
            messenger=messenger,
            message_template=template,
            options=options or {},
        )
        subscription = Subscription.objects.create(trigger=trigger)
        subscription.backends.add(backend)
        subscription.receiver_users.add(*users)
        return subscription

    return make
