"""``manage.py dsn telegram ...`` against the fake Bot API."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command

from dsn_core.models import ContactPoint
from dsn_telegram.linking import make_token

from .conftest import telegram_settings
from .fake_telegram import error
from .settings import BOT_TOKEN


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


# HTTP clients: every command closes the ones it opened (Bot.shutdown() does nothing for
# a bot that never ran getMe, so the CLI closes its request objects itself).


@pytest.fixture
def http_clients(monkeypatch) -> list[httpx.AsyncClient]:
    """Every httpx.AsyncClient created (python-telegram-bot builds one per request object)."""
    created: list[httpx.AsyncClient] = []

    class Recording(httpx.AsyncClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(httpx, "AsyncClient", Recording)
    return created


def start(update_id: int, token: str, chat: int = 555) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "text": f"/start {token}",
        },
    }


@pytest.mark.parametrize(
    "args",
    [
        ["delete-webhook"],
        ["set-webhook", "--url", "https://shop.example/hook/"],
        ["poll", "--once"],
        ["poll", "--rounds", "3", "--poll-timeout", "0"],
    ],
    ids=["delete-webhook", "set-webhook", "poll-once", "poll-rounds"],
)
def test_commands_close_their_http_clients(fake_telegram, make_user, http_clients, args) -> None:
    fake_telegram.updates = [start(1, make_token(make_user("ann")))]
    call_command("dsn", "telegram", *args)
    assert fake_telegram.calls
    assert http_clients
    assert all(client.is_closed for client in http_clients)


def test_refused_command_closes_its_http_clients(fake_telegram, http_clients) -> None:
    fake_telegram.methods["deleteWebhook"] = error(401, "Unauthorized")
    with pytest.raises(CommandError):
        call_command("dsn", "telegram", "delete-webhook")
    assert http_clients
    assert all(client.is_closed for client in http_clients)


def test_sending_closes_its_http_clients(fake_telegram, http_clients) -> None:
    from dsn_core.messages import OutgoingMessage, Recipient, RenderedMessage
    from dsn_telegram.messenger import TelegramMessenger

    message = OutgoingMessage(Recipient(None, "1"), RenderedMessage({"text": "x"}))
    TelegramMessenger({}).send([message])
    fake_telegram.methods["getMe"] = error(401, "Unauthorized")  # never initialised
    TelegramMessenger({}).send([message])
    assert len(http_clients) == 4
    assert all(client.is_closed for client in http_clients)


# Polling outside --once survives the network, with exponential backoff.


def test_poll_waits_out_network_errors_and_goes_on(fake_telegram, make_user, capsys) -> None:
    fake_telegram.queued["getUpdates"] = [error(502, "Bad Gateway")] * 3
    fake_telegram.updates = [start(9, make_token(make_user("ann")))]
    call_command(
        "dsn", "telegram", "poll", "--rounds", "4", "--poll-timeout", "0", "--retry-base", "0.01"
    )
    assert ContactPoint.objects.get().address == "555"
    err = capsys.readouterr().err
    assert [line.split("retrying in ")[1] for line in err.splitlines() if "retrying" in line] == [
        "0.01 s.",
        "0.02 s.",
        "0.04 s.",
    ]
    assert "Bad Gateway" in err
    polls = [c for c in fake_telegram.calls if c.method == "getUpdates"]
    assert polls[-1].form["offset"] == "10"  # confirmed when stopping


def test_poll_backoff_resets_after_a_success_and_is_capped(fake_telegram, capsys) -> None:
    from werkzeug import Response

    from dsn_telegram.cli import MAX_BACKOFF

    assert MAX_BACKOFF == 60
    fake_telegram.queued["getUpdates"] = [
        error(502, "Bad Gateway"),
        error(502, "Bad Gateway"),
        Response('{"ok": true, "result": []}', content_type="application/json"),
        error(503, "Service Unavailable"),
    ]
    call_command(
        "dsn", "telegram", "poll", "--rounds", "4", "--poll-timeout", "0", "--retry-base", "0.01"
    )
    waits = [line.split("retrying in ")[1] for line in capsys.readouterr().err.splitlines()]
    assert waits == ["0.01 s.", "0.02 s.", "0.01 s."]


def test_poll_waits_out_a_timeout(fake_telegram, settings, capsys) -> None:
    from .fake_telegram import slow

    telegram_settings(settings, TIMEOUT=0.3)
    fake_telegram.server.clear()
    calls = [0]

    def get_updates(request: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            slow(0.6)({})
        return fake_telegram.handle(request)

    fake_telegram.server.expect_request(re.compile(r"^/bot.*/getUpdates$")).respond_with_handler(
        get_updates
    )
    fake_telegram.server.expect_request(re.compile(r"^/bot.*")).respond_with_handler(
        fake_telegram.handle
    )
    call_command(
        "dsn", "telegram", "poll", "--rounds", "2", "--poll-timeout", "0", "--retry-base", "0.01"
    )
    assert "TimedOut" in capsys.readouterr().err
    assert calls[0] == 2


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (error(409, "Conflict: can't use getUpdates method while webhook is active"), "webhook"),
        (error(401, "Unauthorized"), "Unauthorized"),
        (error(400, "Bad Request: wrong offset"), "(?i)wrong offset"),
    ],
    ids=["conflict", "invalid-token", "bad-request"],
)
def test_poll_stops_on_what_waiting_cannot_fix(fake_telegram, response, match) -> None:
    fake_telegram.methods["getUpdates"] = response
    with pytest.raises(CommandError, match=match):
        call_command("dsn", "telegram", "poll", "--rounds", "5", "--retry-base", "0.01")
    assert len([c for c in fake_telegram.calls if c.method == "getUpdates"]) == 1


def test_poll_once_does_not_retry(fake_telegram) -> None:
    fake_telegram.queued["getUpdates"] = [error(502, "Bad Gateway")]
    with pytest.raises(CommandError, match="Bad Gateway"):
        call_command("dsn", "telegram", "poll", "--once")


def test_command_errors_never_show_the_token(fake_telegram) -> None:
    fake_telegram.methods["setWebhook"] = error(400, f"Bad Request: bot{BOT_TOKEN} refused")
    with pytest.raises(CommandError) as raised:
        call_command("dsn", "telegram", "set-webhook", "--url", "https://x.example/")
    assert BOT_TOKEN not in str(raised.value)
    assert "<BOT_TOKEN>" in str(raised.value)
