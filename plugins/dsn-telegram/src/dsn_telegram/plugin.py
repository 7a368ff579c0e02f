"""dsn-telegram's hooks; python-telegram-bot is imported only when a message is sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsn_core import hookimpl


@hookimpl
def dsn_register_messengers(register: Callable[[type], None]) -> None:
    from .messenger import TelegramBroadcastMessenger, TelegramMessenger

    register(TelegramMessenger)
    register(TelegramBroadcastMessenger)


@hookimpl
def dsn_register_message_templates(register: Callable[[type], None]) -> None:
    from .message_templates import TelegramEventTemplate

    register(TelegramEventTemplate)


@hookimpl
def dsn_register_urls(register: Callable[[list[Any]], None]) -> None:
    from django.urls import path

    from .views import link, webhook

    register([path("webhook/", webhook, name="webhook"), path("link/", link, name="link")])


@hookimpl
def dsn_register_commands(register: Callable[[Any], None]) -> None:
    from .cli import telegram

    register(telegram)
