"""System checks for ``DSN["SMS"]``, run through the messenger's ``check()``.

| id | what |
|---|---|
| dsn_sms.E001 | ``DSN["SMS"]`` is not a dict, or a value has the wrong type or form |
| dsn_sms.E002 | ``ACCOUNT_SID`` or ``AUTH_TOKEN`` missing or blank while a Backend uses it |
| dsn_sms.E003 | neither ``FROM_NUMBER`` nor ``MESSAGING_SERVICE_SID`` while a Backend uses it |
| dsn_sms.E004 | ``FROM_NUMBER`` is not a valid number in E.164 |
| dsn_sms.W001 | ``ACCOUNT_SID`` / ``MESSAGING_SERVICE_SID`` do not look like Twilio SIDs |
| dsn_sms.W002 | no ``BASE_URL`` while a Backend uses the messenger: no status callbacks |

Missing credentials are an error only when an enabled Backend uses the messenger:
installing the plugin must never stop ``migrate`` or a site that does not send SMS yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from numbers import Real
from urllib.parse import urlsplit

from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ValidationError

from dsn_core.checks import backends_using
from dsn_core.conf import user_settings
from dsn_core.exceptions import ConfigurationError

from . import settings as sms_settings
from .phone import is_e164, normalize_phone

TEXT_SETTINGS = (
    "ACCOUNT_SID",
    "AUTH_TOKEN",
    "FROM_NUMBER",
    "MESSAGING_SERVICE_SID",
    "BASE_URL",
    "API_BASE",
    "DEFAULT_REGION",
)
_SID = {"ACCOUNT_SID": "AC", "MESSAGING_SERVICE_SID": "MG"}


def _section() -> Mapping[str, object] | None:
    try:
        section = user_settings().get(sms_settings.KEY, {})
    except ConfigurationError:
        return {}  # settings.DSN itself is wrong: core's dsn.E001 says so
    return section if isinstance(section, Mapping) else None


def check_settings(messenger_id: str) -> list[CheckMessage]:
    section = _section()
    if section is None:
        return [
            Error(
                "settings.DSN['SMS'] must be a dict.",
                hint="DSN['SMS'] = {'ACCOUNT_SID': ..., 'AUTH_TOKEN': ..., 'FROM_NUMBER': ...}",
                id="dsn_sms.E001",
            )
        ]
    messages = _types(section)
    if messages:
        return messages
    messages += _formats()
    backends = backends_using(messenger_id)
    if not backends:
        return messages
    used_by = f"Backend(s) {', '.join(backends)} send SMS through {messenger_id!r}"
    credentials = {
        "ACCOUNT_SID": sms_settings.account_sid(),
        "AUTH_TOKEN": sms_settings.auth_token(),
    }
    missing = [name for name, value in credentials.items() if not value]  # blank = missing
    if missing:
        messages.append(
            Error(
                f"{used_by}, but DSN['SMS'] lacks {' and '.join(missing)} (unset or blank).",
                hint="Copy the Account SID and Auth Token from the Twilio console; read the "
                "token from the environment, e.g. os.environ['TWILIO_AUTH_TOKEN'].",
                id="dsn_sms.E002",
            )
        )
    if not sms_settings.from_number() and not sms_settings.messaging_service_sid():
        messages.append(
            Error(
                f"{used_by}, but neither DSN['SMS']['FROM_NUMBER'] nor "
                "DSN['SMS']['MESSAGING_SERVICE_SID'] is set.",
                hint="Set FROM_NUMBER to a Twilio number in E.164 ('+14155550100') or "
                "MESSAGING_SERVICE_SID to a Messaging Service ('MG...').",
                id="dsn_sms.E003",
            )
        )
    if not sms_settings.base_url():
        messages.append(
            Warning(
                f"{used_by}, but DSN['SMS']['BASE_URL'] is not set: Twilio cannot report "
                "delivery (status callbacks), so deliveries stay 'sent'.",
                hint="Set DSN['SMS']['BASE_URL'] to the site's public root, e.g. "
                "'https://shop.example.com'.",
                id="dsn_sms.W002",
            )
        )
    return messages


def _types(section: Mapping[str, object]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for name in TEXT_SETTINGS:
        value = section.get(name)
        if value is not None and not isinstance(value, str):
            messages.append(
                Error(
                    f"DSN['SMS'][{name!r}] must be a string, not {type(value).__name__}.",
                    hint=f"Set DSN['SMS'][{name!r}] to a string, or remove it.",
                    id="dsn_sms.E001",
                )
            )
    timeout = section.get("TIMEOUT")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, Real) or timeout <= 0
    ):
        messages.append(
            Error(
                f"DSN['SMS']['TIMEOUT'] must be a number of seconds > 0, not {timeout!r}.",
                hint=f"The default is {sms_settings.DEFAULT_TIMEOUT:g}.",
                id="dsn_sms.E001",
            )
        )
    for name in ("BASE_URL", "API_BASE"):
        value = section.get(name)
        if isinstance(value, str) and value:
            url = urlsplit(value)
            if url.scheme not in ("http", "https") or not url.netloc:
                messages.append(
                    Error(
                        f"DSN['SMS'][{name!r}] must be an http(s) URL, not {value!r}.",
                        hint="For example 'https://shop.example.com' (no path needed).",
                        id="dsn_sms.E001",
                    )
                )
    return messages


def _formats() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    number = sms_settings.from_number()
    if number and not is_e164(number):
        try:
            hint = f"Write it as {normalize_phone(number)!r}."
        except ValidationError:
            hint = "Use the Twilio number in E.164: '+' then country code and number."
        messages.append(
            Error(
                f"DSN['SMS']['FROM_NUMBER'] is {number!r}, which is not a valid phone number "
                "in E.164 format.",
                hint=hint,
                id="dsn_sms.E004",
            )
        )
    region = sms_settings.default_region()
    if region and not _known_region(region):
        messages.append(
            Error(
                f"DSN['SMS']['DEFAULT_REGION'] is {region!r}, which is not a region code.",
                hint="Use an ISO 3166 alpha-2 code such as 'US' or 'GB', or remove it.",
                id="dsn_sms.E001",
            )
        )
    for name, prefix in _SID.items():
        value = sms_settings.raw(name)
        if isinstance(value, str) and value and not re.fullmatch(f"{prefix}[0-9a-f]{{32}}", value):
            messages.append(
                Warning(
                    f"DSN['SMS'][{name!r}] does not look like a Twilio SID "
                    f"('{prefix}' and 32 hex digits); Twilio will refuse it (error 20003 for "
                    "the Account SID).",
                    hint="Copy it again from the Twilio console.",
                    id="dsn_sms.W001",
                )
            )
    return messages


def _known_region(region: str) -> bool:
    import phonenumbers

    return region in phonenumbers.SUPPORTED_REGIONS
