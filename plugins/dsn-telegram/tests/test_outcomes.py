"""Every Bot API answer maps to an outcome; refused chats become invalid contact points."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from dsn_core.messages import OutgoingMessage, Recipient, RenderedMessage, Sent
from dsn_core.models import ContactPoint
from dsn_telegram.messenger import TelegramBroadcastMessenger, TelegramMessenger
from dsn_telegram.sender import INVALID_TOKEN, NOT_FOUND

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


def test_401_on_send_is_permanent(fake_telegram) -> None:
    fake_telegram.chats["1"] = respond(UNAUTHORIZED)
    [outcome] = send("1")
    assert outcome.reason == INVALID_TOKEN


def test_404_on_send_names_the_token_and_api_url(fake_telegram) -> None:
    fake_telegram.chats["1"] = respond(error(404, "Not Found"))
    [outcome] = send("1")
    assert outcome.status == "permanent"
    assert outcome.reason == NOT_FOUND
    assert "BOT_TOKEN" in outcome.reason
    assert "API_URL" in outcome.reason


def test_404_on_get_me_names_the_token_and_api_url(fake_telegram) -> None:
    """A wrong API_URL path answers an HTML 404; Bot.initialize() re-raises it as
    InvalidToken, with the original as its cause."""
    from werkzeug import Response

    fake_telegram.methods["getMe"] = Response("<h1>Not Found</h1>", status=404)
    outcomes = send("1", "2")
    assert [o.reason for o in outcomes] == [NOT_FOUND, NOT_FOUND]
    assert fake_telegram.sent() == []


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


# A BOT_TOKEN of another bot: every chat says "chat not found"; nobody gets unlinked.


def test_most_chats_gone_means_the_wrong_bot_and_nothing_is_marked(
    fake_telegram, make_user, caplog
) -> None:
    users = [make_user(f"u{n}", chat=3000 + n) for n in range(6)]
    for n in range(4):
        fake_telegram.chats[str(3000 + n)] = respond(CHAT_NOT_FOUND)
    with caplog.at_level(logging.ERROR, logger="dsn_telegram"):
        outcomes = send(*(str(3000 + n) for n in range(6)))
    assert [o.status for o in outcomes] == ["permanent"] * 4 + ["sent"] * 2
    assert all(
        "check DSN['TELEGRAM']['BOT_TOKEN'] is the bot users linked to" in o.reason
        for o in outcomes[:4]
    )
    assert "4 of 6" in outcomes[0].reason
    assert [ContactPoint.objects.get(user=u).invalid_reason for u in users] == [""] * 6
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "BOT_TOKEN" in record.getMessage()


def test_half_the_chats_gone_are_marked(fake_telegram, make_user) -> None:
    users = [make_user(f"u{n}", chat=3000 + n) for n in range(6)]
    for n in range(3):
        fake_telegram.chats[str(3000 + n)] = respond(BLOCKED)
    outcomes = send(*(str(3000 + n) for n in range(6)))
    assert "bot was blocked" in outcomes[0].reason
    marked = [bool(ContactPoint.objects.get(user=u).invalid_reason) for u in users]
    assert marked == [True] * 3 + [False] * 3


def test_small_batches_are_marked_even_when_all_gone(fake_telegram, make_user) -> None:
    users = [make_user(f"u{n}", chat=3000 + n) for n in range(4)]
    for n in range(4):
        fake_telegram.chats[str(3000 + n)] = respond(CHAT_NOT_FOUND)
    send(*(str(3000 + n) for n in range(4)))
    assert all(ContactPoint.objects.get(user=u).invalid_reason for u in users)


def test_one_chat_counts_once_for_the_wrong_bot_check(fake_telegram, make_user) -> None:
    """Six messages to three chats, two of them gone: three chats, not six messages."""
    ann = make_user("ann", chat=1)
    fake_telegram.chats["1"] = respond(BLOCKED)
    fake_telegram.chats["2"] = respond(BLOCKED)
    send("1", "1", "2", "2", "3", "3")
    assert ContactPoint.objects.get(user=ann).invalid_reason


# Details: the token never shows, retry_after in both of PTB's forms.


def test_error_descriptions_never_show_the_token(fake_telegram) -> None:
    fake_telegram.chats["1"] = respond(error(400, f"Bad Request: bot{BOT_TOKEN} is odd"))
    [outcome] = send("1")
    assert outcome.status == "permanent"
    assert BOT_TOKEN.lower() not in outcome.reason.lower()
    assert "<BOT_TOKEN>" in outcome.reason


def test_redact_ignores_case_and_the_unset_token(settings) -> None:
    from dsn_telegram.bot import redact

    assert redact(f"x {BOT_TOKEN} y {BOT_TOKEN.upper()}") == "x <BOT_TOKEN> y <BOT_TOKEN>"
    telegram_settings(settings, BOT_TOKEN="")
    assert redact("nothing to hide") == "nothing to hide"


def test_retry_after_as_int_or_timedelta() -> None:
    """PTB 22 gives a timedelta with PTB_TIMEDELTA=true (these tests), an int otherwise."""
    import datetime as dt

    from dsn_telegram.sender import as_seconds

    assert as_seconds(17) == 17.0
    assert as_seconds(dt.timedelta(seconds=17)) == 17.0
    assert as_seconds(2.5) == 2.5
