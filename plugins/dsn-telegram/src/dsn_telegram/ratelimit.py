"""Telegram's flood limits, as slots reserved ahead of time: ~30 messages/s per bot, 1/s
per private chat, 20/min per group (https://core.telegram.org/bots/faq#broadcasting-to-users).

One limiter per bot token and process, shared by every ``send()`` call (each runs its own
event loop, possibly in several threads), so back-to-back batches respect the limits
too. Reserving is arithmetic under a lock, never a wait: callers ``asyncio.sleep`` until
their slot, so waiting for one chat never blocks another. A slot after the caller's
deadline (``MAX_WAIT`` seconds after its batch started) is not reserved: the message fails
transiently with that retry-after, and the outbox sends it later.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    per_second: float
    chat_per_second: float
    group_per_minute: float
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_global: float = 0.0
    _next_chat: dict[str, float] = field(default_factory=dict)

    def chat_interval(self, chat_id: str) -> float:
        """Seconds between two messages to ``chat_id``: groups and channels have ids < 0."""
        if chat_id.startswith("-") or chat_id.startswith("@"):
            return 60.0 / self.group_per_minute
        return 1.0 / self.chat_per_second

    def reserve_chat(self, chat_id: str, deadline: float) -> float:
        """Seconds until the next message to ``chat_id`` may go, reserving that slot;
        when the slot is after ``deadline`` (monotonic), minus the wait, reserving nothing."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next_chat.get(chat_id, 0.0))
            if at > deadline:
                return -(at - now)
            self._next_chat[chat_id] = at + self.chat_interval(chat_id)
            return at - now

    def reserve_bot(self, deadline: float) -> float:
        """Like :meth:`reserve_chat` for the bot-wide limit."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next_global)
            if at > deadline:
                return -(at - now)
            self._next_global = at + 1.0 / self.per_second
            return at - now

    def started(self, chat_id: str) -> None:
        """A message to ``chat_id`` leaves now: the next slots count from the actual time,
        so a task that woke late (a busy loop) never makes the following ones burst."""
        with self._lock:
            now = time.monotonic()
            chat_next = now + self.chat_interval(chat_id)
            self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), chat_next)
            self._next_global = max(self._next_global, now + 1.0 / self.per_second)

    def pause_chat(self, chat_id: str, seconds: float) -> None:
        """Telegram said "retry after": nothing more to ``chat_id`` before then."""
        with self._lock:
            until = time.monotonic() + seconds
            self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)


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
