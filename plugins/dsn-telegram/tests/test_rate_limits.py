"""Telegram's limits: spacing is asserted on the departures the limiter stamped (the moment
each request leaves, holding its connection), which its margin keeps at least the
configured interval apart however loaded the machine is; the fake Bot API checks what
arrived and in which order."""

from __future__ import annotations

import itertools
import time

import pytest

from dsn_core.messages import OutgoingMessage, Recipient, RenderedMessage, Sent, TransientFailure
from dsn_telegram import settings as telegram
from dsn_telegram.messenger import TelegramMessenger
from dsn_telegram.ratelimit import FLOOD_PAUSE, MARGIN, RateLimiter, limiter_for
from dsn_telegram.settings import DEFAULTS

from .conftest import telegram_settings
from .fake_telegram import error, respond, slow
from .settings import BOT_TOKEN


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


def limiter() -> RateLimiter:
    """The limiter the messenger used (one per process, token and limits)."""
    return limiter_for(
        BOT_TOKEN,
        telegram.number("MESSAGES_PER_SECOND"),
        telegram.number("CHAT_MESSAGES_PER_SECOND"),
        telegram.number("GROUP_MESSAGES_PER_MINUTE"),
    )


def departures(chat: str | None = None) -> list[float]:
    return [at for at, to in limiter().departures if chat is None or to == chat]


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_one_chat_gets_one_message_per_second(fake_telegram, settings) -> None:
    real_defaults(settings)
    outcomes = TelegramMessenger({}).send([outgoing("1", f"m{n}") for n in range(3)])
    assert all(isinstance(o, Sent) for o in outcomes)
    assert fake_telegram.texts() == ["m0", "m1", "m2"]
    assert len(departures("1")) == 3
    assert all(gap >= 1.0 for gap in gaps(departures("1"))), gaps(departures("1"))


def test_back_to_back_batches_share_the_chat_limit(fake_telegram, settings) -> None:
    telegram_settings(settings, CHAT_MESSAGES_PER_SECOND=4.0)
    TelegramMessenger({}).send([outgoing("1", "first")])
    TelegramMessenger({}).send([outgoing("1", "second")])
    assert fake_telegram.texts() == ["first", "second"]
    [gap] = gaps(departures("1"))
    assert gap >= 0.25


def test_waiting_chat_does_not_hold_back_others(fake_telegram, settings) -> None:
    telegram_settings(settings, CHAT_MESSAGES_PER_SECOND=2.0, MESSAGES_PER_SECOND=30.0)
    TelegramMessenger({}).send([outgoing("1", "a"), outgoing("1", "b"), outgoing("2", "c")])
    by_chat = [chat for _, chat in limiter().departures]
    # "c" leaves one bot interval after "a", not queued behind chat 1's second message.
    assert by_chat in (["1", "2", "1"], ["2", "1", "1"])
    [gap] = gaps(departures("1"))
    assert gap >= 0.5


def test_slow_chat_does_not_hold_back_others(fake_telegram) -> None:
    fake_telegram.chats["1"] = slow(2.0)
    outcomes = TelegramMessenger({}).send([outgoing(str(n)) for n in range(1, 6)])
    assert all(isinstance(o, Sent) for o in outcomes)
    [first] = [call.at for call in fake_telegram.sent() if call.form["chat_id"] == "1"]
    others = [call.at for call in fake_telegram.sent() if call.form["chat_id"] != "1"]
    assert len(others) == 4
    # All arrived while chat 1's request was still being answered.
    assert max(others) < first + 1.5


def test_200_distinct_chats_stay_under_the_bot_limit(fake_telegram, settings) -> None:
    """The bot-wide limit is a setting, so this checks the limiter at 400/s in ~0.55 s."""
    telegram_settings(settings, MESSAGES_PER_SECOND=400.0, CONNECTIONS=16)
    outcomes = TelegramMessenger({}).send([outgoing(str(10_000 + n)) for n in range(200)])
    assert all(isinstance(o, Sent) for o in outcomes)
    assert len(fake_telegram.sent()) == 200
    times = departures()
    assert len(times) == 200
    assert all(gap >= 1 / 400 for gap in gaps(times))
    assert most_in_window(times, 0.25) <= 100


def test_real_bot_limit_on_a_small_batch(fake_telegram, settings) -> None:
    real_defaults(settings)
    outcomes = TelegramMessenger({}).send([outgoing(str(20_000 + n)) for n in range(40)])
    assert all(isinstance(o, Sent) for o in outcomes)
    assert len(fake_telegram.sent()) == 40
    times = departures()
    assert times[-1] - times[0] >= 39 / 30
    assert most_in_window(times, 1.0) <= 30


