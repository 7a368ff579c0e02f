"""Test helpers for DSN sites and plugins.

- :class:`OutboxMessenger` keeps messages in :data:`outbox`, like Django's locmem email
  backend keeps ``mail.outbox``.
- :func:`register_plugin` registers a plugin object for the duration of a ``with`` block.
- :mod:`dsn_core.testing.contract` is the messenger contract every channel plugin's tests
  subclass; :mod:`dsn_core.testing.pytest_plugin` publishes fixtures (``dsn_outbox``,
  ``dsn_plugin``) to pytest through the ``pytest11`` entry point.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dsn_core import hookimpl
from dsn_core.messages import Outcome, OutgoingMessage, PermanentFailure, Sent, TransientFailure
from dsn_core.messengers import BaseMessenger

#: Every message the :class:`OutboxMessenger` "sent", in order. Clear it between tests.
outbox: list[OutgoingMessage] = []

_ids = itertools.count(1)


class OutboxMessenger(BaseMessenger):
    """Appends to :data:`outbox` instead of sending.

    Backend options let a test script outcomes: ``{"fail": "permanent"}`` or
    ``{"fail": "transient", "retry_after": 30}`` fail every message; ``{"fail_for":
    ["alice"]}`` fails only those usernames; ``{"raise": "boom"}`` raises.
    """

    id = "dsn_test_outbox"
    label = "Test outbox (keeps messages in memory)"
    channel = "console"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        if "raise" in self.options:
            raise RuntimeError(str(self.options["raise"]))
        fail = self.options.get("fail")
        fail_for = set(self.options.get("fail_for", ()))
        outcomes: list[Outcome] = []
        for outgoing in messages:
            user = outgoing.recipient.user
            name = user.get_username() if user is not None else None
            if fail == "permanent" or name in fail_for:
                outcomes.append(PermanentFailure("scripted permanent failure"))
            elif fail == "transient":
                outcomes.append(
                    TransientFailure("scripted transient failure", self.options.get("retry_after"))
                )
            else:
                outbox.append(outgoing)
                outcomes.append(Sent(provider_id=f"outbox-{next(_ids)}"))
        return outcomes


class BroadcastOutboxMessenger(OutboxMessenger):
    """Like :class:`OutboxMessenger` but broadcast: one message per event, no user."""

    id = "dsn_test_broadcast_outbox"
    label = "Test broadcast outbox"
    broadcast = True


class _TestingPlugin:
    @hookimpl
    def dsn_register_messengers(self, register: Callable[[type], None]) -> None:
        register(OutboxMessenger)
        register(BroadcastOutboxMessenger)


testing_plugin = _TestingPlugin()


@contextmanager
def register_plugin(plugin: Any, name: str | None = None) -> Iterator[Any]:
    """Register ``plugin`` (a module or object with hookimpls) for the block's duration.

    The plugin goes through the same validation and isolation as an installed one:
    its load errors end up in ``plugin_manager.plugins[name].errors``.
    """
    from dsn_core.plugins import plugin_manager

    plugin_name = name or getattr(plugin, "__name__", None) or f"test-plugin-{id(plugin)}"
    info = plugin_manager.add_plugin(plugin, plugin_name)
    try:
        yield info
    finally:
        plugin_manager.remove_plugin(plugin_name)
