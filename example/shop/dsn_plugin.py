"""The shop's DSN plugin: a module listed in ``DSN["PLUGINS"]`` in the settings.

A plugin kept inside a project works like an installed one, which names the same kind
of module in its ``dsn`` entry point: DSN calls its hooks with a ``register`` callable,
checks each class, and reports a broken plugin instead of stopping the site.
"""

from __future__ import annotations

from collections.abc import Callable

import dsn_core
from dsn_core.message_templates import BaseMessageTemplate

from .message_templates import NewOrderTemplate, OrderShippedTemplate


@dsn_core.hookimpl
def dsn_register_message_templates(
    register: Callable[[type[BaseMessageTemplate]], None],
) -> None:
    register(NewOrderTemplate)
    register(OrderShippedTemplate)