def test_groups_get_twenty_a_minute(fake_telegram, settings) -> None:
    telegram_settings(settings, GROUP_MESSAGES_PER_MINUTE=120.0)  # 0.5 s apart
    TelegramMessenger({}).send([outgoing("-100777", "a"), outgoing("-100777", "b")])
    assert fake_telegram.texts() == ["a", "b"]
    [gap] = gaps(departures("-100777"))
    assert gap >= 0.5


def test_slots_beyond_max_wait_are_transient_not_waited(fake_telegram, settings) -> None:
    real_defaults(settings)
    telegram_settings(settings, MAX_WAIT=1.5)
    outcomes = TelegramMessenger({}).send([outgoing("1", f"m{n}") for n in range(4)])
    assert [o.status for o in outcomes] == ["sent", "sent", "transient", "transient"]
    waited = outcomes[2]
    assert isinstance(waited, TransientFailure)
    assert waited.retry_after is not None
    assert 0 < waited.retry_after <= MARGIN
    assert fake_telegram.texts() == ["m0", "m1"]


def test_a_429_pauses_the_whole_bot_briefly(fake_telegram) -> None:
    fake_telegram.chats["1"] = respond(error(429, "Too Many Requests", retry_after=60))
    TelegramMessenger({}).send([outgoing("1")])
    [flood] = departures("1")
    TelegramMessenger({}).send([outgoing("2")])
    [other] = departures("2")
    assert other - flood >= FLOOD_PAUSE


# The limiter on its own: slots from the actual departure time, pruning, flood pauses.


def test_a_late_departure_pushes_the_next_slot() -> None:
    """A task that woke late (a busy loop) must not let the next message follow closer
    than the interval: started() counts from the actual time."""
    limits = RateLimiter(per_second=1000.0, chat_per_second=1.0, group_per_minute=20.0)
    assert limits.reserve_chat("1", deadline=time.monotonic() + 60) == 0
    time.sleep(0.5)
    left = limits.started("1")
    wait = limits.reserve_chat("1", deadline=time.monotonic() + 60)
    assert wait >= limits.chat_interval("1") - (time.monotonic() - left)
    assert wait > 0.9  # without started(): 1.1 - 0.5


def test_intervals_have_a_margin() -> None:
    limits = RateLimiter(per_second=30.0, chat_per_second=1.0, group_per_minute=20.0)
    assert limits.chat_interval("1") == pytest.approx(1.1)
    assert limits.chat_interval("-1001") == pytest.approx(3.3)
    assert limits.chat_interval("@news") == pytest.approx(3.3)
    assert limits.bot_interval == pytest.approx(1.1 / 30)


def test_slots_of_a_split_message_are_reserved_together() -> None:
    limits = RateLimiter(per_second=1000.0, chat_per_second=1.0, group_per_minute=20.0)
    now = time.monotonic()
    assert limits.reserve_chat("1", now + 0.5, count=3) == 0  # a free chat: never refused
    wait = limits.reserve_chat("1", now + 5.0, count=3)  # 3.3 s ahead, the last at 5.5 s
    assert wait < 0
    assert -wait == pytest.approx(3 * MARGIN, abs=0.1)
    assert limits.reserve_chat("1", now + 60, count=1) == pytest.approx(3 * MARGIN, abs=0.1)


def test_passed_chats_are_pruned() -> None:
    limits = RateLimiter(1000.0, 1000.0, 60000.0, prune_every=0.0)
    far = time.monotonic() + 60
    for chat in range(100):
        limits.reserve_chat(str(chat), far)
    time.sleep(0.01)
    limits.reserve_chat("new", far)
    assert limits.tracked_chats() == 1


def test_pause_holds_the_chat_and_briefly_the_bot() -> None:
    limits = RateLimiter(1000.0, 1000.0, 60000.0)
    limits.pause_chat("1", 30)
    far = time.monotonic() + 120
    assert limits.reserve_chat("1", far) == pytest.approx(30, abs=0.1)
    assert limits.reserve_bot(far) == pytest.approx(FLOOD_PAUSE, abs=0.1)
    short = RateLimiter(1000.0, 1000.0, 60000.0)
    short.pause_chat("1", 0.2)
    assert short.reserve_bot(far) == pytest.approx(0.2, abs=0.05)
