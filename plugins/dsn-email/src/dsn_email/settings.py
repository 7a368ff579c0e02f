"""``DSN["EMAIL"]``: the plugin's settings, read fresh on every use so tests can override.

Secrets (the SendGrid API key, the webhook's public key) belong here, read from the
environment in ``settings.py``; Backend rows hold only non-secret options.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from dsn_core.conf import get_plugin_setting
from dsn_core.exceptions import ConfigurationError

KEY = "EMAIL"

DEFAULTS: dict[str, Any] = {
    # "Name <address>" messages come from; Django's DEFAULT_FROM_EMAIL when unset.
    "FROM_EMAIL": None,
    # Where replies go, when not to FROM_EMAIL.
    "REPLY_TO": None,
    # SendGrid: an API key with the "Mail Send" permission.
    "SENDGRID_API_KEY": None,
    # The v3 API's base URL: the EU region's, or a fake in tests. No trailing slash.
    "SENDGRID_HOST": "https://api.sendgrid.com",
    # Seconds before a SendGrid call is given up (the SDK's default is to wait forever).
    "SENDGRID_TIMEOUT": 10.0,
    # The signed event webhook's verification key (Mail Settings → Event Webhook).
    "SENDGRID_WEBHOOK_PUBLIC_KEY": None,
    # Oldest event webhook request accepted, in seconds (replayed requests are refused).
    "SENDGRID_WEBHOOK_MAX_AGE": 600.0,
    # The site's address, for absolute links in messages ("https://shop.example.com").
    "SITE_URL": None,
    # Django email: the MAILERS alias (Django 6.1+); None uses the default mailer.
    "MAILER": None,
}


def setting(name: str) -> Any:
    """``DSN["EMAIL"][name]`` or its default."""
    return get_plugin_setting(KEY, name, DEFAULTS[name])


def number(name: str) -> float:
    value = setting(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigurationError(
            f"DSN['EMAIL'][{name!r}] must be a positive number of seconds, not {value!r}."
        )
    return float(value)


def from_email(options: dict[str, Any]) -> str:
    """The sender: the Backend's ``from_email`` option, else the setting, else Django's."""
    return str(options.get("from_email") or setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL)


def reply_to(options: dict[str, Any]) -> str | None:
    value = options.get("reply_to") or setting("REPLY_TO")
    return str(value) if value else None


def setting_name(name: str) -> str:
    """How error messages name a setting, so the fix is one search away."""
    return f"DSN['EMAIL']['{name}']"
