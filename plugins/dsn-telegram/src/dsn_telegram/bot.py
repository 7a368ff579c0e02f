"""Building a python-telegram-bot ``Bot`` from settings, and keeping its token out of logs.

A ``Bot`` owns an httpx client bound to the event loop it first ran in, so callers
create one inside each ``asyncio.run()`` and shut it down there (see PLUGINS.md):
:func:`make_bot` is cheap and never reused across loops.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import settings

if TYPE_CHECKING:
    from telegram import Bot


class RedactTokenFilter(logging.Filter):
    """httpx logs every request URL at INFO, PTB its base URL at DEBUG, and Bot API URLs
    contain the bot token: the loggers in :data:`LOGGERS` get this filter."""

    def filter(self, record: logging.LogRecord) -> bool:
        token = settings.text("BOT_TOKEN")
        if token:
            message = record.getMessage()
            if token in message:
                record.msg, record.args = redact(message), None
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
    """``message`` without the bot token (PTB puts it in InvalidToken messages)."""
    token = settings.text("BOT_TOKEN")
    return message.replace(token, "<BOT_TOKEN>") if token else message


def make_bot(*, read_timeout: float | None = None, connections: int | None = None) -> Bot:
    """A ``Bot`` for ``DSN["TELEGRAM"]``, every call bounded by ``TIMEOUT`` seconds.

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

    return Bot(
        token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=request(timeout),
        # getUpdates long-polls: its read timeout is the poll's duration plus TIMEOUT.
        get_updates_request=request(read_timeout or timeout),
    )
