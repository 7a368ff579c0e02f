"""One email connection for a batch, on Django 5.2 and 6.x, warning-free on both.

Django 6.1 adds ``MAILERS`` (``django.core.mail.mailers``) and deprecates
``get_connection()``; 5.2 and 6.0 only have ``get_connection()``. The plugin setting
``DSN["EMAIL"]["MAILER"]`` names a ``MAILERS`` alias on 6.1+.
"""

from __future__ import annotations

from typing import Any

from django.core import mail

from dsn_core.exceptions import ConfigurationError

from .settings import setting, setting_name


def has_mailers() -> bool:
    return hasattr(mail, "mailers")


def open_connection() -> Any:
    """An email backend instance for one batch (not yet opened)."""
    alias = setting("MAILER")
    if has_mailers():
        handler: Any = mail.mailers  # type: ignore[attr-defined,unused-ignore]
        return handler[alias or "default"]
    if alias:
        raise ConfigurationError(
            f"{setting_name('MAILER')} = {alias!r} needs Django 6.1's MAILERS setting; "
            "remove it to use EMAIL_BACKEND."
        )
    return mail.get_connection()
