"""System checks: Errors only when a Backend uses the messenger; hints name the fix."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from dsn_core.models import Backend
from dsn_telegram.messenger import TelegramBroadcastMessenger, TelegramMessenger

from .conftest import telegram_settings


def ids(messages) -> list[str]:
    return sorted(message.id for message in messages)


@pytest.fixture
def used(db):
    def use(messenger: str) -> Backend:
        return Backend.objects.create(
            name=f"via {messenger}", messenger=messenger, message_template="telegram_event"
        )

    return use


def test_configured_settings_pass(used, settings) -> None:
    telegram_settings(settings, CHAT_ID="-1001")
    used("telegram")
    used("telegram_broadcast")
    assert TelegramMessenger.check() == []
    assert TelegramBroadcastMessenger.check() == []
    call_command("check")


def test_nothing_configured_and_unused_is_silent(db, settings) -> None:
    settings.DSN = {"STRICT": True}
    assert TelegramMessenger.check() == []
    assert TelegramBroadcastMessenger.check() == []
    call_command("check")  # installing the plugin never breaks check or migrate


def test_missing_token_is_an_error_when_used(used, settings) -> None:
    telegram_settings(settings, BOT_TOKEN="")
    used("telegram")
    [message] = [m for m in TelegramMessenger.check() if m.id == "dsn_telegram.E001"]
    assert message.is_serious()
    assert "via telegram" in message.msg
    assert "@BotFather" in str(message.hint)


def test_malformed_token_warns_when_unused_and_errors_when_used(used, settings) -> None:
    telegram_settings(settings, BOT_TOKEN="not-a-token")
    [warning] = TelegramMessenger.check()
    assert warning.id == "dsn_telegram.E002"
    assert not warning.is_serious()
    used("telegram")
    [error] = TelegramMessenger.check()
    assert error.is_serious()
    assert "/token" in str(error.hint)


def test_broadcast_needs_chat_id_when_used(used) -> None:
    assert TelegramBroadcastMessenger.check() == []
    used("telegram_broadcast")
    assert ids(TelegramBroadcastMessenger.check()) == ["dsn_telegram.E004"]


def test_linking_settings_warn_when_used(used, settings) -> None:
    telegram_settings(settings, BOT_USERNAME="", WEBHOOK_SECRET="has spaces")
    assert ids(TelegramMessenger.check()) == ["dsn_telegram.W002"]  # a set secret is checked
    used("telegram")
    messages = TelegramMessenger.check()
    assert ids(messages) == ["dsn_telegram.W001", "dsn_telegram.W002"]
    assert not any(m.is_serious() for m in messages)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEOUT", "10"),
        ("TIMEOUT", 0),
        ("MESSAGES_PER_SECOND", True),
        ("CONNECTIONS", -1),
        ("BOT_USERNAME", 12),
        ("CHAT_ID", 1.5),
    ],
)
def test_wrong_types(used, settings, name, value) -> None:
    telegram_settings(settings, **{name: value})
    [warning] = [m for m in TelegramMessenger.check() if m.id == "dsn_telegram.E003"]
    assert not warning.is_serious()
    assert name in warning.msg
    used("telegram")
    [error] = [m for m in TelegramMessenger.check() if m.id == "dsn_telegram.E003"]
    assert error.is_serious()


def test_section_not_a_dict(used, settings) -> None:
    settings.DSN = {**settings.DSN, "TELEGRAM": "token"}
    used("telegram")
    assert "dsn_telegram.E003" in ids(TelegramMessenger.check())


@pytest.mark.parametrize("name", ["BOT_TOKEN", "WEBHOOK_SECRET"])
def test_wrong_type_never_prints_a_secret(used, settings, name) -> None:
    secret = b"123456789:AAsecret-value-that-must-not-print"
    telegram_settings(settings, **{name: secret})
    used("telegram")
    [error] = [m for m in TelegramMessenger.check() if m.id == "dsn_telegram.E003"]
    assert "bytes" in error.msg
    assert "secret-value" not in error.msg
    assert "secret-value" not in str(error.hint)


def test_wrong_types_are_reported_once_for_both_messengers(used, settings) -> None:
    telegram_settings(settings, TIMEOUT="10", CHAT_ID="-1001")
    assert [m.id for m in TelegramBroadcastMessenger.check()] == []
    [warning] = [m for m in TelegramMessenger.check() if m.id == "dsn_telegram.E003"]
    assert not warning.is_serious()
    used("telegram_broadcast")  # only the broadcast messenger is used: still an Error
    [error] = [m for m in TelegramMessenger.check() if m.id == "dsn_telegram.E003"]
    assert error.is_serious()
    assert "via telegram_broadcast" in error.msg
    assert [m.id for m in TelegramBroadcastMessenger.check()] == []
