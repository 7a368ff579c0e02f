"""The Telegram messengers: to each user's linked chat, or to one group or channel.

Backend options (JSON, non-secret):

- ``long_messages``: ``"split"`` (default) sends a text over 4,096 characters as several
  messages; ``"truncate"`` cuts it and adds "…". See :mod:`dsn_telegram.formatting` for
  what is sent and how it is escaped.
- ``max_parts`` (default 5): a split message is at most this many messages, the last one
  cut and ending with "…".
- ``silent``: ``true`` sends without a notification sound.
- ``link_preview``: ``false`` turns off link previews.
- ``chat_id`` (broadcast only): overrides ``DSN["TELEGRAM"]["CHAT_ID"]``.

``send()`` is synchronous, as core's workers are: it runs one event loop for the batch
(in a helper thread if the caller already runs one) and does its database work, marking
refused chats invalid and moving migrated ones, after the loop has finished. When more
than half the chats of a batch to five or more refuse the bot, none is marked: that is
a BOT_TOKEN of another bot, not users leaving (see ``wrong_bot``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from django.core.checks import CheckMessage
from django.db import IntegrityError, transaction

from dsn_core.exceptions import PermanentDeliveryError
from dsn_core.feedback import mark_address_invalid
from dsn_core.messages import Outcome, OutgoingMessage, PermanentFailure, Sent
from dsn_core.messengers import BaseMessenger

from . import settings
from .formatting import chunks_for
from .sender import Job, Result, deliver

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
T = TypeVar("T")
DEFAULT_MAX_PARTS = 5
#: A batch to at least this many chats, more than half of them refusing the bot, means a
#: wrong BOT_TOKEN rather than that many users leaving at once (see ``wrong_bot``).
WRONG_BOT_MIN_CHATS = 5


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` from sync code, in a helper thread if this thread runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class TelegramMessenger(BaseMessenger):
    """Sends each recipient's message to the chat they linked (contact point "telegram")."""

    id = "telegram"
    label = "Telegram (each user's linked chat)"
    channel = CHANNEL
    max_batch_size = 500

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        if not messages:
            return []
        if not settings.text("BOT_TOKEN"):
            raise PermanentDeliveryError(
                "DSN['TELEGRAM']['BOT_TOKEN'] is not set; see 'manage.py check'."
            )
        long_messages = str(self.options.get("long_messages") or "split")
        if long_messages not in {"split", "truncate"}:
            raise PermanentDeliveryError(
                f"Backend option long_messages must be 'split' or 'truncate', not "
                f"{long_messages!r}."
            )
        max_parts = self.options.get("max_parts", DEFAULT_MAX_PARTS)
        if isinstance(max_parts, bool) or not isinstance(max_parts, int) or max_parts < 1:
            raise PermanentDeliveryError(
                f"Backend option max_parts must be a whole number of at least 1, not {max_parts!r}."
            )
        outcomes: dict[int, Outcome] = {}
        jobs: list[Job] = []
        for index, outgoing in enumerate(messages):
            chat_id = self.chat_for(outgoing)
            if not chat_id:
                outcomes[index] = PermanentFailure("no Telegram chat id for this recipient")
                continue
            chunks = chunks_for(outgoing.message, long_messages, max_parts)
            if not chunks:
                outcomes[index] = PermanentFailure("the rendered message is empty")
                continue
            jobs.append(Job(index, chat_id, chunks, outgoing.reference))
        results = run_coroutine(deliver(jobs, self.send_options())) if jobs else {}
        wrong_bot = self.wrong_bot(jobs, results)
        for job in jobs:
            result = results[job.index]
            if wrong_bot and result.invalid_reason:  # keep the chat; a partial send stays Sent
                outcome = result.outcome
                if not isinstance(outcome, Sent):
                    outcome = PermanentFailure(wrong_bot)
                result = Result(outcome, migrated_to=result.migrated_to)
            outcomes[job.index] = result.outcome
            self.record_feedback(job.chat_id, result)
        return [outcomes[index] for index in range(len(messages))]

    def wrong_bot(self, jobs: Sequence[Job], results: dict[int, Result]) -> str:
        """A reason when most chats of a big batch say "gone": BOT_TOKEN belongs to another
        bot than the one users linked, and marking them all invalid would unlink everyone.
        """
        chats = {job.chat_id for job in jobs}
        gone = {job.chat_id for job in jobs if results[job.index].invalid_reason}
        if len(chats) < WRONG_BOT_MIN_CHATS or len(gone) * 2 <= len(chats):
            return ""
        logger.error(
            "Telegram refused %d of %d chats in one batch (e.g. %r): DSN['TELEGRAM']"
            "['BOT_TOKEN'] is probably another bot than the one users linked their chats "
            "to. No chat was marked invalid.",
            len(gone),
            len(chats),
            next(results[job.index].invalid_reason for job in jobs if job.chat_id in gone),
        )
        return (
            f"Telegram refused {len(gone)} of {len(chats)} chats in this batch, so no chat "
            "was marked invalid: check DSN['TELEGRAM']['BOT_TOKEN'] is the bot users linked "
            "to (the token of the bot named in BOT_USERNAME)."
        )

    def chat_for(self, outgoing: OutgoingMessage) -> str:
        return (outgoing.recipient.address or "").strip()

    def send_options(self) -> dict[str, Any]:
        from telegram import LinkPreviewOptions

        options: dict[str, Any] = {}
        if self.options.get("silent"):
            options["disable_notification"] = True
        if self.options.get("link_preview") is False:
            options["link_preview_options"] = LinkPreviewOptions(is_disabled=True)
        return options

    def record_feedback(self, chat_id: str, result: Result) -> None:
        """A refused chat is skipped by later events; a migrated one moves to its new id."""
        if result.migrated_to:
            move_chat(chat_id, result.migrated_to)
        if result.invalid_reason:
            mark_address_invalid(CHANNEL, result.migrated_to or chat_id, result.invalid_reason)

    @classmethod
    def check(cls) -> list[CheckMessage]:
        from .checks import check_messenger

        return check_messenger(cls.id, broadcast=False)


