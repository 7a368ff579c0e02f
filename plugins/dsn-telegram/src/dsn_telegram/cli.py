"""``manage.py dsn telegram poll | set-webhook | delete-webhook``.

``poll`` is for development (no public URL): it long-polls getUpdates and handles each
update as the webhook would. Each round runs in its own event loop with its own Bot,
and the database work happens between rounds, in the command's thread.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dsn_core.cli import Options, argument, subcommand
from dsn_core.exceptions import ConfigurationError

from . import settings
from .bot import make_bot, redact
from .messenger import run_coroutine
from .updates import process_update

ALLOWED_UPDATES = ["message", "my_chat_member"]


@subcommand(
    "telegram",
    argument("action", choices=["poll", "set-webhook", "delete-webhook"]),
    argument("--url", help="webhook URL (default: DSN['TELEGRAM']['WEBHOOK_URL'])"),
    argument("--once", action="store_true", help="poll: handle one batch of updates, then stop"),
    argument("--poll-timeout", type=int, default=30, metavar="SECONDS", help="poll: long-poll"),
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

    bot = make_bot()
    try:
        return await getattr(bot, method)(**kwargs)
    except TelegramError as exc:
        raise CommandError(f"Telegram refused {method}: {redact(exc.message)}") from exc
    finally:
        await bot.shutdown()


async def _fetch(offset: int | None, poll_timeout: int) -> list[dict[str, Any]]:
    from telegram.error import Conflict, TelegramError

    bot = make_bot(read_timeout=poll_timeout + settings.number("TIMEOUT"))
    try:
        updates = await bot.get_updates(
            offset=offset, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
    except Conflict as exc:
        raise CommandError(
            f"Telegram refused getUpdates: {redact(exc.message)}. A webhook is set: run "
            "'manage.py dsn telegram delete-webhook' to poll instead."
        ) from exc
    except TelegramError as exc:
        raise CommandError(f"Telegram refused getUpdates: {redact(exc.message)}") from exc
    finally:
        await bot.shutdown()
    return [update.to_dict() for update in updates]


async def _reply(command: BaseCommand, replies: list[dict[str, Any]]) -> None:
    from telegram.error import TelegramError

    bot = make_bot()
    try:
        for reply in replies:
            try:
                await bot.send_message(chat_id=reply["chat_id"], text=reply["text"])
            except TelegramError as exc:  # the link is stored; only the answer was lost
                command.stderr.write(f"Could not answer chat {reply['chat_id']}: {exc.message}")
    finally:
        await bot.shutdown()


def _poll(command: BaseCommand, options: Options) -> None:
    offset: int | None = None
    poll_timeout = 0 if options["once"] else max(0, options["poll_timeout"])
    command.stdout.write("Polling Telegram for updates (Ctrl-C to stop)...")
    while True:
        try:
            updates = run_coroutine(_fetch(offset, poll_timeout))
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
        if options["once"]:
            if offset is not None:  # confirm what was handled, as the next round would
                run_coroutine(_fetch(offset, 0))
            return
