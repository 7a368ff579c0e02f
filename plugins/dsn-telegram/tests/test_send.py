"""What the fake Bot API receives for single, batched and broadcast sends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dsn_core.messages import OutgoingMessage, Recipient, RenderedMessage, Sent
from dsn_telegram.messenger import TelegramBroadcastMessenger, TelegramMessenger

from .conftest import telegram_settings
from .settings import BOT_TOKEN


def outgoing(chat: str | None, text: str, **parts: str) -> OutgoingMessage:
    return OutgoingMessage(Recipient(None, chat), RenderedMessage({"text": text, **parts}))


def test_single_message_request(fake_telegram) -> None:
    [outcome] = TelegramMessenger({}).send([outgoing("1001", "Order <42> & co shipped")])
    assert isinstance(outcome, Sent)
    [get_me, send] = fake_telegram.calls
    assert get_me.method == "getMe"
    assert send.method == "sendMessage"
    assert send.http_method == "POST"
    assert send.token == BOT_TOKEN  # the token travels in the path only
    assert send.form["chat_id"] == "1001"
    assert send.form["parse_mode"] == "HTML"
    # Rendered values are escaped: Telegram shows them as typed, never as markup.
    assert send.form["text"] == "Order &lt;42&gt; &amp; co shipped"
    assert "disable_notification" not in send.form
    assert outcome.provider_id == str(fake_telegram._next_id)  # Telegram's message_id


def test_request_path(fake_telegram, telegram_server) -> None:
    TelegramMessenger({}).send([outgoing("7", "hi")])
    paths = [request.path for request, _ in telegram_server.log]
    assert paths == [f"/bot{BOT_TOKEN}/getMe", f"/bot{BOT_TOKEN}/sendMessage"]
    assert all(request.method == "POST" for request, _ in telegram_server.log)


def test_batch_sends_one_message_per_chat_with_one_getme(fake_telegram) -> None:
    messages = [outgoing(str(2000 + n), f"message {n}") for n in range(20)]
    outcomes = TelegramMessenger({}).send(messages)
    assert all(isinstance(o, Sent) for o in outcomes)
    assert [call.method for call in fake_telegram.calls].count("getMe") == 1
    received = {call.form["chat_id"]: call.form["text"] for call in fake_telegram.sent()}
    assert received == {str(2000 + n): f"message {n}" for n in range(20)}
    ids = [o.provider_id for o in outcomes if isinstance(o, Sent)]
    assert len(set(ids)) == 20


def test_batch_to_one_chat_keeps_order(fake_telegram) -> None:
    messages = [outgoing("3000", f"message {n}") for n in range(4)]
    TelegramMessenger({}).send(messages)
    assert fake_telegram.texts() == [f"message {n}" for n in range(4)]


def test_recipient_without_chat_is_permanent(fake_telegram) -> None:
    outcomes = TelegramMessenger({}).send([outgoing(None, "x"), outgoing("1", "y")])
    assert outcomes[0].status == "permanent"
    assert isinstance(outcomes[1], Sent)
    assert fake_telegram.texts() == ["y"]


def test_blank_message_is_permanent_and_not_sent(fake_telegram) -> None:
    outcomes = TelegramMessenger({}).send([outgoing("1", "   "), outgoing("2", "x")])
    assert outcomes[0].status == "permanent"
    assert "empty" in outcomes[0].reason
    assert [c.form["chat_id"] for c in fake_telegram.sent()] == ["2"]


def test_options_silent_and_no_link_preview(fake_telegram) -> None:
    TelegramMessenger({"silent": True, "link_preview": False}).send([outgoing("1", "x")])
    [send] = fake_telegram.sent()
    assert send.form["disable_notification"].lower() == "true"
    assert json.loads(send.form["link_preview_options"]) == {"is_disabled": True}


def test_telegram_html_part_is_sent_as_is(fake_telegram) -> None:
    TelegramMessenger({}).send([outgoing("1", "plain", telegram_html="<b>bold</b> &amp;")])
    assert fake_telegram.texts() == ["<b>bold</b> &amp;"]


def test_long_message_is_split_by_default(fake_telegram) -> None:
    text = ("word " * 2000).strip()  # 9,999 characters
    [outcome] = TelegramMessenger({}).send([outgoing("1", text)])
    texts = fake_telegram.texts()
    assert len(texts) == 3
    assert all(len(chunk) <= 4096 for chunk in texts)
    assert " ".join(chunk.strip() for chunk in texts).split() == text.split()
    assert isinstance(outcome, Sent)
    assert outcome.provider_id is not None
    assert len(outcome.provider_id.split(",")) == 3  # every part's message id


def test_long_message_truncated_by_option(fake_telegram) -> None:
    text = "x" * 5000
    TelegramMessenger({"long_messages": "truncate"}).send([outgoing("1", text)])
    [sent] = fake_telegram.texts()
    assert len(sent) == 4096
    assert sent.endswith("…")


def test_bad_long_messages_option_fails_the_batch(fake_telegram) -> None:
    from dsn_core.exceptions import PermanentDeliveryError

    with pytest.raises(PermanentDeliveryError, match="long_messages"):
        TelegramMessenger({"long_messages": "wrap"}).send([outgoing("1", "x")])
    assert fake_telegram.calls == []


def test_broadcast_posts_to_the_configured_chat(fake_telegram, settings) -> None:
    telegram_settings(settings, CHAT_ID=-1001234567890)
    [outcome] = TelegramBroadcastMessenger({}).send([outgoing(None, "New post")])
    assert isinstance(outcome, Sent)
    [send] = fake_telegram.sent()
    assert send.form["chat_id"] == "-1001234567890"
    assert send.form["text"] == "New post"


def test_broadcast_chat_id_option_and_channel_username(fake_telegram, settings) -> None:
    telegram_settings(settings, CHAT_ID="-1001")
    TelegramBroadcastMessenger({"chat_id": "@dsn_news"}).send([outgoing(None, "hello")])
    assert fake_telegram.sent()[0].form["chat_id"] == "@dsn_news"


def test_broadcast_without_chat_id_is_permanent(fake_telegram) -> None:
    [outcome] = TelegramBroadcastMessenger({}).send([outgoing(None, "x")])
    assert outcome.status == "permanent"
    assert fake_telegram.sent() == []


def test_send_inside_a_running_event_loop(fake_telegram) -> None:
    """An async caller (an ASGI view sending inline) still gets outcomes: a helper thread."""
    import asyncio

    async def caller() -> list[Any]:
        return list(TelegramMessenger({}).send([outgoing("1", "from a loop")]))

    [outcome] = asyncio.run(caller())
    assert isinstance(outcome, Sent)
