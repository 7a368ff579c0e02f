"""What the bot does with an update, from the webhook or from ``dsn telegram poll``.

- ``/start <token>`` in a private chat: verify the link token and connect the chat.
- ``my_chat_member`` going to ``kicked`` (the user blocked the bot): mark the chat
  invalid, so events skip it at once; back to ``member`` (unblocked): valid again.

Everything else is ignored. The answer is a Bot API call as a dict (``sendMessage``),
which the webhook returns in its response body and the poller sends.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext as _

from dsn_core.feedback import mark_address_invalid, mark_address_valid

from .linking import CHANNEL, LinkError, link_chat

logger = logging.getLogger(__name__)


def process_update(update: Any) -> dict[str, Any] | None:
    """Handle one update (the Bot API's JSON object); return a reply call or ``None``."""
    if not isinstance(update, dict):
        return None
    message = update.get("message")
    if isinstance(message, dict):
        return _message(message)
    member = update.get("my_chat_member")
    if isinstance(member, dict):
        _membership(member)
    return None


def _message(message: dict[str, Any]) -> dict[str, Any] | None:
    chat = message.get("chat")
    text = message.get("text")
    if not isinstance(chat, dict) or not isinstance(text, str) or not text.startswith("/start"):
        return None
    chat_id = chat.get("id")
    if not isinstance(chat_id, int) or chat.get("type") != "private":
        return None
    command, _sep, payload = text.partition(" ")
    if command.split("@")[0] != "/start":
        return None
    payload = payload.strip()
    if not payload:
        reply = _("Open the Telegram link on the website to receive its notifications here.")
    else:
        try:
            user = link_chat(payload, chat_id)
        except LinkError as exc:
            logger.info("Telegram chat %s sent a link token that was refused: %s", chat_id, exc)
            reply = _(
                "This link is invalid, expired or already used. Open a new one on the website."
            )
        else:
            logger.info("Telegram chat %s linked to user %s.", chat_id, user.pk)
            reply = _("Done: notifications for %(user)s will arrive in this chat.") % {
                "user": user.get_username()
            }
    return {"method": "sendMessage", "chat_id": chat_id, "text": reply}


def _membership(member: dict[str, Any]) -> None:
    chat = member.get("chat")
    new = member.get("new_chat_member")
    if not isinstance(chat, dict) or not isinstance(new, dict) or chat.get("type") != "private":
        return
    address = str(chat.get("id"))
    status = new.get("status")
    if status == "kicked":
        mark_address_invalid(CHANNEL, address, "Forbidden: bot was blocked by the user")
    elif status == "member":
        mark_address_valid(CHANNEL, address)
