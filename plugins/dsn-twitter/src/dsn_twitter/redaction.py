"""Keeping credentials out of logs and out of ``Delivery.last_error``.

A credential can reach a message without anyone meaning it to: ``http.client`` refuses a
header value with a newline by quoting the whole value (``Invalid header value b'Bearer
<token>\\n'``), and requests-oauthlib logs the signed headers at DEBUG level. The loggers
in :data:`LOGGERS` get :class:`RedactSecretsFilter`, which replaces every credential in
a record's message and traceback; an exception message is never stored as a delivery's
error (see ``messengers.TwitterMessenger.send_one``).
"""

from __future__ import annotations

import logging
import re

from . import settings

#: Loggers that may see a credential: ours, and those of the libraries that sign and
#: send the request.
LOGGERS = (
    "dsn_twitter",
    "dsn_twitter.messengers",
    "dsn_twitter.client",
    "tweepy.client",
    "requests_oauthlib.oauth1_auth",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
)
REDACTED = "<redacted>"
#: A credential with a control character inside is printed escaped ("ab\\x01cd"): each
#: printable run of at least this many characters is redacted on its own.
MIN_PIECE = 6
_SEPARATORS = re.compile(r"[^!-~]+")


def secret_pieces() -> list[str]:
    """The runs of printable ASCII in the configured credentials, longest first."""
    pieces = {
        piece
        for secret in settings.secrets()
        for piece in _SEPARATORS.split(secret)
        if len(piece) >= MIN_PIECE
    }
    return sorted(pieces, key=len, reverse=True)


def redact(text: str, pieces: list[str] | None = None) -> str:
    """``text`` with every configured credential (or printable run of one) replaced."""
    for piece in secret_pieces() if pieces is None else pieces:
        text = text.replace(piece, REDACTED)
    return text


class RedactSecretsFilter(logging.Filter):
    """Redacts credentials from a record's message, traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        pieces = secret_pieces()
        if not pieces:
            return True
        try:
            message = record.getMessage()
        except Exception:  # bad arguments: the handler reports that, not the caller
            return True
        if (clean := redact(message, pieces)) != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and (clean := redact(record.exc_text, pieces)) != record.exc_text:
            # Formatters print exc_text as it is; a handler that formats exc_info itself
            # (an error tracker) would show the secret, so the exception goes.
            record.exc_text, record.exc_info = clean, None
        if record.stack_info:
            record.stack_info = redact(record.stack_info, pieces)
        return True


_filter = RedactSecretsFilter()


def install() -> None:
    """Put the filter on :data:`LOGGERS` (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
