"""Every Bot API answer maps to an outcome; refused chats become invalid contact points."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from dsn_core.messages import OutgoingMessage, Recipient, RenderedMessage, Sent
from dsn_core.models import ContactPoint
from dsn_telegram.messenger import TelegramBroadcastMessenger, TelegramMessenger
from dsn_telegram.sender import INVALID_TOKEN

from .conftest import telegram_settings
from .fake_telegram import (
    BLOCKED,
    CHAT_NOT_FOUND,
    DEACTIVATED,
    UNAUTHORIZED,
    error,
    ok,
    respond,
    slow,
)
from .settings import BOT_TOKEN


def outgoing(chat: str, text: str = "hello") -> OutgoingMessage:
    return OutgoingMessage(Recipient(None, chat), RenderedMessage({"text": text}))


def send(*chats: str) -> list[Any]:
    return list(TelegramMessenger({}).send([outgoing(chat) for chat in chats]))


def test_success_carries_the_message_id(fake_telegram) -> None:
    [outcome] = send("1")
    assert outcome == Sent(str(fake_telegram._next_id))


def test_retry_after_is_transient_with_its_delay(fake_telegram) -> None:
    fake_telegram.chats["1"] = respond(
        error(429, "Too Many Requests: retry after 17", retry_after=17)
    )
    [outcome] = send("1")
    assert outcome.status == "transient"
    assert outcome.retry_after == 17
    assert "retry after 17" in outcome.reason


def test_retry_after_stops_that_chat_only(fake_telegram) -> None:
    fake_telegram.chats["1"] = respond(error(429, "Too Many Requests", retry_after=60))
    outcomes = send("1", "2", "1")
    assert [o.status for o in outcomes] == ["transient", "sent", "transient"]
    assert outcomes[2].retry_after == 60
    # The second message to chat 1 was not even tried.
    assert [c.form["chat_id"] for c in fake_telegram.sent()].count("1") == 1


def test_a_paused_chat_is_not_retried_within_retry_after(fake_telegram) -> None:
    fake_telegram.chats["1"] = respond(error(429, "Too Many Requests", retry_after=120))
    send("1")
    [outcome] = send("1")  # the next batch, same process: waits are above MAX_WAIT
    assert outcome.status == "transient"
    assert outcome.retry_after > 100
    assert len(fake_telegram.sent()) == 1


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (BLOCKED, "bot was blocked by the user"),
        (DEACTIVATED, "user is deactivated"),
        (CHAT_NOT_FOUND, "Chat not found"),
        (error(400, "Bad Request: PEER_ID_INVALID"), "PEER_ID_INVALID"),
    ],
)
def test_gone_chats_are_permanent_and_marked_invalid(
    fake_telegram, make_user, response, reason
) -> None:
    ann = make_user("ann", chat=1001)
    bob = make_user("bob", chat=1002)
    fake_telegram.chats["1001"] = respond(response)
    outcomes = send("1001", "1002")
    assert outcomes[0].status == "permanent"
    assert reason.lower() in outcomes[0].reason.lower()
    assert isinstance(outcomes[1], Sent)
    point = ContactPoint.objects.get(user=ann)
    assert reason.lower() in point.invalid_reason.lower()
    assert ContactPoint.objects.get(user=bob).invalid_reason == ""


def test_other_bad_request_is_permanent_but_keeps_the_chat(fake_telegram, make_user) -> None:
    ann = make_user("ann", chat=1001)
    fake_telegram.chats["1001"] = respond(
        error(400, "Bad Request: can't parse entities: unsupported start tag")
    )
    [outcome] = send("1001")
    assert outcome.status == "permanent"
    assert "can't parse entities" in outcome.reason.lower()
    assert ContactPoint.objects.get(user=ann).invalid_reason == ""


def test_chat_migrated_moves_the_contact_point_and_resends(fake_telegram, make_user) -> None:
    ann = make_user("ann", chat=-1001)
    fake_telegram.chats["-1001"] = respond(
        error(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=-1009876,
        )
    )
    outcomes = send("-1001", "-1001")
    assert [o.status for o in outcomes] == ["sent", "sent"]
    assert [c.form["chat_id"] for c in fake_telegram.sent()] == ["-1001", "-1009876", "-1009876"]
    point = ContactPoint.objects.get(user=ann)
    assert point.address == "-1009876"
    assert point.verified
    assert point.invalid_reason == ""


def test_chat_migrated_when_the_user_already_has_the_new_chat(fake_telegram, make_user) -> None:
    ann = make_user("ann", chat=-1001)
    ContactPoint.objects.create(user=ann, channel="telegram", address="-1002", verified=True)
    fake_telegram.chats["-1001"] = respond(error(400, "migrated", migrate_to_chat_id=-1002))
    [outcome] = send("-1001")
    assert isinstance(outcome, Sent)
    assert list(ContactPoint.objects.filter(user=ann).values_list("address", flat=True)) == [
        "-1002"
    ]


def test_broadcast_chat_migrated_is_sent_and_logged(fake_telegram, settings, caplog) -> None:
    telegram_settings(settings, CHAT_ID="-1001")
    fake_telegram.chats["-1001"] = respond(error(400, "migrated", migrate_to_chat_id=-1003))
    with caplog.at_level(logging.WARNING, logger="dsn_telegram"):
        [outcome] = TelegramBroadcastMessenger({}).send([outgoing("")])
    assert isinstance(outcome, Sent)
    assert "CHAT_ID" in caplog.text
    assert "-1003" in caplog.text


def test_broadcast_forbidden_is_permanent_without_touching_contact_points(
    fake_telegram, settings, make_user
) -> None:
    make_user("ann", chat=-1001)
    telegram_settings(settings, CHAT_ID="-1001")
    fake_telegram.chats["-1001"] = respond(
        error(403, "Forbidden: bot is not a member of the channel chat")
    )
    [outcome] = TelegramBroadcastMessenger({}).send([outgoing("")])
    assert outcome.status == "permanent"
    assert ContactPoint.objects.get().invalid_reason == ""


def test_invalid_token_is_permanent_and_never_leaks_the_token(fake_telegram, caplog) -> None:
    fake_telegram.methods["getMe"] = UNAUTHORIZED
    with caplog.at_level(logging.DEBUG):
        outcomes = send("1", "2")
    assert [o.status for o in outcomes] == ["permanent", "permanent"]
    assert outcomes[0].reason == INVALID_TOKEN
    assert "manage.py check" in outcomes[0].reason
    assert fake_telegram.sent() == []
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")]
    assert ours
    assert not [message for message in ours if BOT_TOKEN in message]
    assert BOT_TOKEN.split(":")[1] not in " ".join(o.reason for o in outcomes)


def test_invalid_token_on_send_is_permanent(fake_telegram) -> None:
    fake_telegram.chats["1"] = respond(error(404, "Not Found"))
    [outcome] = send("1")
    assert outcome.reason == INVALID_TOKEN


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(fake_telegram, status) -> None:
    fake_telegram.chats["1"] = respond(error(status, "Internal Server Error"))
    [outcome] = send("1")
    assert outcome.status == "transient"
    assert outcome.retry_after is None


def test_non_json_error_body_is_transient(fake_telegram) -> None:
    from werkzeug import Response

    fake_telegram.chats["1"] = respond(Response("<html>bad gateway</html>", status=502))
    [outcome] = send("1")
    assert outcome.status == "transient"


def test_conflict_is_transient(fake_telegram) -> None:
    fake_telegram.chats["1"] = respond(error(409, "Conflict: terminated by other request"))
    [outcome] = send("1")
    assert outcome.status == "transient"


def test_timeout_is_transient_and_does_not_hold_back_other_chats(fake_telegram, settings) -> None:
    telegram_settings(settings, TIMEOUT=0.5)
    fake_telegram.chats["1"] = slow(2.0)
    outcomes = send("1", "2", "3")
    assert outcomes[0].status == "transient"
    assert "timed out" in outcomes[0].reason.lower()
    assert [o.status for o in outcomes[1:]] == ["sent", "sent"]


def test_get_me_timeout_fails_the_batch_transiently(fake_telegram, settings) -> None:
    import time

    from werkzeug import Response

    def slow_get_me() -> Response:
        time.sleep(1.5)
        return ok({})

    telegram_settings(settings, TIMEOUT=0.3)
    fake_telegram.server.clear()
    fake_telegram.server.expect_request("/bot" + BOT_TOKEN + "/getMe").respond_with_handler(
        lambda request: slow_get_me()
    )
    outcomes = send("1", "2")
    assert [o.status for o in outcomes] == ["transient", "transient"]


def test_connection_refused_is_transient(fake_telegram, settings, closed_port) -> None:
    telegram_settings(settings, API_URL=f"http://127.0.0.1:{closed_port}", TIMEOUT=2.0)
    outcomes = send("1", "2")
    assert [o.status for o in outcomes] == ["transient", "transient"]
    assert "network error" in outcomes[0].reason.lower() or "timed out" in outcomes[0].reason


def test_missing_token_fails_the_batch_permanently(fake_telegram, settings) -> None:
    from dsn_core.exceptions import PermanentDeliveryError

    telegram_settings(settings, BOT_TOKEN="")
    with pytest.raises(PermanentDeliveryError, match="BOT_TOKEN"):
        send("1")
    assert fake_telegram.calls == []


def test_wrong_setting_types_fall_back_to_defaults(fake_telegram, settings) -> None:
    telegram_settings(settings, TIMEOUT="fast", CONNECTIONS=None, MESSAGES_PER_SECOND=True)
    [outcome] = send("1")
    assert isinstance(outcome, Sent)


def test_unexpected_success_body_is_transient_and_logged(fake_telegram, caplog) -> None:
    fake_telegram.chats["1"] = respond(ok({"unexpected": True}))
    with caplog.at_level(logging.ERROR, logger="dsn_telegram"):
        [outcome] = send("1")
    assert outcome.status == "transient"
    assert "Unexpected error" in caplog.text
