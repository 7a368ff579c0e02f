"""Sending a batch with one Bot in one event loop: chats in parallel, each chat in order.

Each chat gets a task that sends its messages one after the other (Telegram wants at
most one per second per chat); tasks share the bot-wide limit through the process's
:class:`~dsn_telegram.ratelimit.RateLimiter` and ``CONNECTIONS`` requests in flight, so
a chat whose request is slow, or which must wait for its slot, holds back nobody else.
Errors are mapped here, in PTB's hierarchy order (BadRequest and TimedOut subclass
NetworkError, so they come first).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dsn_core.messages import Outcome, PermanentFailure, Sent, TransientFailure

from . import settings
from .bot import make_bot, redact
from .ratelimit import RateLimiter, limiter_for

if TYPE_CHECKING:
    from telegram import Bot

logger = logging.getLogger(__name__)

INVALID_TOKEN = (
    "Telegram rejected DSN['TELEGRAM']['BOT_TOKEN'] (InvalidToken): copy the token again "
    "from @BotFather (/token); 'manage.py check' validates its format."
)
#: Telegram's descriptions (lower-cased) meaning the chat is gone for good, not the message.
CHAT_GONE = (
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "user is deactivated",
    "bot was blocked by the user",
    "bot was kicked",
    "bot is not a member",
    "have no rights to send",
    "not enough rights to send text",
    "group chat was deactivated",
    "bot can't initiate conversation",
)


@dataclass
class Job:
    """One outgoing message: its position in the batch, its chat, its HTML chunks."""

    index: int
    chat_id: str
    chunks: Sequence[str]


@dataclass
class Result:
    outcome: Outcome
    #: The chat refused the bot for good: mark the contact point invalid with this reason.
    invalid_reason: str = ""
    #: The group became a supergroup with this id (ChatMigrated): the message went there.
    migrated_to: str = ""
    message_ids: list[int] = field(default_factory=list)


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def classify(exc: BaseException) -> Result:
    """The outcome of a Bot API call that raised ``exc`` (ChatMigrated is handled before)."""
    from telegram.error import (
        BadRequest,
        Forbidden,
        InvalidToken,
        NetworkError,
        RetryAfter,
        TelegramError,
        TimedOut,
    )

    if isinstance(exc, RetryAfter):
        seconds = _seconds(exc.retry_after)
        return Result(
            TransientFailure(f"Telegram flood control: retry after {seconds:g} s", seconds)
        )
    if isinstance(exc, InvalidToken):
        return Result(PermanentFailure(INVALID_TOKEN))
    message = redact(exc.message if isinstance(exc, TelegramError) else str(exc))
    gone = any(phrase in message.lower() for phrase in CHAT_GONE)
    if isinstance(exc, Forbidden):
        return Result(PermanentFailure(f"Telegram refused: {message}"), invalid_reason=message)
    if isinstance(exc, BadRequest):  # before NetworkError: it subclasses it
        if gone:
            return Result(PermanentFailure(f"Telegram: {message}"), invalid_reason=message)
        return Result(PermanentFailure(f"Telegram rejected the message: {message}"))
    if isinstance(exc, TimedOut):  # also a NetworkError
        return Result(TransientFailure(f"Telegram timed out: {message}"))
    if isinstance(exc, NetworkError):
        return Result(TransientFailure(f"Telegram network error: {message}"))
    if isinstance(exc, TelegramError):  # Conflict, EndPointNotFound, a bad response body
        return Result(TransientFailure(f"Telegram error {type(exc).__name__}: {message}"))
    logger.exception("Unexpected error sending a Telegram message; counting it as transient.")
    return Result(TransientFailure(f"{type(exc).__name__}: {message}"))


@dataclass
class BatchSender:
    bot: Bot
    limiter: RateLimiter
    connections: asyncio.Semaphore
    send_options: Mapping[str, Any]
    #: time.monotonic() after which no rate-limit slot is waited for (MAX_WAIT).
    deadline: float
    results: dict[int, Result] = field(default_factory=dict)
    bot_gate: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Chats that became supergroups during this batch: later messages go straight there.
    migrations: dict[str, str] = field(default_factory=dict)

    async def run_chat(self, jobs: Sequence[Job]) -> None:
        """Send one chat's messages in order; after a refusal or a flood wait, stop."""
        for position, job in enumerate(jobs):
            result = await self.send_job(job)
            self.results[job.index] = result
            stop = result.invalid_reason or (
                isinstance(result.outcome, TransientFailure) and result.outcome.retry_after
            )
            if stop:
                for later in jobs[position + 1 :]:
                    self.results[later.index] = Result(result.outcome, result.invalid_reason)
                return

    async def send_job(self, job: Job) -> Result:
        from telegram.error import ChatMigrated

        migrated_to = self.migrations.get(job.chat_id, "")
        chat_id, ids = migrated_to or job.chat_id, list[int]()
        for chunk in job.chunks:
            for _ in range(2):  # a second time only after ChatMigrated
                wait = await self._wait_for_slot(chat_id)
                if wait is not None:
                    return Result(wait, migrated_to=migrated_to, message_ids=ids)
                try:
                    async with self.connections:
                        message = await self.bot.send_message(
                            chat_id=_api_chat_id(chat_id),
                            text=chunk,
                            parse_mode="HTML",
                            **self.send_options,
                        )
                except ChatMigrated as exc:
                    chat_id = migrated_to = self.migrations[job.chat_id] = str(exc.new_chat_id)
                    continue
                except Exception as exc:
                    result = classify(exc)
                    if isinstance(result.outcome, TransientFailure) and result.outcome.retry_after:
                        self.limiter.pause_chat(chat_id, result.outcome.retry_after)
                    result.migrated_to, result.message_ids = migrated_to, ids
                    return result
                ids.append(message.message_id)
                break
            else:
                return Result(TransientFailure("Telegram: the chat migrated twice"))
        return Result(Sent(",".join(map(str, ids))), migrated_to=migrated_to, message_ids=ids)

    async def _wait_for_slot(self, chat_id: str) -> TransientFailure | None:
        """Sleep until this chat and the bot may send; a transient outcome if too far off."""
        wait = self.limiter.reserve_chat(chat_id, self.deadline)
        if wait < 0:
            return _too_far(-wait)
        await asyncio.sleep(wait)
        # One task at a time takes the bot-wide slot, sleeps until it and stamps it, so the
        # sends of this batch leave at least 1/MESSAGES_PER_SECOND apart.
        async with self.bot_gate:
            wait = self.limiter.reserve_bot(self.deadline)
            if wait < 0:
                return _too_far(-wait)
            await asyncio.sleep(wait)
            self.limiter.started(chat_id)
        return None


