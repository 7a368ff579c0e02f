"""One email connection for a batch, on Django 5.2 and 6.x, warning-free on both.

Django 6.1 adds ``MAILERS`` (``django.core.mail.mailers``) and deprecates
``get_connection()``; 5.2 and 6.0 only have ``get_connection()``. The plugin setting
``DSN["EMAIL"]["MAILER"]`` names a ``MAILERS`` alias on 6.1+.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from dsn_core.exceptions import TransientDeliveryError

from .settings import setting, setting_name


def has_mailers() -> bool:
    return hasattr(mail, "mailers")


def mailer_problem() -> str | None:
    """Why ``DSN["EMAIL"]["MAILER"]`` cannot be used, or None (dsn_email.E007)."""
    alias = setting("MAILER")
    if alias is None:
        return None
    where = f"{setting_name('MAILER')} = {alias!r}"
    if not has_mailers():
        return f"{where} needs Django 6.1's MAILERS setting; remove it to use EMAIL_BACKEND"
    known = list(getattr(django_settings, "MAILERS", None) or {})
    if not isinstance(alias, str) or alias not in known:
        return f"{where} is not in settings.MAILERS ({', '.join(known) or 'none'})"
    return None


def open_connection() -> Any:
    """An email backend instance for one batch (not yet opened).

    A MAILER that names no mailer is transient: the deliveries wait for the setting to
    be fixed (dsn_email.E007 says how) instead of failing for good.
    """
    if problem := mailer_problem():
        raise TransientDeliveryError(f"{problem} (dsn_email.E007).")
    if has_mailers():
        handler: Any = mail.mailers  # type: ignore[attr-defined,unused-ignore]
        try:
            return handler[setting("MAILER") or "default"]
        except (KeyError, ImproperlyConfigured) as exc:  # a MAILERS entry that is broken
            raise TransientDeliveryError(f"cannot use the mailer: {exc}") from exc
    return mail.get_connection()
