"""Every way an X API call can end, mapped to a DSN outcome.

tweepy raises ``tweepy.errors.HTTPException`` subclasses for HTTP errors (the X
"problem" JSON in ``.response``, its messages in ``.api_messages``), lets ``requests``
exceptions through for transport errors, and raises *nothing* for a 200 whose body has
an ``errors`` array but no ``data`` (X's partial-error format, where ``type`` tells
what went wrong): :func:`from_errors` maps that one.

| what X says | outcome |
|---|---|
| 429 (15-minute or 24-hour limit) | transient; ``retry_after`` = exhausted limit's reset - now |
| 5xx, connection error, timeout, 408/409 | transient |
| 401 | permanent; the credentials or app permissions need fixing |
| 403 duplicate content | permanent, with X's message |
| 403 app not allowed (permissions, project) | permanent, for the whole batch |
| DM: 403, 404, not-found user, 400 on participant | permanent; contact point marked invalid |
| other 4xx | permanent, with X's message |
| 200 + ``errors`` | by problem type, as above; an unknown type is transient |
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from dsn_core.messages import Outcome, PermanentFailure, TransientFailure

#: X problem types (the last path part of ``type``) that concern the app, not a message.
APP_PROBLEMS = frozenset({"oauth1-permissions", "client-forbidden", "unsupported-authentication"})
#: Problem types saying the recipient cannot be reached by DM (not found, suspended,
#: DMs closed to us).
RECIPIENT_PROBLEMS = frozenset(
    {"resource-not-found", "not-authorized-for-resource", "resource-unavailable"}
)
TRANSIENT_PROBLEMS = frozenset({"rate-limit", "usage-capped", "operational-disconnect"})
#: Rate-limit header families X sends, each with ``-remaining`` and ``-reset`` (epoch s).
LIMIT_HEADERS = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")
CREDENTIALS_HINT = (
    "Check DSN['TWITTER'] (CONSUMER_KEY/CONSUMER_SECRET/ACCESS_TOKEN/ACCESS_TOKEN_SECRET, "
    "or OAUTH2_USER_TOKEN), regenerate the access token after changing the app's "
    "permissions to 'Read and write and Direct message', and run 'manage.py check'."
)


@dataclass(frozen=True)
class Verdict:
    """An outcome, plus what else follows from it."""

    outcome: Outcome
    #: The recipient's X account cannot receive our DMs: mark the contact point invalid.
    invalid_address: bool = False
    #: The rest of the batch would fail the same way: do not call X for it.
    stops_batch: bool = False


def from_exception(exc: Exception, *, direct_message: bool, timeout: float) -> Verdict | None:
    """The verdict for an exception tweepy raised; ``None`` when it is not one we know."""
    import tweepy

    if isinstance(exc, tweepy.errors.HTTPException):
        status = int(getattr(exc.response, "status_code", 0) or 0)
        message = "; ".join(str(m) for m in exc.api_messages) or str(exc)
        if isinstance(exc, tweepy.errors.TooManyRequests):
            return rate_limited(exc.response, exc.reset_time, message)
        return classify(status, problem_types(exc.response), message, direct_message)
    if isinstance(exc, requests.Timeout):
        return Verdict(TransientFailure(f"X did not answer within {timeout:g} s"), stops_batch=True)
    if isinstance(exc, requests.ConnectionError):
        return Verdict(
            TransientFailure(f"cannot connect to the X API: {type(exc).__name__}"),
            stops_batch=True,
        )
    if isinstance(exc, requests.RequestException):
        return Verdict(TransientFailure(f"request to X failed: {exc!r}"[:500]))
    return None


def from_errors(errors: Iterable[Mapping[str, Any]], *, direct_message: bool) -> Verdict:
    """The verdict for a 200 whose body has ``errors`` and no ``data``."""
    errors = list(errors)
    types = {_problem(error.get("type")) for error in errors} - {""}
    message = "; ".join(
        str(error.get("detail") or error.get("message") or error.get("title") or error)
        for error in errors
    )
    return classify(None, types, message or "no data and no error detail", direct_message)


def classify(status: int | None, types: set[str], message: str, direct_message: bool) -> Verdict:
    """Map an HTTP status (``None``: a 200 with errors), X problem types and message."""
    said = f"X said: {message}" if message else "X gave no reason"
    what = "direct message" if direct_message else "post"
    if status == 401 or "unsupported-authentication" in types:
        return Verdict(
            PermanentFailure(
                f"X rejected the credentials ({status or 200}); {said}. {CREDENTIALS_HINT}"
            ),
            stops_batch=True,
        )
    if types & APP_PROBLEMS or "oauth1 app permissions" in message.lower():
        return Verdict(
            PermanentFailure(f"the X app may not send this {what}; {said}. {CREDENTIALS_HINT}"),
            stops_batch=True,
        )
    if "duplicate" in message.lower():
        return Verdict(PermanentFailure(f"duplicate content: {said}"))
    if status == 429 or types & TRANSIENT_PROBLEMS:
        return Verdict(TransientFailure(f"X is limiting us; {said}"), stops_batch=status == 429)
    if status is not None and (status >= 500 or status in (408, 409)):
        return Verdict(TransientFailure(f"X API error {status}; {said}"), stops_batch=status >= 500)
    if direct_message and (
        status in (403, 404)
        or types & RECIPIENT_PROBLEMS
        or (status == 400 and "participant" in message.lower())
    ):
        return Verdict(
            PermanentFailure(f"cannot send a direct message to this X account; {said}"),
            invalid_address=True,
        )
    if status is not None:
        return Verdict(PermanentFailure(f"X refused the {what} ({status}); {said}"))
    if types & RECIPIENT_PROBLEMS or "invalid-request" in types:
        return Verdict(PermanentFailure(f"X refused the {what}; {said}"))
    return Verdict(TransientFailure(f"X answered without the new {what}; {said}"))


def rate_limited(response: Any, reset_time: int | None, message: str) -> Verdict:
    """429: retry when the exhausted limit resets (the latest, if several are)."""
    reset = reset_at(getattr(response, "headers", {}) or {}, reset_time)
    retry_after = max(0.0, reset - time.time()) if reset is not None else None
    when = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
    return Verdict(
        TransientFailure(f"X rate limit reached ({message}){when}", retry_after=retry_after),
        stops_batch=True,
    )


def reset_at(headers: Mapping[str, str], fallback: int | None = None) -> float | None:
    """The epoch second the binding limit resets: the latest reset among the limits
    whose ``-remaining`` is 0 (X sends 15-minute and 24-hour ones), else ``fallback``
    (tweepy's ``x-rate-limit-reset``)."""
    resets = []
    for family in LIMIT_HEADERS:
        remaining, reset = headers.get(f"{family}-remaining"), headers.get(f"{family}-reset")
        if remaining == "0" and reset and reset.isdigit():
            resets.append(float(reset))
    if resets:
        return max(resets)
    return float(fallback) if fallback is not None else None


def problem_types(response: Any) -> set[str]:
    """The problem types in an X error body (top-level ``type`` and each error's)."""
    try:
        body = response.json()
    except ValueError:
        return set()
    if not isinstance(body, Mapping):
        return set()
    entries = [body, *(e for e in body.get("errors") or [] if isinstance(e, Mapping))]
    return {_problem(entry.get("type")) for entry in entries} - {""}


def _problem(value: Any) -> str:
    # "https://api.twitter.com/2/problems/resource-not-found" -> "resource-not-found";
    # "about:blank" (X's plain 403 bodies) -> "".
    text = str(value or "")
    return text.rsplit("/", 1)[-1] if "/problems/" in text else ""
