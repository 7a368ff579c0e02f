"""Typed accessors over ``settings.DSN["TELEGRAM"]``: secrets come from settings only.

A value of the wrong type falls back to its default here, so a typo never crashes a
worker; the system checks (:mod:`dsn_telegram.checks`) report it with the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dsn_core.conf import get_plugin_setting
from dsn_core.exceptions import ConfigurationError

KEY = "TELEGRAM"

#: Every setting and its default. Rates are Telegram's documented limits.
DEFAULTS: Mapping[str, Any] = {
    # From @BotFather ("123456:ABC-DEF..."). Secret: read it from the environment.
    "BOT_TOKEN": "",
    # The bot's username without "@", for https://t.me/<BOT_USERNAME>?start=<token> links.
    "BOT_USERNAME": "",
    # Sent by Telegram in X-Telegram-Bot-Api-Secret-Token with every webhook update.
    "WEBHOOK_SECRET": "",
    # The public https URL of /dsn/telegram/webhook/, for `dsn telegram set-webhook`.
    "WEBHOOK_URL": "",
    # The group or channel the broadcast messenger posts to (-100... or "@channelname").
    "CHAT_ID": "",
    # The Bot API server: a self-hosted telegram-bot-api, or a fake one in tests.
    "API_URL": "https://api.telegram.org",
    # Seconds for every Bot API call (connect, write, read, waiting for a connection).
    "TIMEOUT": 10.0,
    # Messages per second for the whole bot, and per private chat.
    "MESSAGES_PER_SECOND": 30.0,
    "CHAT_MESSAGES_PER_SECOND": 1.0,
    # Messages per minute to one group or channel (a chat id below zero).
    "GROUP_MESSAGES_PER_MINUTE": 20.0,
    # The longest (seconds) one send() call waits for rate-limit slots: a message whose
    # slot comes later fails transiently with that retry-after; the outbox sends it later.
    "MAX_WAIT": 30.0,
    # Requests in flight at once: a slow chat holds one connection, not the batch.
    "CONNECTIONS": 8,
    # Seconds a chat-linking deep link stays valid.
    "LINK_MAX_AGE": 3600,
}

STRINGS = ("BOT_TOKEN", "BOT_USERNAME", "WEBHOOK_SECRET", "WEBHOOK_URL", "API_URL")
#: Number settings and the smallest value that makes sense (strictly above when 0).
NUMBERS: Mapping[str, float] = {
    "TIMEOUT": 0,
    "MESSAGES_PER_SECOND": 0,
    "CHAT_MESSAGES_PER_SECOND": 0,
    "GROUP_MESSAGES_PER_MINUTE": 0,
    "MAX_WAIT": 0,
    "CONNECTIONS": 0,
    "LINK_MAX_AGE": 0,
}

TOKEN_RE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]{20,}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


def raw(name: str) -> Any:
    """The configured value (or default); ``DSN["TELEGRAM"]`` not being a dict counts as unset."""
    try:
        return get_plugin_setting(KEY, name, DEFAULTS[name])
    except ConfigurationError:
        return DEFAULTS[name]


def text(name: str) -> str:
    value = raw(name)
    return value.strip() if isinstance(value, str) else str(DEFAULTS[name])


def number(name: str) -> float:
    value = raw(name)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > NUMBERS[name]:
        return float(value)
    return float(DEFAULTS[name])


def chat_id_setting() -> str:
    """``CHAT_ID`` as text: settings may hold it as an int (``-1001234567890``)."""
    value = raw("CHAT_ID")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def api_url() -> str:
    return text("API_URL").rstrip("/") or str(DEFAULTS["API_URL"])


def type_errors() -> list[str]:
    """One sentence per setting of the wrong type or out of range."""
    try:
        get_plugin_setting(KEY, "BOT_TOKEN")
    except ConfigurationError as exc:
        return [str(exc)]
    errors: list[str] = []
    for name in STRINGS:
        value = raw(name)
        if not isinstance(value, str):
            # The type only: a misplaced token or secret must not end up in check output.
            errors.append(
                f"DSN['TELEGRAM'][{name!r}] must be a string, not {type(value).__name__}."
            )
    chat = raw("CHAT_ID")
    if isinstance(chat, bool) or not isinstance(chat, str | int):
        errors.append(
            f"DSN['TELEGRAM']['CHAT_ID'] must be a chat id or '@name', not {type(chat).__name__}."
        )
    for name, least in NUMBERS.items():
        value = raw(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= least:
            errors.append(
                f"DSN['TELEGRAM'][{name!r}] must be a number above {least:g}, not {value!r} "
                f"(the default is {DEFAULTS[name]})."
            )
    return errors
