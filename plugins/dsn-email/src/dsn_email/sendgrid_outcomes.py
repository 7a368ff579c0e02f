"""One SendGrid API call and what its answer means for the messages it carried.

Mapping (PLUGINS.md): 2xx sent (``X-Message-Id``); 429 transient until
``X-RateLimit-Reset``; 5xx, connection errors and timeouts transient; 400 permanent with
SendGrid's messages (and which personalizations they name); 401/403 permanent, naming the
API key setting; other 4xx permanent.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
from typing import Any

from dsn_core.messages import Outcome, PermanentFailure, Sent, TransientFailure

from .settings import setting_name

logger = logging.getLogger(__name__)

_PERSONALIZATION_FIELD = re.compile(r"^personalizations\.(\d+)\b")


def call(client: Any, body: dict[str, Any]) -> tuple[Outcome, set[int]]:
    """POST /v3/mail/send; the outcome for every message of the call, and the positions
    of the personalizations a 400 blames (empty unless SendGrid named some)."""
    from python_http_client.exceptions import HTTPError

    try:
        response = client.send(body)
    except HTTPError as exc:
        return from_http_error(exc.status_code, exc.body, exc.headers)
    except (OSError, http.client.HTTPException) as exc:  # URLError, TimeoutError, resets
        reason = getattr(exc, "reason", None) or exc
        return TransientFailure(f"SendGrid unreachable: {type(exc).__name__}: {reason}"), set()
    message_id = response.headers.get("X-Message-Id") if response.headers else None
    return Sent(provider_id=message_id or None), set()


def from_http_error(status: int, body: Any, headers: Any) -> tuple[Outcome, set[int]]:
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
        return TransientFailure(f"SendGrid rate limit (429): {detail}", retry_after), set()
    if status >= 500:
        return TransientFailure(f"SendGrid server error ({status}): {detail}"), set()
    if status in (401, 403):
        return PermanentFailure(
            f"SendGrid refused the API key ({status}: {detail}). Set "
            f"{setting_name('SENDGRID_API_KEY')} to a key with the Mail Send permission."
        ), set()
    if status == 404:
        return PermanentFailure(
            f"SendGrid answered 404 ({detail}): check {setting_name('SENDGRID_HOST')}."
        ), set()
    blamed: set[int] = set()
    for error in errors:
        match = _PERSONALIZATION_FIELD.match(str(error.get("field") or ""))
        if match is None:
            blamed = set()  # an error about the whole request: no one is spared
            break
        blamed.add(int(match[1]))
    return PermanentFailure(f"SendGrid rejected the message ({status}): {detail}"), blamed


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
