"""Building a python-telegram-bot ``Bot`` from settings, and keeping its token out of logs.

A ``Bot`` owns httpx clients bound to the event loop they first ran in, so callers
create one inside each ``asyncio.run()`` and close it there (see PLUGINS.md):
:func:`open_bot` is cheap and never reused across loops. It closes the clients itself:
``Bot.shutdown()`` does nothing for a bot that was never initialised (no getMe), and a
client left open keeps its connections until garbage collection.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from . import settings

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.request import HTTPXRequest


class RedactTokenFilter(logging.Filter):
    """httpx logs every request URL at INFO, PTB its base URL at DEBUG, and Bot API URLs
    contain the bot token: the loggers in :data:`LOGGERS` get this filter."""

    def filter(self, record: logging.LogRecord) -> bool:
        if settings.text("BOT_TOKEN"):
            message = record.getMessage()
            redacted = redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_filter = RedactTokenFilter()
#: Loggers that write Bot API URLs (PTB names its loggers after classes).
LOGGERS = (
    "httpx",
    "httpcore",
    "telegram",
    "telegram.Bot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
)


def redact(message: str) -> str:
    """``message`` without the bot token (PTB puts it in InvalidToken messages), in any
    case: PTB lower-cases an error description after its "Bad Request: " prefix."""
    token = settings.text("BOT_TOKEN")
    if not token:
        return message
    return re.sub(re.escape(token), "<BOT_TOKEN>", message, flags=re.IGNORECASE)


@asynccontextmanager
async def open_bot(
    *, read_timeout: float | None = None, connections: int | None = None
) -> AsyncIterator[Bot]:
    """A ``Bot`` for ``DSN["TELEGRAM"]`` whose HTTP clients are closed on the way out,
    initialised or not. Raises :class:`~dsn_core.exceptions.ConfigurationError` when no
    token is set."""
    bot, requests = make_bot(read_timeout=read_timeout, connections=connections)
    try:
        yield bot
    finally:
        await asyncio.gather(*(request.shutdown() for request in requests))


def make_bot(
    *, read_timeout: float | None = None, connections: int | None = None
) -> tuple[Bot, tuple[HTTPXRequest, HTTPXRequest]]:
    """A ``Bot`` for ``DSN["TELEGRAM"]``, every call bounded by ``TIMEOUT`` seconds, and
    its two request objects (general and getUpdates), which the caller must shut down:
    use :func:`open_bot`.

    Raises :class:`~dsn_core.exceptions.ConfigurationError` when no token is set.
    """
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from dsn_core.exceptions import ConfigurationError

    token = settings.text("BOT_TOKEN")
    if not token:
        raise ConfigurationError(
            "DSN['TELEGRAM']['BOT_TOKEN'] is not set: create a bot with @BotFather and put "
            "its token in settings (from the environment)."
        )
    for name in LOGGERS:
        if _filter not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_filter)
    timeout = settings.number("TIMEOUT")
    size = connections or int(settings.number("CONNECTIONS"))
    api = settings.api_url()

    def request(read: float) -> HTTPXRequest:
        return HTTPXRequest(
            connection_pool_size=size,
            connect_timeout=timeout,
            read_timeout=read,
            write_timeout=timeout,
            pool_timeout=timeout,
            media_write_timeout=timeout,
        )

    general = request(timeout)
    # getUpdates long-polls: its read timeout is the poll's duration plus TIMEOUT.
    updates = request(read_timeout or timeout)
    bot = Bot(
        token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=general,
        get_updates_request=updates,
    )
    return bot, (general, updates)
