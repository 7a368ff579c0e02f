"""``manage.py dsn telegram poll | set-webhook | delete-webhook``.

``poll`` is for development (no public URL): it long-polls getUpdates and handles each
update as the webhook would. Each round runs in its own event loop with its own Bot
(its HTTP clients closed before the round ends), and the database work happens between
rounds, in the command's thread. A network error, a 5xx or a 429 does not stop it: it
waits (``--retry-base`` seconds, doubling up to a minute) and polls again; a webhook
being set (Conflict) or a rejected token does.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dsn_core.cli import Options, argument, subcommand
from dsn_core.exceptions import ConfigurationError

from . import settings
from .bot import open_bot, redact
from .messenger import run_coroutine
from .updates import process_update

ALLOWED_UPDATES = ["message", "my_chat_member"]
#: The longest wait (seconds) between getUpdates attempts after errors.
MAX_BACKOFF = 60.0


@subcommand(
    "telegram",
    argument("action", choices=["poll", "set-webhook", "delete-webhook"]),
    argument("--url", help="webhook URL (default: DSN['TELEGRAM']['WEBHOOK_URL'])"),
    argument("--once", action="store_true", help="poll: handle one batch of updates, then stop"),
    argument("--poll-timeout", type=int, default=30, metavar="SECONDS", help="poll: long-poll"),
    argument("--rounds", type=int, metavar="N", help="poll: stop after N getUpdates calls"),
    argument(
        "--retry-base",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="poll: wait after a network error, doubled after each in a row, up to 60 s",
    ),
    argument("--drop-pending-updates", action="store_true"),
)
def telegram(command: BaseCommand, options: Options) -> None:
    """Run the Telegram bot: register its webhook, or poll for updates in development.

    set-webhook registers https://<site>/dsn/telegram/webhook/ with WEBHOOK_SECRET;
    poll handles /start link tokens without a public URL (delete the webhook first).
    """
    try:
        if options["action"] == "set-webhook":
            _set_webhook(command, options)
        elif options["action"] == "delete-webhook":
            run_coroutine(
                _call("delete_webhook", drop_pending_updates=options["drop_pending_updates"])
            )
            command.stdout.write("Webhook deleted.")
        else:
            _poll(command, options)
    except ConfigurationError as exc:
        raise CommandError(str(exc)) from exc


def _set_webhook(command: BaseCommand, options: Options) -> None:
    url = options["url"] or settings.text("WEBHOOK_URL")
    secret = settings.text("WEBHOOK_SECRET")
    if not url:
        raise CommandError("Pass --url or set DSN['TELEGRAM']['WEBHOOK_URL'] (https://...).")
    if not settings.SECRET_RE.match(secret):
        raise CommandError(
            "Set DSN['TELEGRAM']['WEBHOOK_SECRET'] (1-256 of A-Z a-z 0-9 _ -) first: the "
            "webhook refuses updates without it."
        )
    run_coroutine(
        _call(
            "set_webhook",
            url=url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=options["drop_pending_updates"],
        )
    )
    command.stdout.write(f"Webhook set to {url}.")


async def _call(method: str, **kwargs: Any) -> Any:
    from telegram.error import TelegramError

    async with open_bot() as bot:
        try:
            return await getattr(bot, method)(**kwargs)
        except TelegramError as exc:
            raise CommandError(f"Telegram refused {method}: {redact(exc.message)}") from exc


class Unreachable(Exception):
    """getUpdates failed in a way that may pass: the network, a 5xx, a timeout, a 429."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


async def _fetch(offset: int | None, poll_timeout: int) -> list[dict[str, Any]]:
    from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter, TelegramError

    from .sender import as_seconds

    async with open_bot(read_timeout=poll_timeout + settings.number("TIMEOUT")) as bot:
        try:
            updates = await bot.get_updates(
                offset=offset, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
            )
        except Conflict as exc:
            raise CommandError(
                f"Telegram refused getUpdates: {redact(exc.message)}. A webhook is set: run "
                "'manage.py dsn telegram delete-webhook' to poll instead."
            ) from exc
        except RetryAfter as exc:
            raise Unreachable(redact(exc.message), as_seconds(exc.retry_after)) from exc
        except NetworkError as exc:  # TimedOut too; BadRequest is a NetworkError subclass
            if isinstance(exc, BadRequest):
                raise CommandError(f"Telegram refused getUpdates: {redact(exc.message)}") from exc
            raise Unreachable(f"{type(exc).__name__}: {redact(exc.message)}") from exc
        except TelegramError as exc:  # InvalidToken and the like: retrying cannot help
            raise CommandError(f"Telegram refused getUpdates: {redact(exc.message)}") from exc
    return [update.to_dict() for update in updates]


async def _reply(command: BaseCommand, replies: list[dict[str, Any]]) -> None:
    from telegram.error import TelegramError

    async with open_bot() as bot:
        for reply in replies:
            try:
                await bot.send_message(chat_id=reply["chat_id"], text=reply["text"])
            except TelegramError as exc:  # the link is stored; only the answer was lost
                command.stderr.write(
                    f"Could not answer chat {reply['chat_id']}: {redact(exc.message)}"
                )


def _poll(command: BaseCommand, options: Options) -> None:
    """Poll until Ctrl-C (or ``--rounds``). Outside ``--once``, network errors, 5xx and
    429 answers are waited out: ``--retry-base`` seconds, doubling up to MAX_BACKOFF."""
    offset: int | None = None
    once = options["once"]
    poll_timeout = 0 if once else max(0, options["poll_timeout"])
    rounds = 1 if once else options["rounds"]
    base = max(0.0, options["retry_base"])
    failures = 0
    command.stdout.write("Polling Telegram for updates (Ctrl-C to stop)...")
    while rounds is None or rounds > 0:
        if rounds is not None:
            rounds -= 1
        try:
            try:
                updates = run_coroutine(_fetch(offset, poll_timeout))
            except Unreachable as exc:
                if once:
                    raise CommandError(f"Telegram getUpdates failed: {exc}") from exc
                failures += 1
                wait = min(MAX_BACKOFF, base * 2 ** (failures - 1))
                wait = max(wait, exc.retry_after or 0.0)
                command.stderr.write(f"Telegram getUpdates failed ({exc}); retrying in {wait:g} s.")
                time.sleep(wait)
                continue
            failures = 0
            replies = []
            for update in updates:
                offset = int(update["update_id"]) + 1
                reply = process_update(update)
                if reply:
                    replies.append(reply)
            if replies:
                run_coroutine(_reply(command, replies))
            if updates:
                command.stdout.write(f"Handled {len(updates)} update(s).")
        except KeyboardInterrupt:
            return
    if offset is not None:  # confirm what was handled, as the next round would
        try:
            run_coroutine(_fetch(offset, 0))
        except Unreachable as exc:
            command.stderr.write(
                f"Could not confirm the handled updates ({exc}); the next poll sees them again."
            )
