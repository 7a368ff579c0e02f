"""Email through the site's own email backend: SMTP, console, file, locmem, anymail.

One connection per batch, one message per recipient (multipart text + HTML), each
addressed to its recipient alone. Every message is built and sent inside its own
``try``: a failure is that message's outcome (email_outcomes.py), never the batch's,
because a batch that fails as a whole is retried as a whole and the messages already
handed to the server would go out again. Only a lost connection stops the batch.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from email.utils import make_msgid
from typing import Any

from django.core.checks import CheckMessage
from django.core.mail import EmailMultiAlternatives

from dsn_core.exceptions import TransientDeliveryError
from dsn_core.messages import Outcome, OutgoingMessage, Sent, TransientFailure
from dsn_core.messengers import BaseMessenger

from . import options, settings
from .addresses import split
from .email_outcomes import Judged, judge
from .mailers import open_connection
from .text import html_to_text

logger = logging.getLogger(__name__)


class DjangoEmailMessenger(BaseMessenger):
    """Backend options (optional): ``from_email``, ``reply_to``, ``one_click_unsubscribe``."""

    id = "django_email"
    label = "Email via Django's email backend"
    channel = "email"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        if not messages:
            return []
        options.require_valid(self.options, sendgrid=False)
        domain = sender_domain(self.options)
        connection = open_connection()
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientDeliveryError(f"cannot connect to the mail server: {exc!r}") from exc
        outcomes: list[Outcome] = []
        try:
            for outgoing in messages:
                judged = self._send_one(connection, outgoing, domain)
                outcomes.append(judged.outcome)
                if judged.lost:
                    reason = judged.outcome.reason  # type: ignore[union-attr]
                    outcomes += [TransientFailure(reason)] * (len(messages) - len(outcomes))
                    break
        finally:
            try:
                connection.close()
            except (OSError, smtplib.SMTPException):
                logger.warning("Closing the mail connection failed.", exc_info=True)
        return outcomes

    @classmethod
    def check(cls) -> list[CheckMessage]:
        from .checks import backend_checks, mailer_checks, settings_checks

        return settings_checks() + backend_checks(cls.id) + mailer_checks(cls.id)

    def email(self, outgoing: OutgoingMessage, domain: str) -> EmailMultiAlternatives:
        parts = outgoing.message
        text = parts.text or html_to_text(parts.html)
        headers = {"Message-ID": make_msgid(domain=domain)}
        if unsubscribe := parts.parts.get("unsubscribe_url"):
            headers["List-Unsubscribe"] = f"<{unsubscribe}>"
            if self.options.get("one_click_unsubscribe"):
                headers["List-Unsubscribe-Post"] = options.ONE_CLICK
        reply_to = settings.reply_to(self.options)
        email = EmailMultiAlternatives(
            subject=" ".join(parts.subject.split()),
            body=text,
            from_email=settings.from_email(self.options),
            to=[str(outgoing.recipient.address)],
            reply_to=[reply_to] if reply_to else None,
            headers=headers,
        )
        if parts.html:
            email.attach_alternative(parts.html, "text/html")
        return email

    def _send_one(self, connection: Any, outgoing: OutgoingMessage, domain: str) -> Judged:
        try:
            email = self.email(outgoing, domain)
            sent = connection.send_messages([email])
        except Exception as exc:
            return judge(exc, str(outgoing.recipient.address))
        if not sent:
            return Judged(TransientFailure("the email backend sent nothing"))
        return Judged(Sent(provider_id=email.extra_headers["Message-ID"]))


def sender_domain(backend_options: dict[str, Any]) -> str:
    """The From address's domain, for Message-IDs that belong to the sender.

    An invalid sender fails the batch transiently: the fix is in a setting or an
    option (dsn_email.E002 names it), and the deliveries wait for it.
    """
    sender = settings.from_email(backend_options)
    try:
        return split(sender)[1].rpartition("@")[2]
    except ValueError as exc:
        raise TransientDeliveryError(
            f"the sender is invalid: {exc}; fix the Backend option 'from_email', "
            f"{settings.setting_name('FROM_EMAIL')} or DEFAULT_FROM_EMAIL (dsn_email.E002)."
        ) from exc
