"""System checks name the setting and the fix; missing credentials are errors only when
an enabled Backend uses the messenger, so installing the plugin never breaks migrate."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error, Warning, run_checks

from dsn_core.models import Backend
from dsn_sms.messenger import TwilioSmsMessenger

from .conftest import sms_settings


def ids() -> list[str]:
    return [message.id for message in TwilioSmsMessenger.check() if message.id]


@pytest.fixture
def used(db: None) -> Backend:
    return Backend.objects.create(
        name="texts", messenger="twilio_sms", message_template="sms_event"
    )


def test_configured_site_is_clean(used: Backend) -> None:
    assert TwilioSmsMessenger.check() == []


def test_nothing_configured_and_unused_is_fine(db: None, settings: Any) -> None:
    settings.DSN = {"STRICT": True}
    assert TwilioSmsMessenger.check() == []


@pytest.mark.parametrize("missing", ["ACCOUNT_SID", "AUTH_TOKEN"])
def test_missing_credentials_with_a_backend(used: Backend, settings: Any, missing: str) -> None:
    sms_settings(settings, **{missing: None})
    [message] = TwilioSmsMessenger.check()
    assert isinstance(message, Error)
    assert message.id == "dsn_sms.E002"
    assert missing in message.msg
    assert "texts" in message.msg
    assert message.hint
    assert "environment" in message.hint


def test_disabled_backend_does_not_need_credentials(used: Backend, settings: Any) -> None:
    Backend.objects.update(enabled=False)
    sms_settings(settings, ACCOUNT_SID=None, AUTH_TOKEN=None, FROM_NUMBER=None, BASE_URL=None)
    assert TwilioSmsMessenger.check() == []


def test_missing_sender(used: Backend, settings: Any) -> None:
    sms_settings(settings, FROM_NUMBER=None)
    assert ids() == ["dsn_sms.E003"]
    sms_settings(settings, MESSAGING_SERVICE_SID="MG" + "0" * 32)
    assert ids() == []


def test_missing_base_url_warns(used: Backend, settings: Any) -> None:
    sms_settings(settings, BASE_URL=None)
    [message] = TwilioSmsMessenger.check()
    assert isinstance(message, Warning)
    assert message.id == "dsn_sms.W002"
    assert "BASE_URL" in message.msg


@pytest.mark.parametrize(
    ("number", "hint"),
    [("+1 415 555 0100", "'+14155550100'"), ("555-0100", "E.164"), ("+999", "E.164")],
)
def test_malformed_from_number_is_an_error(db: None, settings: Any, number: str, hint: str) -> None:
    sms_settings(settings, FROM_NUMBER=number)
    [message] = TwilioSmsMessenger.check()
    assert isinstance(message, Error)
    assert message.id == "dsn_sms.E004"
    assert "FROM_NUMBER" in message.msg
    assert message.hint
    assert hint in message.hint


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCOUNT_SID", 123),
        ("AUTH_TOKEN", ["x"]),
        ("TIMEOUT", 0),
        ("TIMEOUT", "10"),
        ("TIMEOUT", True),
        ("BASE_URL", "sms.example.com"),
        ("API_BASE", "ftp://127.0.0.1"),
        ("DEFAULT_REGION", "XX"),
    ],
)
def test_wrong_types_are_errors(db: None, settings: Any, name: str, value: Any) -> None:
    sms_settings(settings, **{name: value})
    messages = TwilioSmsMessenger.check()
    assert [m.id for m in messages] == ["dsn_sms.E001"]
    assert name in messages[0].msg


def test_section_must_be_a_dict(db: None, settings: Any) -> None:
    settings.DSN = {"STRICT": True, "SMS": "twilio"}
    [message] = TwilioSmsMessenger.check()
    assert message.id == "dsn_sms.E001"


@pytest.mark.parametrize("name", ["ACCOUNT_SID", "MESSAGING_SERVICE_SID"])
def test_sid_shape_is_checked(db: None, settings: Any, name: str) -> None:
    sms_settings(settings, **{name: "not-a-sid"})
    [message] = TwilioSmsMessenger.check()
    assert isinstance(message, Warning)
    assert message.id == "dsn_sms.W001"
    assert name in message.msg


def test_runs_through_djangos_check_framework(used: Backend, settings: Any) -> None:
    sms_settings(settings, AUTH_TOKEN=None)
    assert "dsn_sms.E002" in [message.id for message in run_checks()]


@pytest.mark.parametrize("missing", ["ACCOUNT_SID", "AUTH_TOKEN"])
def test_blank_credentials_count_as_missing(used: Backend, settings: Any, missing: str) -> None:
    sms_settings(settings, **{missing: "  \t "})
    messages = [m for m in TwilioSmsMessenger.check() if m.id == "dsn_sms.E002"]
    assert len(messages) == 1
    assert missing in messages[0].msg
    assert "blank" in messages[0].msg
