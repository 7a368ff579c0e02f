"""Telegram's limits, measured at the fake Bot API: per chat, per bot, and waiting."""

from __future__ import annotations

import itertools
import time

from dsn_core.messages import OutgoingMessage, Recipient, RenderedMessage, Sent, TransientFailure
from dsn_telegram.messenger import TelegramMessenger
from dsn_telegram.settings import DEFAULTS

from .conftest import telegram_settings
from .fake_telegram import slow


def outgoing(chat: str, text: str = "hello") -> OutgoingMessage:
    return OutgoingMessage(Recipient(None, chat), RenderedMessage({"text": text}))


def most_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def real_defaults(settings) -> None:
    telegram_settings(
        settings,
        MESSAGES_PER_SECOND=DEFAULTS["MESSAGES_PER_SECOND"],
        CHAT_MESSAGES_PER_SECOND=DEFAULTS["CHAT_MESSAGES_PER_SECOND"],
        GROUP_MESSAGES_PER_MINUTE=DEFAULTS["GROUP_MESSAGES_PER_MINUTE"],
    )


def test_one_chat_gets_one_message_per_second(fake_telegram, settings) -> None:
    real_defaults(settings)
    outcomes = TelegramMessenger({}).send([outgoing("1", f"m{n}") for n in range(3)])
    assert all(isinstance(o, Sent) for o in outcomes)
    times = [call.at for call in fake_telegram.sent()]
    assert fake_telegram.texts() == ["m0", "m1", "m2"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.95 for gap in gaps), gaps


def test_back_to_back_batches_share_the_chat_limit(fake_telegram, settings) -> None:
    real_defaults(settings)
    TelegramMessenger({}).send([outgoing("1", "first")])
    TelegramMessenger({}).send([outgoing("1", "second")])
    first, second = (call.at for call in fake_telegram.sent())
    assert second - first >= 0.95


def test_waiting_chat_does_not_hold_back_others(fake_telegram, settings) -> None:
    real_defaults(settings)
    started = time.monotonic()
    TelegramMessenger({}).send([outgoing("1", "a"), outgoing("1", "b"), outgoing("2", "c")])
    by_text = {call.form["text"]: call.at - started for call in fake_telegram.sent()}
    assert by_text["c"] < 0.9  # not queued behind chat 1's second message
    assert by_text["b"] >= 0.95


def test_slow_chat_does_not_hold_back_others(fake_telegram) -> None:
    fake_telegram.chats["1"] = slow(1.5)
    started = time.monotonic()
    outcomes = TelegramMessenger({}).send([outgoing(str(n)) for n in range(1, 6)])
    assert all(isinstance(o, Sent) for o in outcomes)
    others = [call.at - started for call in fake_telegram.sent() if call.form["chat_id"] != "1"]
    assert len(others) == 4
    assert max(others) < 1.0


def test_200_distinct_chats_stay_under_the_bot_limit(fake_telegram, settings) -> None:
    """The bot-wide limit is a setting, so this checks the limiter at 400/s in ~0.5 s."""
    telegram_settings(settings, MESSAGES_PER_SECOND=400.0, CONNECTIONS=16)
    outcomes = TelegramMessenger({}).send([outgoing(str(10_000 + n)) for n in range(200)])
    assert all(isinstance(o, Sent) for o in outcomes)
    times = sorted(call.at for call in fake_telegram.sent())
    assert len(times) == 200
    assert times[-1] - times[0] >= 199 / 400 * 0.9
    # Any 0.25 s holds at most 100 (+ a little arrival jitter on a busy machine).
    assert most_in_window(times, 0.25) <= 103


def test_real_bot_limit_on_a_small_batch(fake_telegram, settings) -> None:
    real_defaults(settings)
    outcomes = TelegramMessenger({}).send([outgoing(str(20_000 + n)) for n in range(40)])
    assert all(isinstance(o, Sent) for o in outcomes)
    times = sorted(call.at for call in fake_telegram.sent())
    assert times[-1] - times[0] >= 39 / 30 * 0.9
    assert most_in_window(times, 1.0) <= 32


def test_groups_get_twenty_a_minute(fake_telegram, settings) -> None:
    telegram_settings(settings, GROUP_MESSAGES_PER_MINUTE=120.0)  # 0.5 s apart
    TelegramMessenger({}).send([outgoing("-100777", "a"), outgoing("-100777", "b")])
    first, second = (call.at for call in fake_telegram.sent())
    assert second - first >= 0.45


def test_slots_beyond_max_wait_are_transient_not_waited(fake_telegram, settings) -> None:
    real_defaults(settings)
    telegram_settings(settings, MAX_WAIT=1.5)
    started = time.monotonic()
    outcomes = TelegramMessenger({}).send([outgoing("1", f"m{n}") for n in range(4)])
    assert [o.status for o in outcomes] == ["sent", "sent", "transient", "transient"]
    waited = outcomes[2]
    assert isinstance(waited, TransientFailure)
    assert waited.retry_after is not None
    assert 0 < waited.retry_after <= 1.0
    assert time.monotonic() - started < 2.5
    assert fake_telegram.texts() == ["m0", "m1"]
