"""Telegram's flood limits, as slots reserved ahead of time: ~30 messages/s per bot, 1/s
per private chat, 20/min per group (https://core.telegram.org/bots/faq#broadcasting-to-users).

One limiter per bot token and process, shared by every ``send()`` call (each runs its own
event loop, possibly in several threads), so back-to-back batches respect the limits
too. Reserving is arithmetic under a lock, never a wait: callers ``asyncio.sleep`` until
their slot, so waiting for one chat never blocks another. A slot after the caller's
deadline (``MAX_WAIT`` seconds after its batch started) is not reserved: the message fails
transiently with that retry-after, and the outbox sends it later.

Every interval is :data:`MARGIN` (10 %) longer than the configured rate: slots are
stamped when a request leaves, but Telegram counts arrivals, and a busy machine or
network delays one request more than the next.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field

#: Intervals are this much longer than the configured rates allow (see the docstring).
MARGIN = 1.1
#: After a 429, nothing at all leaves for this long (at most the retry-after): a 429
#: can mean the bot-wide limit, and a burst on other chats would only earn more.
FLOOD_PAUSE = 1.0


@dataclass
class RateLimiter:
    per_second: float
    chat_per_second: float
    group_per_minute: float
    #: Seconds between sweeps of chats whose next slot has passed (a long-running worker
    #: sees many chats once each).
    prune_every: float = 60.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_global: float = 0.0
    _next_chat: dict[str, float] = field(default_factory=dict)
    _pruned_at: float = field(default_factory=time.monotonic)
    #: The latest departures as ``(time.monotonic(), chat id)``: what the limiter let
    #: through, for diagnostics and tests.
    departures: collections.deque[tuple[float, str]] = field(
        default_factory=lambda: collections.deque(maxlen=1000), repr=False
    )

    def chat_interval(self, chat_id: str) -> float:
        """Seconds between two messages to ``chat_id``: groups and channels have ids < 0."""
        if chat_id.startswith("-") or chat_id.startswith("@"):
            return MARGIN * 60.0 / self.group_per_minute
        return MARGIN / self.chat_per_second

    @property
    def bot_interval(self) -> float:
        return MARGIN / self.per_second

    def reserve_chat(self, chat_id: str, deadline: float, count: int = 1) -> float:
        """Seconds until the first of ``count`` messages to ``chat_id`` may go, reserving
        the ``count`` consecutive slots (the parts of one split message).

        When the last slot is after ``deadline`` (monotonic), nothing is reserved and the
        result is minus the wait for the first slot: the retry-after. A chat that is free
        now is never refused: parts that need longer than ``MAX_WAIT`` go anyway, rather
        than never.
        """
        with self._lock:
            now = time.monotonic()
            self._prune(now)
            at = max(now, self._next_chat.get(chat_id, 0.0))
            interval = self.chat_interval(chat_id)
            if at > now and at + (count - 1) * interval > deadline:
                return -(at - now)
            self._next_chat[chat_id] = at + count * interval
            return at - now

    def reserve_bot(self, deadline: float) -> float:
        """Like :meth:`reserve_chat` for the bot-wide limit (one slot)."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next_global)
            if at > deadline:
                return -(at - now)
            self._next_global = at + self.bot_interval
            return at - now

    def started(self, chat_id: str) -> float:
        """A message to ``chat_id`` leaves now (returned): the next slots count from the
        actual time, so a task that woke late (a busy loop) never makes the following
        ones burst."""
        with self._lock:
            now = time.monotonic()
            chat_next = now + self.chat_interval(chat_id)
            self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), chat_next)
            self._next_global = max(self._next_global, now + self.bot_interval)
            self.departures.append((now, chat_id))
            return now

    def pause_chat(self, chat_id: str, seconds: float) -> None:
        """Telegram said "retry after": nothing more to ``chat_id`` before then, and
        nothing to any chat for :data:`FLOOD_PAUSE` (at most ``seconds``)."""
        with self._lock:
            now = time.monotonic()
            self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), now + seconds)
            self._next_global = max(self._next_global, now + min(seconds, FLOOD_PAUSE))

    def tracked_chats(self) -> int:
        """Chats with a slot still ahead (others are pruned)."""
        with self._lock:
            return len(self._next_chat)

    def _prune(self, now: float) -> None:
        if now - self._pruned_at < self.prune_every:
            return
        self._pruned_at = now
        for chat_id in [chat for chat, at in self._next_chat.items() if at <= now]:
            del self._next_chat[chat_id]


_limiters: dict[tuple[str, float, float, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(
    token: str, per_second: float, chat_per_second: float, group_per_minute: float
) -> RateLimiter:
    """The process's limiter for a bot and these limits (changing a setting starts afresh)."""
    key = (token, per_second, chat_per_second, group_per_minute)
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = RateLimiter(per_second, chat_per_second, group_per_minute)
        return _limiters[key]


def forget_limiters() -> None:
    """Drop every limiter's history (tests start each case with fresh limits)."""
    with _limiters_lock:
        _limiters.clear()
