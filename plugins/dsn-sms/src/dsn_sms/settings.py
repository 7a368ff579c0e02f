"""Typed accessors over ``settings.DSN["SMS"]``, read fresh so tests can override them.

Secrets (``AUTH_TOKEN``) come only from here, never from a Backend row or a log line.
Accessors never raise on a wrong type: they answer a safe value and ``checks.py`` names
the setting and the fix, so a typo cannot stop Django from starting.
"""

from __future__ import annotations

from typing import Any

from dsn_core.conf import get_plugin_setting
from dsn_core.exceptions import ConfigurationError

KEY = "SMS"

#: Seconds one Twilio API call may take (connect and read) when ``TIMEOUT`` is unset.
DEFAULT_TIMEOUT = 10.0


def raw(name: str, default: Any = None) -> Any:
    """``DSN["SMS"][name]``, or ``default`` when unset or when ``DSN["SMS"]`` is no dict."""
    try:
        return get_plugin_setting(KEY, name, default)
    except ConfigurationError:
        return default


def _text(name: str) -> str:
    value = raw(name)
    return value.strip() if isinstance(value, str) else ""


def account_sid() -> str:
    return _text("ACCOUNT_SID")


def auth_token() -> str:
    return _text("AUTH_TOKEN")


def from_number() -> str:
    return _text("FROM_NUMBER")


def messaging_service_sid() -> str:
    return _text("MESSAGING_SERVICE_SID")


def base_url() -> str:
    """The site's public root (``https://example.com``), without a trailing slash."""
    return _text("BASE_URL").rstrip("/")


def api_base() -> str:
    """Where Twilio's API is reached instead of ``https://*.twilio.com`` ("" = Twilio)."""
    return _text("API_BASE").rstrip("/")


def default_region() -> str | None:
    """Region (ISO 3166 alpha-2) for numbers typed without ``+country`` ("" = none)."""
    return _text("DEFAULT_REGION").upper() or None


def timeout() -> float:
    value = raw("TIMEOUT", DEFAULT_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return DEFAULT_TIMEOUT
    return float(value)
