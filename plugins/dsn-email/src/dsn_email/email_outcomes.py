"""What an exception from Django's ``send_messages()`` means for the one message it sent.

Each message is judged on its own, so one bad message never fails (and, on the retry,
resends) the others of its batch. Besides SMTP's replies:

- ``ValueError``: Django refused to build the message (a newline in an address or a
  header, the header-injection guard). ``BadHeaderError`` is one; it is deprecated in
  Django 6.1, which raises plain ``ValueError``. Permanent: the same message fails again.
- django-anymail's errors, matched by class name so the plugin needs no anymail import:
  ``AnymailRecipientsRefused`` is permanent; ``AnymailAPIError`` is permanent for a 4xx
  answer (but 408 and 429) and transient otherwise. Checked first: anymail's HTTP error
  is also a ``requests`` error, an ``OSError``, and no dropped SMTP connection.
- Anything else is unexpected: logged with its traceback, transient for that message.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

from dsn_core.messages import Outcome, PermanentFailure, TransientFailure

logger = logging.getLogger(__name__)

LOST = "connection to the mail server lost"

#: SMTP's "service not available, closing transmission channel".
_CLOSING = 421


@dataclass(frozen=True)
class Judged:
    outcome: Outcome
    #: The connection is gone: the rest of the batch is not tried (transient).
    lost: bool = False


def judge(exc: Exception, recipient: str) -> Judged:
    if (anymail := _anymail(exc)) is not None:
        return Judged(anymail)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reason = next(iter(exc.recipients.values()), (550, b""))
        return _by_code(code, f"recipient refused: {code} {_decode(reason)}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _by_code(exc.smtp_code, f"sender refused: {_said(exc)}")
    if isinstance(exc, smtplib.SMTPResponseException):  # SMTPDataError and others
        return _by_code(exc.smtp_code, f"mail server said {_said(exc)}")
    if isinstance(exc, OSError):  # SMTPServerDisconnected, resets, timeouts
        return Judged(TransientFailure(f"{LOST}: {type(exc).__name__}: {exc}"), lost=True)
    if isinstance(exc, ValueError):
        return Judged(PermanentFailure(f"invalid message: {exc}"))
    logger.exception("Sending an email to %s raised; it will be retried.", recipient)
    return Judged(TransientFailure(f"{type(exc).__name__}: {exc}"))


def _anymail(exc: Exception) -> Outcome | None:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "AnymailRecipientsRefused" in names:
        return PermanentFailure(f"recipient refused: {exc}")
    if "AnymailAPIError" not in names:
        return None
    status = getattr(exc, "status_code", None)
    reason = f"email provider said: {exc}"
    if isinstance(status, int) and 400 <= status < 500 and status not in (408, 429):
        return PermanentFailure(reason)
    return TransientFailure(reason)


def _by_code(code: int, reason: str) -> Judged:
    """SMTP 4xx is "try again later", 5xx is final; 421 also closes the connection."""
    if code == _CLOSING:
        return Judged(TransientFailure(reason), lost=True)
    if 400 <= code < 500:
        return Judged(TransientFailure(reason))
    return Judged(PermanentFailure(reason))


def _said(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_decode(exc.smtp_error)}"


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
