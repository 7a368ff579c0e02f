"""dsn-sms's hook implementations, loaded through the ``dsn`` entry point ``sms``.

The Twilio SDK is imported inside the hooks, so a broken SDK disables this plugin with
a reported error instead of stopping Django.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsn_core import hookimpl


@hookimpl
def dsn_clean_address(channel: str, address: str) -> str | None:
    """SMS contact points are stored in E.164, so an opt-out Twilio reports (always E.164)
    finds the contact point it names. An invalid number raises ``ValidationError``: the
    admin shows it on the address field, ``ContactPoint.save()`` raises it."""
    from .phone import CHANNEL, normalize_phone

    if channel != CHANNEL:
        return None
    return normalize_phone(address)


@hookimpl
def dsn_register_messengers(register: Callable[[type], None]) -> None:
    from .messenger import TwilioSmsMessenger

    register(TwilioSmsMessenger)


@hookimpl
def dsn_register_message_templates(register: Callable[[type], None]) -> None:
    from .message_templates import SmsEventTemplate

    register(SmsEventTemplate)


@hookimpl
def dsn_register_urls(register: Callable[[list[Any]], None]) -> None:
    from django.urls import path

    from .views import inbound, status_callback

    register(
        [
            path("status/", status_callback, name="status"),
            path("inbound/", inbound, name="inbound"),
        ]
    )
