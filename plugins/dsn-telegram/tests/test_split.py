"""Long messages: every part's slot is reserved before the first leaves, a started message
is never retried (its parts would arrive twice), and ``max_parts`` bounds the parts."""

from __future__ import annotations

import logging

import pytest

from dsn_core.exceptions import PermanentDeliveryError
from dsn_core.messages import (
    OutgoingMessage,
    Recipient,
    RenderedMessage,
    Sent,
    TransientFailure,
)
from dsn_core.models import ContactPoint, Delivery, DeliveryStatus
from dsn_telegram.formatting import MAX_LENGTH
from dsn_telegram.messenger import TelegramMessenger

from .conftest import telegram_settings
from .fake_telegram import BLOCKED, error, on_call
from .test_rate_limits import departures, gaps

LONG = ("word " * 2000).strip()  # 9,999 characters: 3 parts


def outgoing(chat: str, text: str) -> OutgoingMessage:
    return OutgoingMessage(Recipient(None, chat), RenderedMessage({"text": text}), "d1")


def test_parts_that_do_not_fit_max_wait_are_not_started(fake_telegram, settings) -> None:
    """Chat 1's next slot is 0.275 s away and its 3 parts would end at 0.825 s, after
    MAX_WAIT: nothing of the long message is sent, rather than its first part."""
    telegram_settings(settings, CHAT_MESSAGES_PER_SECOND=4.0, MAX_WAIT=0.4)
    outcomes = TelegramMessenger({}).send([outgoing("1", "short"), outgoing("1", LONG)])
    assert [o.status for o in outcomes] == ["sent", "transient"]
    assert fake_telegram.texts() == ["short"]
    waited = outcomes[1]
    assert isinstance(waited, TransientFailure)
    assert waited.retry_after is not None
    assert 0 < waited.retry_after <= 0.3  # when the chat's slot comes


def test_parts_longer_than_max_wait_go_when_the_chat_is_free(fake_telegram, settings) -> None:
    """3 parts take 0.55 s at 4 a second, more than MAX_WAIT: they go, spaced, rather than
    failing on every retry."""
    telegram_settings(settings, CHAT_MESSAGES_PER_SECOND=4.0, MAX_WAIT=0.3)
    [outcome] = TelegramMessenger({}).send([outgoing("1", LONG)])
    assert isinstance(outcome, Sent)
    assert outcome.provider_id is not None
    assert len(outcome.provider_id.split(",")) == 3
    assert len(fake_telegram.texts()) == 3
    assert all(gap >= 0.25 for gap in gaps(departures("1")))


@pytest.mark.parametrize(
    "failure",
    [error(502, "Bad Gateway"), error(429, "Too Many Requests", retry_after=60), BLOCKED],
    ids=["5xx", "429", "blocked"],
)
def test_a_failure_after_the_first_part_is_sent_with_the_parts(
    fake_telegram, make_user, caplog, failure
) -> None:
    ann = make_user("ann", chat=1)
    fake_telegram.chats["1"] = on_call(2, failure)
    with caplog.at_level(logging.WARNING, logger="dsn_telegram"):
        [outcome] = TelegramMessenger({}).send([outgoing("1", LONG)])
    assert isinstance(outcome, Sent)
    assert outcome.provider_id == str(fake_telegram._next_id)  # the first part's id
    assert outcome.details["parts_sent"] == 1
    assert outcome.details["parts_total"] == 3
    assert outcome.details["error"]
    assert len(fake_telegram.sent()) == 2  # part 3 is not tried
    assert "sent 1 of 3 parts" in caplog.text
    assert "d1" in caplog.text
    blocked = failure.status_code == 403
    assert (ContactPoint.objects.get(user=ann).invalid_reason != "") == blocked


def test_later_messages_to_a_chat_stopped_mid_message_get_the_failure(fake_telegram) -> None:
    fake_telegram.chats["1"] = on_call(2, error(429, "Too Many Requests", retry_after=60))
    outcomes = TelegramMessenger({}).send([outgoing("1", LONG), outgoing("1", "next")])
    assert isinstance(outcomes[0], Sent)
    assert outcomes[1].status == "transient"
    assert outcomes[1].retry_after == 60
    assert "next" not in fake_telegram.texts()


def test_a_partial_send_is_recorded_as_sent_by_the_outbox(
    fake_telegram, make_user, dsn_subscribe, django_capture_on_commit_callbacks
) -> None:
    """A LogEntry renders its change message: a long text field, on every database."""
    from django.contrib.admin.models import CHANGE, LogEntry

    ann = make_user("ann", chat=1001)
    fake_telegram.chats["1001"] = on_call(2, error(502, "Bad Gateway"))
    dsn_subscribe(LogEntry, [ann], messenger="telegram", template="telegram_event")
    with django_capture_on_commit_callbacks(execute=True):
        LogEntry.objects.create(
            user=ann, action_flag=CHANGE, object_repr="order", change_message=LONG
        )
    [delivery] = Delivery.objects.all()
    assert len(fake_telegram.sent()) == 2
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    assert delivery.provider_details == {
        "parts_sent": 1,
        "parts_total": 3,
        "error": "Telegram network error: Bad Gateway",
    }


def test_max_parts_defaults_to_five_and_cuts_the_last(fake_telegram) -> None:
    text = ("word " * 5000).strip()  # 24,999 characters: 7 parts
    [outcome] = TelegramMessenger({}).send([outgoing("1", text)])
    texts = fake_telegram.texts()
    assert len(texts) == 5
    assert all(len(chunk) <= MAX_LENGTH for chunk in texts)
    assert texts[-1].endswith("…")
    assert not any(chunk.endswith("…") for chunk in texts[:-1])
    assert isinstance(outcome, Sent)
    assert outcome.provider_id is not None
    assert len(outcome.provider_id.split(",")) == 5


def test_max_parts_option(fake_telegram) -> None:
    TelegramMessenger({"max_parts": 2}).send([outgoing("1", LONG)])
    texts = fake_telegram.texts()
    assert len(texts) == 2
    assert texts[1].endswith("…")
    assert len(texts[1]) <= MAX_LENGTH


def test_max_parts_one_is_truncation(fake_telegram) -> None:
    TelegramMessenger({"max_parts": 1}).send([outgoing("1", LONG)])
    [text] = fake_telegram.texts()
    assert text.endswith("…")
    assert len(text) <= MAX_LENGTH


def test_html_stays_balanced_when_the_last_part_is_cut(fake_telegram) -> None:
    html = "<b>" + "bold " * 3000 + "</b>"
    message = OutgoingMessage(
        Recipient(None, "1"), RenderedMessage({"text": "x", "telegram_html": html})
    )
    TelegramMessenger({"max_parts": 2}).send([message])
    texts = fake_telegram.texts()
    assert len(texts) == 2
    assert all(chunk.startswith("<b>") and "</b>" in chunk for chunk in texts)
    assert texts[1].endswith("</b>…")


@pytest.mark.parametrize("value", [0, -1, "3", 2.5, True, None])
def test_bad_max_parts_fails_the_batch(fake_telegram, value) -> None:
    with pytest.raises(PermanentDeliveryError, match="max_parts"):
        TelegramMessenger({"max_parts": value}).send([outgoing("1", "x")])
    assert fake_telegram.calls == []
