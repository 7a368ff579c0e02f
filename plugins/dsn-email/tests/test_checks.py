"""System checks for DSN["EMAIL"]: each names the setting and the fix."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

from dsn_core.models import Backend
from tests.conftest import email_settings

pytestmark = pytest.mark.django_db


def email_checks() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in run_checks(include_deployment_checks=False):
        if str(message.id).startswith("dsn_email."):
            found.setdefault(str(message.id), []).append(f"{message.msg} | {message.hint}")
    return found


def test_a_configured_site_has_no_messages() -> None:
    Backend.objects.create(name="Mail", messenger="sendgrid", message_template="email_plain")
    assert email_checks() == {}


def test_missing_api_key_is_an_error_only_once_a_backend_uses_sendgrid(settings: Any) -> None:
    email_settings(settings, SENDGRID_API_KEY="")
    assert email_checks() == {}  # installed but unused: migrate must still run
    Backend.objects.create(name="Mail", messenger="sendgrid", message_template="email_plain")
    Backend.objects.create(name="Off", messenger="sendgrid", message_template="x", enabled=False)
    (message,) = email_checks()["dsn_email.E001"]
    assert "Backend(s) Mail send through SendGrid" in message
    assert "DSN['EMAIL']['SENDGRID_API_KEY'] is not set" in message
    assert "os.environ['SENDGRID_API_KEY']" in message


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("FROM_EMAIL", "not an address", "dsn_email.E002"),
        ("FROM_EMAIL", "a@example.com, b@example.com", "dsn_email.E002"),
        ("REPLY_TO", "help@", "dsn_email.E003"),
    ],
)
def test_invalid_addresses_in_settings(settings: Any, name: str, value: str, check_id: str) -> None:
    email_settings(settings, **{name: value})
    (message,) = email_checks()[check_id]  # reported once, not once per messenger
    assert f"DSN['EMAIL']['{name}'] is not a valid email address" in message
    assert 'Use "user@example.com" or "Name <user@example.com>"' in message


def test_invalid_from_option_on_a_backend(settings: Any) -> None:
    Backend.objects.create(
        name="Orders",
        messenger="django_email",
        message_template="email_plain",
        options={"from_email": "orders at example"},
    )
    (message,) = email_checks()["dsn_email.E002"]
    assert "the option 'from_email' of Backend Orders is not a valid email address" in message


def test_default_from_email_is_checked_when_the_plugin_setting_is_unset(settings: Any) -> None:
    email_settings(settings, FROM_EMAIL=None)
    settings.DEFAULT_FROM_EMAIL = "webmaster"
    assert email_checks() == {}
    Backend.objects.create(name="Mail", messenger="django_email", message_template="email_plain")
    (message,) = email_checks()["dsn_email.E002"]
    assert message.startswith("DEFAULT_FROM_EMAIL is not a valid email address")


@pytest.mark.parametrize("value", ["ten", 0, True])
def test_timeout_must_be_a_positive_number(settings: Any, value: Any) -> None:
    email_settings(settings, SENDGRID_TIMEOUT=value)
    (message,) = email_checks()["dsn_email.E004"]
    assert "DSN['EMAIL']['SENDGRID_TIMEOUT'] must be a positive number of seconds" in message


def test_email_section_that_is_not_a_dict(settings: Any) -> None:
    settings.DSN = {**settings.DSN, "EMAIL": "smtp"}
    messages = email_checks()["dsn_email.E004"]
    assert any("settings.DSN['EMAIL'] must be a dict" in m for m in messages)
