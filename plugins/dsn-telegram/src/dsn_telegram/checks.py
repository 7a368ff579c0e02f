"""System checks for ``DSN["TELEGRAM"]``, run through each messenger's ``check()``.

| id | what |
|---|---|
| dsn_telegram.E001 | ``BOT_TOKEN`` is missing |
| dsn_telegram.E002 | ``BOT_TOKEN`` does not look like a BotFather token |
| dsn_telegram.E003 | a setting has the wrong type or is out of range |
| dsn_telegram.E004 | ``CHAT_ID`` is missing (broadcast messenger) |
| dsn_telegram.W001 | ``BOT_USERNAME`` is missing or malformed: no chat-linking links |
| dsn_telegram.W002 | ``WEBHOOK_SECRET`` is missing or malformed: the webhook refuses updates |

E003 is reported once, by the ``telegram`` messenger, for the use of either messenger;
it names a string setting's type, never its value (it may be a secret). Each is an
Error only while an enabled Backend uses the messenger, and a Warning (or
nothing, for what is merely unset) otherwise: installing the plugin never stops
``migrate``.
"""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Warning

from dsn_core.checks import backends_using

from . import settings

BROADCAST_ID = "telegram_broadcast"


def check_messenger(messenger_id: str, *, broadcast: bool) -> list[CheckMessage]:
    backends = backends_using(messenger_id)
    used = bool(backends)
    level = Error if used else Warning
    where = (
        f" (used by Backend {', '.join(backends)})"
        if used
        else f" (no enabled Backend uses {messenger_id!r} yet)"
    )
    messages: list[CheckMessage] = []
    if not broadcast:  # settings are shared: reported once, for either messenger's use
        shared = backends_using(messenger_id) + backends_using(BROADCAST_ID)
        messages += [
            (Error if shared else Warning)(
                f"{error} (used by Backend {', '.join(shared)})"
                if shared
                else f"{error} (no enabled Backend uses Telegram yet)",
                hint="Fix settings.DSN['TELEGRAM'].",
                obj=messenger_id,
                id="dsn_telegram.E003",
            )
            for error in settings.type_errors()
        ]
    token = settings.text("BOT_TOKEN")
    if not token and used:
        messages.append(
            Error(
                f"DSN['TELEGRAM']['BOT_TOKEN'] is not set{where}.",
                hint="Create a bot with @BotFather (/newbot) and set DSN['TELEGRAM']"
                "['BOT_TOKEN'] from an environment variable.",
                obj=messenger_id,
                id="dsn_telegram.E001",
            )
        )
    elif token and not settings.TOKEN_RE.match(token):
        messages.append(
            level(
                f"DSN['TELEGRAM']['BOT_TOKEN'] does not look like a bot token{where}; "
                "Telegram rejects it (InvalidToken) and every message fails.",
                hint="A token looks like '123456789:AA...' (35 characters after the colon); "
                "copy it again from @BotFather (/token).",
                obj=messenger_id,
                id="dsn_telegram.E002",
            )
        )
    if broadcast:
        if used and not settings.chat_id_setting():
            messages.append(
                Error(
                    f"DSN['TELEGRAM']['CHAT_ID'] is not set{where}.",
                    hint="Set it to the group or channel id (-100...) or '@channelname', or "
                    "give the Backend a chat_id option; add the bot to that chat first.",
                    obj=messenger_id,
                    id="dsn_telegram.E004",
                )
            )
        return messages
    username = settings.text("BOT_USERNAME")
    if (used or username) and not settings.USERNAME_RE.match(username.removeprefix("@")):
        messages.append(
            Warning(
                f"DSN['TELEGRAM']['BOT_USERNAME'] is {username!r}: users cannot link their "
                "chats without it.",
                hint="Set it to the bot's username from @BotFather, e.g. 'shop_alerts_bot'.",
                obj=messenger_id,
                id="dsn_telegram.W001",
            )
        )
    secret = settings.text("WEBHOOK_SECRET")
    if (used or secret) and not settings.SECRET_RE.match(secret):
        messages.append(
            Warning(
                "DSN['TELEGRAM']['WEBHOOK_SECRET'] is missing or not 1-256 characters of "
                "A-Z a-z 0-9 _ -: the webhook refuses every update (use 'manage.py dsn "
                "telegram poll' in development).",
                hint="Set it to a random string, e.g. secrets.token_urlsafe(32), then run "
                "'manage.py dsn telegram set-webhook'.",
                obj=messenger_id,
                id="dsn_telegram.W002",
            )
        )
    return messages
