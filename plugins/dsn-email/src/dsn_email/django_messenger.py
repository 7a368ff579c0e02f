"""Email through the site's own email backend: SMTP, console, file, locmem, anymail.

One connection per batch, one message per recipient (multipart text + HTML), each
addressed to its recipient alone. SMTP refusals are read per recipient: a refused
address fails permanently, a dropped connection or a 4xx reply fails transiently.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from email.utils import make_msgid

from django.core.checks import CheckMessage
from django.core.mail import EmailMultiAlternatives

from dsn_core.exceptions import TransientDeliveryError
from dsn_core.messages import Outcome, OutgoingMessage, PermanentFailure, Sent, TransientFailure
from dsn_core.messengers import BaseMessenger

from . import settings
from .mailers import open_connection
from .text import html_to_text

logger = logging.getLogger(__name__)


class DjangoEmailMessenger(BaseMessenger):
    """Backend options (optional): ``from_email``, ``reply_to``."""

    id = "django_email"
    label = "Email via Django's email backend"
    channel = "email"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        if not messages:
            return []
        emails = [self.email(outgoing) for outgoing in messages]
        connection = open_connection()
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientDeliveryError(f"cannot connect to the mail server: {exc!r}") from exc
        outcomes: list[Outcome] = []
        try:
            for email in emails:
                outcomes.append(self._send_one(connection, email))
                if isinstance(outcomes[-1], TransientFailure) and _connection_lost(outcomes[-1]):
                    reason = outcomes[-1].reason
                    outcomes += [TransientFailure(reason)] * (len(emails) - len(outcomes))
                    break
        finally:
            try:
                connection.close()
            except (OSError, smtplib.SMTPException):
                logger.warning("Closing the mail connection failed.", exc_info=True)
        return outcomes

    @classmethod
    def check(cls) -> list[CheckMessage]:
        from .checks import backend_checks, settings_checks

        return settings_checks() + backend_checks(cls.id)

    def email(self, outgoing: OutgoingMessage) -> EmailMultiAlternatives:
        parts = outgoing.message
        text = parts.text or html_to_text(parts.html)
        headers = {"Message-ID": make_msgid(domain="dsn")}
        if unsubscribe := parts.parts.get("unsubscribe_url"):
            headers["List-Unsubscribe"] = f"<{unsubscribe}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
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

    @staticmethod
    def _send_one(connection: object, email: EmailMultiAlternatives) -> Outcome:
        message_id = email.extra_headers["Message-ID"]
        try:
            sent = connection.send_messages([email])  # type: ignore[attr-defined]
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()), (550, b""))
            return _by_code(code, f"recipient refused: {code} {_decode(reason)}")
        except smtplib.SMTPSenderRefused as exc:
            return _by_code(exc.smtp_code, f"sender refused: {_said(exc)}")
        except smtplib.SMTPResponseException as exc:  # SMTPDataError and others with a code
            return _by_code(exc.smtp_code, f"mail server said {_said(exc)}")
        except (OSError, smtplib.SMTPException) as exc:  # disconnects, timeouts
            return TransientFailure(f"{_LOST}: {type(exc).__name__}: {exc}")
        if not sent:
            return TransientFailure("the email backend sent nothing")
        return Sent(provider_id=message_id)


_LOST = "connection to the mail server lost"


def _connection_lost(outcome: TransientFailure) -> bool:
    return outcome.reason.startswith(_LOST)


def _by_code(code: int, reason: str) -> Outcome:
    """SMTP 4xx is "try again later", 5xx is final."""
    return TransientFailure(reason) if 400 <= code < 500 else PermanentFailure(reason)


def _said(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_decode(exc.smtp_error)}"


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