class TelegramBroadcastMessenger(TelegramMessenger):
    """Posts one message per event to a group or channel (``CHAT_ID``; the bot must be an
    admin of a channel, a member of a group)."""

    id = "telegram_broadcast"
    label = "Telegram (post to a group or channel)"
    broadcast = True

    def chat_for(self, outgoing: OutgoingMessage) -> str:
        chat = self.options.get("chat_id")
        if isinstance(chat, int) and not isinstance(chat, bool):
            return str(chat)
        return (
            chat.strip() if isinstance(chat, str) and chat.strip() else settings.chat_id_setting()
        )

    def record_feedback(self, chat_id: str, result: Result) -> None:
        # The destination is configuration, not a user's contact point: say what to change.
        if result.migrated_to:
            logger.warning(
                "Telegram group %s became supergroup %s; messages were sent there. Set "
                "DSN['TELEGRAM']['CHAT_ID'] (or the Backend's chat_id option) to %s.",
                chat_id,
                result.migrated_to,
                result.migrated_to,
            )

    @classmethod
    def check(cls) -> list[CheckMessage]:
        from .checks import check_messenger

        return check_messenger(cls.id, broadcast=True)


def move_chat(old: str, new: str) -> None:
    """Point every contact point of chat ``old`` at ``new`` (a group became a supergroup)."""
    from dsn_core.models import ContactPoint

    for point in ContactPoint.objects.filter(channel=CHANNEL, address=old):
        try:
            with transaction.atomic():
                point.address = new
                point.save(update_fields=["address", "updated"])
        except IntegrityError:  # the user already has the new chat: drop the old one
            point.delete()
    logger.info("Telegram chat %s migrated to %s; contact points updated.", old, new)