def _too_far(seconds: float) -> TransientFailure:
    return TransientFailure(
        f"Telegram rate limit: next slot in {seconds:.1f} s (MAX_WAIT)", seconds
    )


def _api_chat_id(chat_id: str) -> int | str:
    """Numeric ids as ints; ``@channelname`` as is."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


async def deliver(jobs: Sequence[Job], send_options: Mapping[str, Any]) -> dict[int, Result]:
    """Send ``jobs`` with a Bot created and shut down in this event loop."""
    connections = int(settings.number("CONNECTIONS"))
    bot = make_bot(connections=connections)
    limiter = limiter_for(
        settings.text("BOT_TOKEN"),
        settings.number("MESSAGES_PER_SECOND"),
        settings.number("CHAT_MESSAGES_PER_SECOND"),
        settings.number("GROUP_MESSAGES_PER_MINUTE"),
    )
    try:
        try:
            await bot.initialize()  # getMe: a wrong token fails here, once for the batch
        except Exception as exc:
            failed = classify(exc)
            return {job.index: Result(failed.outcome) for job in jobs}
        deadline = time.monotonic() + settings.number("MAX_WAIT")
        sender = BatchSender(bot, limiter, asyncio.Semaphore(connections), send_options, deadline)
        by_chat: dict[str, list[Job]] = {}
        for job in jobs:
            by_chat.setdefault(job.chat_id, []).append(job)
        await asyncio.gather(*(sender.run_chat(chat_jobs) for chat_jobs in by_chat.values()))
        return sender.results
    finally:
        await bot.shutdown()
