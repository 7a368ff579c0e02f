"""One SendGrid API call and what its answer means for the messages it carried.

Mapping (PLUGINS.md): 2xx sent (``X-Message-Id``); 429 transient until
``X-RateLimit-Reset`` (else ``Retry-After``); 5xx, connection errors and timeouts
transient; 400 permanent with SendGrid's messages (and which personalizations they name);
401/403 permanent, naming the API key setting — or, for SendGrid's "does not match a
verified Sender Identity", the sender settings; other 4xx permanent (413 is split by the
caller first). Transient answers and 401/403 stop the batch: the next call would get
the same answer.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from dsn_core.messages import Outcome, PermanentFailure, Sent, TransientFailure

from .settings import setting_name

logger = logging.getLogger(__name__)

_PERSONALIZATION_FIELD = re.compile(r"^personalizations\.(\d+)\b")


@dataclass(frozen=True)
class Answer:
    """What one call's answer means for the messages it carried."""

    outcome: Outcome
    #: Positions of the personalizations a 400 blames (empty unless SendGrid named some).
    blamed: set[int] = field(default_factory=set)
    status: int | None = None
    #: The rest of the batch gets ``outcome`` without being tried.
    stop: bool = False
    #: Logged once per batch (a configuration problem), never containing a secret.
    alarm: str | None = None


def call(client: Any, body: dict[str, Any]) -> Answer:
    """POST /v3/mail/send with ``body``."""
    from python_http_client.exceptions import HTTPError

    try:
        response = client.send(body)
    except HTTPError as exc:
        return from_http_error(exc.status_code, exc.body, exc.headers, body["from"]["email"])
    except (OSError, http.client.HTTPException) as exc:  # URLError, TimeoutError, resets
        reason = getattr(exc, "reason", None) or exc
        unreachable = f"SendGrid unreachable: {type(exc).__name__}: {reason}"
        return Answer(TransientFailure(unreachable), stop=True)
    message_id = response.headers.get("X-Message-Id") if response.headers else None
    return Answer(Sent(provider_id=message_id or None), status=response.status_code)


def from_http_error(status: int, body: Any, headers: Any, sender: str) -> Answer:
    errors = _errors(body)
    detail = (
        "; ".join(
            f"{e['field']}: {e['message']}" if e.get("field") else str(e.get("message", ""))
            for e in errors
        )
        or _text(body)[:500]
    )
    if status == 429:
        retry_after = _retry_after(headers)
        limited = TransientFailure(f"SendGrid rate limit (429): {detail}", retry_after)
        return Answer(limited, status=status, stop=True)
    if status >= 500:
        down = TransientFailure(f"SendGrid server error ({status}): {detail}")
        return Answer(down, status=status, stop=True)
    if status in (401, 403):
        reason = _refused(status, detail, sender, errors)
        return Answer(PermanentFailure(reason), status=status, stop=True, alarm=reason)
    if status == 404:
        return Answer(
            PermanentFailure(
                f"SendGrid answered 404 ({detail}): check {setting_name('SENDGRID_HOST')}."
            ),
            status=status,
        )
    blamed: set[int] = set()
    for error in errors:
        match = _PERSONALIZATION_FIELD.match(str(error.get("field") or ""))
        if match is None:
            blamed = set()  # an error about the whole request: no one is spared
            break
        blamed.add(int(match[1]))
    rejected = PermanentFailure(f"SendGrid rejected the message ({status}): {detail}")
    return Answer(rejected, blamed, status=status)


def _refused(status: int, detail: str, sender: str, errors: list[dict[str, Any]]) -> str:
    """401/403: the API key, unless SendGrid says the sender is not verified (403)."""
    about_sender = any(
        e.get("field") == "from" or "sender identity" in str(e.get("message", "")).lower()
        for e in errors
    )
    if about_sender:
        return (
            f"SendGrid refused the sender {sender} ({status}: {detail}). Verify that "
            "address or its domain in SendGrid (Settings → Sender Authentication), or set "
            f"{setting_name('FROM_EMAIL')} (or the Backend option 'from_email') to a "
            "verified one."
        )
    return (
        f"SendGrid refused the API key ({status}: {detail}). Set "
        f"{setting_name('SENDGRID_API_KEY')} to a key with the Mail Send permission."
    )


def _errors(body: Any) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(_text(body))
    except ValueError:
        return []
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return "" if body is None else str(body)


def _retry_after(headers: Any) -> float | None:
    """Seconds until SendGrid's ``X-RateLimit-Reset`` (epoch), else ``Retry-After``."""
    if headers is None:
        return None
    try:
        if reset := headers.get("X-RateLimit-Reset"):
            return max(1.0, float(reset) - time.time())
        if after := headers.get("Retry-After"):
            return max(1.0, float(after))
    except (TypeError, ValueError):
        logger.warning("SendGrid sent an unreadable rate-limit header; default backoff.")
    return None
