"""System checks for ``DSN["EMAIL"]``, run through each messenger's ``check()``.

A missing credential is an Error only while a Backend uses the messenger: installing the
plugin must not stop ``migrate`` on a site that has not configured it yet.
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error

from dsn_core.checks import backends_using
from dsn_core.exceptions import ConfigurationError

from . import options, settings
from .addresses import problem


def settings_checks() -> list[CheckMessage]:
    """dsn_email.E002/E003/E004: the plugin's settings. Run by one messenger only, so
    each problem is reported once."""
    messages: list[CheckMessage] = []
    try:
        configured = [
            ("FROM_EMAIL", settings.setting("FROM_EMAIL")),
            ("REPLY_TO", settings.setting("REPLY_TO")),
        ]
    except ConfigurationError as exc:
        return [Error(str(exc), hint="Make DSN['EMAIL'] a dict.", id="dsn_email.E004")]
    for name, value in configured:
        if value is not None and (why := problem(value)):
            messages.append(_address_error(name, settings.setting_name(name), why))
    return messages


def backend_checks(messenger_id: str) -> list[CheckMessage]:
    """The addresses the Backends using ``messenger_id`` will send from."""
    messages: list[CheckMessage] = []
    try:
        from_setting = settings.setting("FROM_EMAIL")
    except ConfigurationError:
        return []  # settings_checks() reports it
    why = None if from_setting else problem(django_settings.DEFAULT_FROM_EMAIL)
    if why and backends_using(messenger_id):
        messages.append(_address_error("FROM_EMAIL", "DEFAULT_FROM_EMAIL", why))
    return messages + _option_checks(messenger_id)


def sendgrid_checks(messenger_id: str) -> list[CheckMessage]:
    """dsn_email.E001 (no API key while a Backend uses SendGrid), E004 (bad timeout),
    E005 (a webhook key that does not load)."""
    messages = backend_checks(messenger_id)
    users = backends_using(messenger_id)
    try:
        key = settings.setting("SENDGRID_API_KEY")
        settings.number("SENDGRID_TIMEOUT")
        settings.number("SENDGRID_WEBHOOK_MAX_AGE")
    except ConfigurationError as exc:
        messages.append(Error(str(exc), hint="Use a number of seconds.", id="dsn_email.E004"))
        return messages
    if users and not key:
        messages.append(
            Error(
                f"Backend(s) {', '.join(users)} send through SendGrid, but "
                f"{settings.setting_name('SENDGRID_API_KEY')} is not set.",
                hint="Create an API key with the Mail Send permission in SendGrid (Settings "
                "→ API Keys) and read it from the environment in settings.py: "
                "DSN['EMAIL']['SENDGRID_API_KEY'] = os.environ['SENDGRID_API_KEY'].",
                id="dsn_email.E001",
            )
        )
    return messages + webhook_key_checks()


def webhook_key_checks() -> list[CheckMessage]:
    """dsn_email.E005: a set webhook key that does not load refuses every request."""
    from .webhook_key import verifier

    key = settings.setting("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if not key:
        return []
    try:
        verifier(str(key))
    except ValueError as exc:
        return [
            Error(
                f"{settings.setting_name('SENDGRID_WEBHOOK_PUBLIC_KEY')} is not a usable "
                f"public key: {exc}. Every event webhook request is refused.",
                hint="Copy the Verification Key from SendGrid (Settings → Mail Settings → "
                "Event Webhook, Signed Event Webhook Requests) as shown, or as PEM.",
                id="dsn_email.E005",
            )
        ]
    return []


def mailer_checks(messenger_id: str) -> list[CheckMessage]:
    """dsn_email.E007: a MAILER alias Django does not know, once a Backend needs it."""
    from .mailers import mailer_problem

    try:
        why = mailer_problem()
    except ConfigurationError:
        return []  # settings_checks() reports it
    if why is None or not backends_using(messenger_id):
        return []
    return [
        Error(
            f"{why}.",
            hint="Name an alias of settings.MAILERS (Django 6.1+), or remove the setting "
            "to use the default mailer.",
            id="dsn_email.E007",
        )
    ]


def _option_checks(messenger_id: str) -> list[CheckMessage]:
    from django.db import DatabaseError

    from dsn_core.models import Backend

    messages: list[CheckMessage] = []
    try:
        rows = list(
            Backend.objects.filter(messenger=messenger_id, enabled=True).values_list(
                "name", "options"
            )
        )
    except DatabaseError:
        return []
    for name, backend_options in rows:
        for key in ("from_email", "reply_to"):
            value = backend_options.get(key) if isinstance(backend_options, dict) else None
            if value and (why := problem(value)):
                messages.append(
                    _address_error(key.upper(), f"the option {key!r} of Backend {name}", why)
                )
        for why in options.problems(backend_options, sendgrid=messenger_id == "sendgrid"):
            messages.append(
                Error(
                    f"Backend {name}: the option {why}.",
                    hint="Fix the Backend's options in the admin (see dsn-email's README, "
                    "Backend options).",
                    id="dsn_email.E006",
                )
            )
    return messages


def _address_error(name: str, where: str, why: str) -> Error:
    return Error(
        f"{where} is not a valid email address: {why}.",
        hint='Use "user@example.com" or "Name <user@example.com>".',
        id="dsn_email.E002" if name == "FROM_EMAIL" else "dsn_email.E003",
    )
