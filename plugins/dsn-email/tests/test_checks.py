"""System checks for DSN["EMAIL"]: each names the setting and the fix."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
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


def test_webhook_public_key_is_loaded(settings: Any) -> None:
    email_settings(
        settings, SENDGRID_WEBHOOK_PUBLIC_KEY="MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEnot-a-key"
    )
    (message,) = email_checks()["dsn_email.E005"]
    assert "DSN['EMAIL']['SENDGRID_WEBHOOK_PUBLIC_KEY'] is not a usable public key" in message
    assert "Mail Settings → Event Webhook" in message


def test_a_pem_webhook_key_passes_the_check(settings: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    email_settings(settings, SENDGRID_WEBHOOK_PUBLIC_KEY=pem.decode())
    assert email_checks() == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"unsubscribe_group_id": "12"}, "'unsubscribe_group_id' must be a whole number"),
        ({"categories": [f"c{n}" for n in range(10)]}, "'categories' allows at most 9"),
        ({"categories": [1]}, "'categories' must be a list of strings"),
        ({"template_id": ["d-1"]}, "'template_id' must be a string"),
        ({"one_click_unsubscribe": 1}, "'one_click_unsubscribe' must be true or false"),
    ],
)
def test_backend_options_of_the_wrong_type(options: dict[str, Any], message: str) -> None:
    Backend.objects.create(
        name="Mail", messenger="sendgrid", message_template="email_plain", options=options
    )
    (found,) = email_checks()["dsn_email.E006"]
    assert f"Backend Mail: the option {message}" in found


def test_one_click_option_is_checked_for_django_email_too() -> None:
    Backend.objects.create(
        name="Mail",
        messenger="django_email",
        message_template="email_plain",
        options={"one_click_unsubscribe": "yes", "categories": 5},  # categories: SendGrid's
    )
    (found,) = email_checks()["dsn_email.E006"]
    assert "'one_click_unsubscribe' must be true or false" in found


def test_unknown_mailer_alias(settings: Any) -> None:
    email_settings(settings, MAILER="bulk")
    assert email_checks() == {}  # no Backend sends Django email yet
    Backend.objects.create(name="Mail", messenger="django_email", message_template="email_plain")
    (found,) = email_checks()["dsn_email.E007"]
    assert found.startswith("DSN['EMAIL']['MAILER'] = 'bulk'")
    if hasattr(mail, "mailers"):
        assert "is not in settings.MAILERS (default)" in found
    else:
        assert "needs Django 6.1's MAILERS setting" in found


@pytest.mark.skipif(not hasattr(mail, "mailers"), reason="MAILERS is Django 6.1+")
def test_a_configured_mailer_alias_passes(settings: Any) -> None:
    settings.MAILERS = {**settings.MAILERS, "bulk": settings.MAILERS["default"]}
    email_settings(settings, MAILER="bulk")
    Backend.objects.create(name="Mail", messenger="django_email", message_template="email_plain")
    assert email_checks() == {}
