"""``manage.py dsn telegram ...`` against the fake Bot API."""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import CommandError, call_command

from dsn_core.models import ContactPoint
from dsn_telegram.linking import make_token

from .conftest import telegram_settings
from .fake_telegram import error


def test_set_webhook_sends_url_and_secret(fake_telegram, capsys) -> None:
    call_command(
        "dsn", "telegram", "set-webhook", "--url", "https://shop.example/dsn/telegram/webhook/"
    )
    [call] = [c for c in fake_telegram.calls if c.method == "setWebhook"]
    assert call.form["url"] == "https://shop.example/dsn/telegram/webhook/"
    assert call.form["secret_token"] == "test-webhook-secret_123"
    assert json.loads(call.form["allowed_updates"]) == ["message", "my_chat_member"]
    assert "Webhook set" in capsys.readouterr().out


def test_set_webhook_uses_the_setting(fake_telegram, settings) -> None:
    telegram_settings(settings, WEBHOOK_URL="https://shop.example/hook/")
    call_command("dsn", "telegram", "set-webhook")
    [call] = [c for c in fake_telegram.calls if c.method == "setWebhook"]
    assert call.form["url"] == "https://shop.example/hook/"


def test_set_webhook_needs_url_and_secret(fake_telegram, settings) -> None:
    with pytest.raises(CommandError, match="--url"):
        call_command("dsn", "telegram", "set-webhook")
    telegram_settings(settings, WEBHOOK_SECRET="")
    with pytest.raises(CommandError, match="WEBHOOK_SECRET"):
        call_command("dsn", "telegram", "set-webhook", "--url", "https://x.example/")
    assert fake_telegram.calls == []


def test_set_webhook_refused_by_telegram(fake_telegram) -> None:
    fake_telegram.methods["setWebhook"] = error(
        400, "Bad Request: bad webhook: HTTPS url must be provided for webhook"
    )
    with pytest.raises(CommandError, match=r"(?i)https url must be provided"):
        call_command("dsn", "telegram", "set-webhook", "--url", "http://x.example/")


def test_missing_token_is_a_command_error(fake_telegram, settings) -> None:
    telegram_settings(settings, BOT_TOKEN="")
    with pytest.raises(CommandError, match="BOT_TOKEN"):
        call_command("dsn", "telegram", "delete-webhook")


def test_delete_webhook(fake_telegram) -> None:
    call_command("dsn", "telegram", "delete-webhook", "--drop-pending-updates")
    [call] = [c for c in fake_telegram.calls if c.method == "deleteWebhook"]
    assert call.form["drop_pending_updates"].lower() == "true"


def test_poll_once_links_a_chat_and_replies(fake_telegram, make_user, capsys) -> None:
    ann = make_user("ann")
    fake_telegram.updates = [
        {
            "update_id": 77,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 555, "type": "private"},
                "text": f"/start {make_token(ann)}",
            },
        }
    ]
    call_command("dsn", "telegram", "poll", "--once")
    assert list(ContactPoint.objects.values_list("address", "verified")) == [("555", True)]
    [reply] = fake_telegram.sent()
    assert reply.form["chat_id"] == "555"
    assert "ann" in reply.form["text"]
    polls = [c for c in fake_telegram.calls if c.method == "getUpdates"]
    assert polls[0].form["timeout"] == "0"
    assert polls[-1].form["offset"] == "78"  # confirms the handled update
    assert "Handled 1 update" in capsys.readouterr().out


def test_poll_reply_failure_is_reported_not_fatal(fake_telegram, make_user, capsys) -> None:
    from .fake_telegram import BLOCKED, respond

    fake_telegram.chats["555"] = respond(BLOCKED)
    fake_telegram.updates = [
        {
            "update_id": 5,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 555, "type": "private"},
                "text": f"/start {make_token(make_user('ann'))}",
            },
        }
    ]
    call_command("dsn", "telegram", "poll", "--once")
    assert ContactPoint.objects.get().address == "555"
    assert "Could not answer chat 555" in capsys.readouterr().err


def test_poll_with_a_webhook_set_explains(fake_telegram) -> None:
    fake_telegram.methods["getUpdates"] = error(
        409, "Conflict: can't use getUpdates method while webhook is active"
    )
    with pytest.raises(CommandError, match="delete-webhook"):
        call_command("dsn", "telegram", "poll", "--once")


def test_poll_unreachable_api(fake_telegram, settings, closed_port) -> None:
    telegram_settings(settings, API_URL=f"http://127.0.0.1:{closed_port}", TIMEOUT=1.0)
    with pytest.raises(CommandError, match="getUpdates"):
        call_command("dsn", "telegram", "poll", "--once")
