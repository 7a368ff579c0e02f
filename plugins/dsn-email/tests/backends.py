"""Email backends for tests: one that sends nothing, one that fails like anymail.

The anymail exceptions are stand-ins with anymail's class names and attributes: the
messenger matches them by name, so the plugin needs no anymail import. As in anymail,
the API error over HTTP is also an ``OSError`` (``requests.HTTPError`` is one), which
must not be mistaken for a dropped SMTP connection.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class SendsNothing(LocmemBackend):
    """Accepts the messages and reports none sent (a backend with fail_silently, say)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        return 0


class AnymailError(Exception):
    def __init__(self, message: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class AnymailRecipientsRefused(AnymailError):
    pass


class AnymailAPIError(AnymailError):
    pass


class AnymailRequestsAPIError(AnymailAPIError, OSError):
    pass


class FailsLikeAnymail(LocmemBackend):
    """Fails by the recipient's local part: ``refused``, ``api<status>``, ``boom``."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            local = message.to[0].split("@")[0]
            if local == "refused":
                raise AnymailRecipientsRefused("Recipients refused: refused@example.com")
            if local.startswith("api"):
                status = int(local[3:]) if local[3:] else None
                raise AnymailRequestsAPIError(f"ESP API response {status}", status)
            if local == "boom":
                raise RuntimeError("the ESP client broke")
        return super().send_messages(email_messages)
