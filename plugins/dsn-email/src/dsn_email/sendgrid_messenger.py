"""Email through SendGrid's v3 mail send API, batched.

Recipients whose rendered message is identical share one API call, up to SendGrid's
1,000 personalizations, each recipient in a personalization of their own so no one sees
another's address. With the Backend option ``template_id`` (a dynamic template), every
message of a batch shares calls and its parts travel as ``dynamic_template_data``.
Each personalization carries the delivery's id as the custom arg ``dsn_delivery``, which
the event webhook reads to match events back. How the calls' answers become outcomes,
and when a batch stops calling, is sendgrid_calls.py.

The part ``unsubscribe_url`` (the plugin's convention: a template opts in by rendering
it) travels per personalization as ``List-Unsubscribe``, so it does not split calls.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from django.core.checks import CheckMessage

from dsn_core.exceptions import TransientDeliveryError
from dsn_core.messages import Outcome, OutgoingMessage
from dsn_core.messengers import BaseMessenger

from . import options, settings
from .addresses import split
from .sendgrid_calls import BatchCalls, run
from .text import html_to_text

logger = logging.getLogger(__name__)

#: SendGrid's limit per request (docs); the SDK does not check it.
MAX_PERSONALIZATIONS = 1000
#: Custom arg naming the delivery: events echo custom args back.
DELIVERY_ARG = "dsn_delivery"


class SendGridMessenger(BaseMessenger):
    """Backend options (all optional): ``from_email``, ``reply_to``, ``template_id``
    (a SendGrid dynamic template), ``categories`` (list of strings),
    ``unsubscribe_group_id`` (SendGrid's ASM group), ``sandbox_mode`` (validate only),
    ``one_click_unsubscribe`` (the site handles RFC 8058 POSTs)."""

    id = "sendgrid"
    label = "Email via SendGrid"
    channel = "email"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        if not messages:
            return []
        options.require_valid(self.options, sendgrid=True)
        sender = self._sender()
        batch = BatchCalls(self._client(), lambda indexes: self.body(messages, indexes, sender))
        return run(batch, list(self._calls(messages)), len(messages))

    @classmethod
    def check(cls) -> list[CheckMessage]:
        from .checks import sendgrid_checks

        return sendgrid_checks(cls.id)

    # -- requests --------------------------------------------------------------------------

    def _client(self) -> Any:
        api_key = settings.setting("SENDGRID_API_KEY")
        if not api_key:
            # Transient: once the setting is fixed, the retries go out.
            raise TransientDeliveryError(
                f"{settings.setting_name('SENDGRID_API_KEY')} is not set (dsn_email.E001)."
            )
        from sendgrid import SendGridAPIClient

        host = str(settings.setting("SENDGRID_HOST")).rstrip("/")  # the SDK adds "/v3"
        client = SendGridAPIClient(api_key=str(api_key), host=host)
        client.client.timeout = settings.number("SENDGRID_TIMEOUT")
        return client

    def _sender(self) -> tuple[str, str]:
        """``(name, address)`` of the sender; an invalid sender or reply-to fails the
        batch transiently, as the fix is in a setting or option (dsn_email.E002/E003)."""
        try:
            if reply_to := settings.reply_to(self.options):
                split(reply_to)
            return split(settings.from_email(self.options))
        except ValueError as exc:
            raise TransientDeliveryError(
                f"the sender is invalid: {exc}; fix the Backend options 'from_email' and "
                f"'reply_to', {settings.setting_name('FROM_EMAIL')}, "
                f"{settings.setting_name('REPLY_TO')} or DEFAULT_FROM_EMAIL "
                "(dsn_email.E002, E003)."
            ) from exc

    def _calls(self, messages: Sequence[OutgoingMessage]) -> Iterator[list[int]]:
        """Indexes of the messages each call carries, at most 1,000 per call.

        Messages share a call when what the body carries is the same: subject, text and
        html (everything, with a dynamic template). Other parts, such as
        ``unsubscribe_url``, travel per personalization or not at all.
        """
        groups: dict[Any, list[int]] = {}
        dynamic = bool(self.options.get("template_id"))
        for index, outgoing in enumerate(messages):
            parts = outgoing.message
            key = None if dynamic else (parts.subject, parts.text, parts.html)
            groups.setdefault(key, []).append(index)
        for indexes in groups.values():
            for start in range(0, len(indexes), MAX_PERSONALIZATIONS):
                yield indexes[start : start + MAX_PERSONALIZATIONS]

    def body(
        self,
        messages: Sequence[OutgoingMessage],
        indexes: list[int],
        sender: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """The v3 mail send JSON for ``messages[i] for i in indexes``."""
        first = messages[indexes[0]].message
        name, address = sender or split(settings.from_email(self.options))
        body: dict[str, Any] = {
            "from": _address(address, name),
            "personalizations": [self._personalization(messages[i]) for i in indexes],
        }
        if reply_to := settings.reply_to(self.options):
            body["reply_to"] = _address(*reversed(split(reply_to)))
        if template_id := self.options.get("template_id"):
            body["template_id"] = template_id
        else:
            body["subject"] = _subject(first.subject, first.text or html_to_text(first.html))
            body["content"] = _content(first.text, first.html)
        body["categories"] = ["dsn", *options.extra_categories(self.options.get("categories", []))]
        if (group := self.options.get("unsubscribe_group_id")) is not None:
            body["asm"] = {"group_id": group}
        if self.options.get("sandbox_mode"):
            body["mail_settings"] = {"sandbox_mode": {"enable": True}}
        return body

    def _personalization(self, outgoing: OutgoingMessage) -> dict[str, Any]:
        user = outgoing.recipient.user
        full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
        personalization: dict[str, Any] = {
            "to": [_address(str(outgoing.recipient.address), full_name)],
            "custom_args": {DELIVERY_ARG: outgoing.reference},
        }
        if self.options.get("template_id"):
            parts = dict(outgoing.message.parts)
            if parts.get("html") and not parts.get("text"):
                parts["text"] = html_to_text(parts["html"])
            personalization["dynamic_template_data"] = parts
        if unsubscribe := outgoing.message.parts.get("unsubscribe_url"):
            headers = {"List-Unsubscribe": f"<{unsubscribe}>"}
            if self.options.get("one_click_unsubscribe"):
                headers["List-Unsubscribe-Post"] = options.ONE_CLICK
            personalization["headers"] = headers
        return personalization


def _address(email: str, name: str = "") -> dict[str, str]:
    return {"email": email, "name": name} if name else {"email": email}


def _subject(subject: str, text: str) -> str:
    """SendGrid requires a subject: the text's first line stands in for a missing one."""
    if subject.strip():
        return " ".join(subject.split())
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first_line[:78] or "(no subject)"


def _content(text: str, html: str) -> list[dict[str, str]]:
    """text/plain first (SendGrid's rule), derived from the HTML when missing."""
    text = text or html_to_text(html)
    content = [{"type": "text/plain", "value": text or " "}]
    if html:
        content.append({"type": "text/html", "value": html})
    return content
