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
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dsn_core.messages import Outcome, PermanentFailure, Sent, TransientFailure

from . import settings
from .bot import open_bot, redact
from .ratelimit import RateLimiter, limiter_for

if TYPE_CHECKING:
    from telegram import Bot

logger = logging.getLogger(__name__)

INVALID_TOKEN = (
    "Telegram rejected DSN['TELEGRAM']['BOT_TOKEN'] (InvalidToken): copy the token again "
    "from @BotFather (/token); 'manage.py check' validates its format."
)
NOT_FOUND = (
    "Telegram answered 404 Not Found: DSN['TELEGRAM']['BOT_TOKEN'] is malformed or "
    "DSN['TELEGRAM']['API_URL'] does not point at a Bot API server; check the token "
    "(@BotFather, /token) and API_URL (default https://api.telegram.org)."
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
    #: The delivery (``OutgoingMessage.reference``), for logs.
    reference: str = ""


@dataclass
class Result:
    outcome: Outcome
    #: The chat refused the bot for good: mark the contact point invalid with this reason.
    invalid_reason: str = ""
    #: The group became a supergroup with this id (ChatMigrated): the message went there.
    migrated_to: str = ""
    message_ids: list[int] = field(default_factory=list)
    #: When ``outcome`` is a partial Sent: the failure that stopped the message, which
    #: the chat's later messages in the batch get.
    failure: Outcome | None = None


def as_seconds(value: int | float | dt.timedelta) -> float:
    """``RetryAfter.retry_after``: a timedelta with ``PTB_TIMEDELTA=true``, else an int."""
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
        seconds = as_seconds(exc.retry_after)
        return Result(
            TransientFailure(f"Telegram flood control: retry after {seconds:g} s", seconds)
        )
    if isinstance(exc, InvalidToken):  # 401, or 404; Bot.initialize() wraps the original
        original = exc.__cause__ if isinstance(exc.__cause__, InvalidToken) else exc
        not_found = "not found" in original.message.lower()
        return Result(PermanentFailure(NOT_FOUND if not_found else INVALID_TOKEN))
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
            failure = result.failure or result.outcome
            stop = result.invalid_reason or (
                isinstance(failure, TransientFailure) and failure.retry_after
            )
            if stop:
                for later in jobs[position + 1 :]:
                    self.results[later.index] = Result(failure, result.invalid_reason)
                return

    async def send_job(self, job: Job) -> Result:
        """Send every part of ``job``, or none when its chat's slots are too far off.

        All the parts' chat slots are reserved before the first leaves, and once one
        has left the rest are sent whatever the wait: a message is never cut short by
        ``MAX_WAIT``, and never retried from its first part.
        """
        from telegram.error import ChatMigrated

        migrated_to = self.migrations.get(job.chat_id, "")
        chat_id, ids = migrated_to or job.chat_id, list[int]()
        too_far = await self._reserve(chat_id, len(job.chunks), self.deadline)
        if too_far:
            return Result(too_far, migrated_to=migrated_to)
        departed: float | None = None
        position, migrated_this_part = 0, False
        while position < len(job.chunks):
            if departed is not None:  # the next part: one chat interval after the last
                gap = departed + self.limiter.chat_interval(chat_id) - time.monotonic()
                await asyncio.sleep(max(0.0, gap))
            try:
                async with self.connections:
                    # Once a part has gone, the rest are sent however long they wait.
                    slot = await self._bot_slot(chat_id, math.inf if ids else self.deadline)
                    if isinstance(slot, TransientFailure):
                        return Result(slot, migrated_to=migrated_to)
                    departed = slot
                    message = await self.bot.send_message(
                        chat_id=_api_chat_id(chat_id),
                        text=job.chunks[position],
                        parse_mode="HTML",
                        **self.send_options,
                    )
            except ChatMigrated as exc:
                if migrated_this_part:
                    failed = Result(TransientFailure("Telegram: the chat migrated twice"))
                    return self._stopped(job, failed, ids, migrated_to)
                chat_id = migrated_to = self.migrations[job.chat_id] = str(exc.new_chat_id)
                departed, migrated_this_part = None, True
                deadline = math.inf if ids else self.deadline
                too_far = await self._reserve(chat_id, len(job.chunks) - position, deadline)
                if too_far:
                    return Result(too_far, migrated_to=migrated_to)
                continue
            except Exception as exc:
                result = classify(exc)
                if isinstance(result.outcome, TransientFailure) and result.outcome.retry_after:
                    self.limiter.pause_chat(chat_id, result.outcome.retry_after)
                return self._stopped(job, result, ids, migrated_to)
            ids.append(message.message_id)
            position, migrated_this_part = position + 1, False
        return Result(Sent(",".join(map(str, ids))), migrated_to=migrated_to, message_ids=ids)

    async def _reserve(self, chat_id: str, count: int, deadline: float) -> TransientFailure | None:
        """Reserve ``count`` slots for ``chat_id`` and sleep until the first; an outcome
        (transient, with the wait as retry-after) when they are after ``deadline``."""
        wait = self.limiter.reserve_chat(chat_id, deadline, count)
        if wait < 0:
            return _too_far(-wait)
        await asyncio.sleep(wait)
        return None

    async def _bot_slot(self, chat_id: str, deadline: float) -> float | TransientFailure:
        """Sleep until the bot-wide slot and stamp the departure (returned); a transient
        outcome when the slot is after ``deadline``.

        One task at a time, holding a connection, takes the slot: sends leave at least
        one bot interval apart, and a task waiting for a connection has no slot to waste.
        """
        async with self.bot_gate:
            wait = self.limiter.reserve_bot(deadline)
            if wait < 0:
                return _too_far(-wait)
            await asyncio.sleep(wait)
            return self.limiter.started(chat_id)

    def _stopped(self, job: Job, failed: Result, ids: list[int], migrated_to: str) -> Result:
        """The outcome of ``job`` when a part failed. Once a part has gone, it is Sent
        (with the parts in ``details``), never transient: a retry would resend the parts
        already delivered. The failure still stops the chat and marks it invalid."""
        failed.migrated_to, failed.message_ids = migrated_to, ids
        if not ids:
            return failed
        reason = getattr(failed.outcome, "reason", "")
        logger.warning(
            "Telegram delivery %s: sent %d of %d parts to chat %s, then %s. Not retried, "
            "so the parts sent do not arrive twice.",
            job.reference or "?",
            len(ids),
            len(job.chunks),
            migrated_to or job.chat_id,
            reason,
        )
        details = {"parts_sent": len(ids), "parts_total": len(job.chunks), "error": reason}
        return Result(
            Sent(",".join(map(str, ids)), details=details),
            invalid_reason=failed.invalid_reason,
            migrated_to=migrated_to,
            message_ids=ids,
            failure=failed.outcome,
        )


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
    """Send ``jobs`` with a Bot created and closed in this event loop."""
    connections = int(settings.number("CONNECTIONS"))
    limiter = limiter_for(
        settings.text("BOT_TOKEN"),
        settings.number("MESSAGES_PER_SECOND"),
        settings.number("CHAT_MESSAGES_PER_SECOND"),
        settings.number("GROUP_MESSAGES_PER_MINUTE"),
    )
    async with open_bot(connections=connections) as bot:
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
