"""dsn-email's hooks: the entry point ``email`` in the ``dsn`` group names this module.

Everything that needs the ``sendgrid`` SDK imports it inside a function, so a broken SDK
install is reported when SendGrid is used, and the Django-email messenger still works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsn_core import hookimpl


@hookimpl
def dsn_register_messengers(register: Callable[[type], None]) -> None:
    from .django_messenger import DjangoEmailMessenger
    from .sendgrid_messenger import SendGridMessenger

    register(SendGridMessenger)
    register(DjangoEmailMessenger)


@hookimpl
def dsn_register_message_templates(register: Callable[[type], None]) -> None:
    from .templates import PlainEmailTemplate

    register(PlainEmailTemplate)


@hookimpl
def dsn_register_urls(register: Callable[[list[Any]], None]) -> None:
    from django.urls import path

    from .webhook import sendgrid_events

    register([path("sendgrid/events/", sendgrid_events, name="sendgrid-events")])
