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
| 403 duplicate content, first attempt | permanent, with X's message |
| 403 duplicate content of a post, on a retry | sent (the earlier attempt created it) |
| 403 app not allowed (permissions, project) | permanent, for the whole batch |
| DM: 400/403/404 about the recipient (see below) | permanent; contact point marked invalid |
| DM: any other 403/404 (our account, token or plan) | permanent, for the whole batch |
| other 4xx | permanent, with X's message |
| 200 + ``errors`` | by problem type, as above; an unknown type is transient |
| a header or URL ``http.client`` cannot send | permanent, for the whole batch |

A refused DM blames the recipient only on a recipient-specific signal: a
``resource-not-found`` / ``not-authorized-for-resource`` / ``resource-unavailable``
problem type, an error about the ``participant_id`` parameter, or a message about this
user ("...to this user", "not following"...). A bare ``about:blank`` 403 is as likely to
be about our account, and marking every recipient invalid for it would silence them all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from dsn_core.messages import Outcome, PermanentFailure, Sent, TransientFailure

from .client import UnsendableRequest
from .redaction import redact

#: X problem types (the last path part of ``type``) that concern the app, not a message.
APP_PROBLEMS = frozenset({"oauth1-permissions", "client-forbidden", "unsupported-authentication"})
#: Problem types saying the recipient cannot be reached by DM (not found, suspended,
#: DMs closed to us).
RECIPIENT_PROBLEMS = frozenset(
    {"resource-not-found", "not-authorized-for-resource", "resource-unavailable"}
)
#: Lower-case fragments of X's messages that are about the DM's recipient.
RECIPIENT_PHRASES = (
    "to this user",
    "not following",
    "participant",
    "recipient",
    "could not find user",
    "user not found",
)
TRANSIENT_PROBLEMS = frozenset({"rate-limit", "usage-capped", "operational-disconnect"})
#: Rate-limit header families X sends, each with ``-remaining`` and ``-reset`` (epoch s).
LIMIT_HEADERS = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")
CREDENTIALS_HINT = (
    "Check DSN['TWITTER'] (CONSUMER_KEY/CONSUMER_SECRET/ACCESS_TOKEN/ACCESS_TOKEN_SECRET, "
    "or OAUTH2_USER_TOKEN), regenerate the access token after changing the app's "
    "permissions to 'Read and write and Direct message', and run 'manage.py check'."
)
SETTINGS_FIX = (
    "Run 'manage.py check' and fix DSN['TWITTER'] (the credentials as copied from the X "
    "developer portal, and API_URL if set), then retry the delivery."
)
ACCOUNT_HINT = (
    "Nothing says the recipient refused it, so no contact point is marked invalid: check "
    "that the account is not suspended or locked, that the app's permissions are 'Read "
    "and write and Direct message' (or the OAuth 2.0 token has the dm.write scope), and "
    "that the API plan includes the Direct Message endpoints."
)
#: What :func:`classify` records for a post X already has, on a retry.
ASSUMED_SENT = {"assumed": "duplicate of an earlier attempt that timed out"}


@dataclass(frozen=True)
class Verdict:
    """An outcome, plus what else follows from it."""

    outcome: Outcome
    #: The recipient's X account cannot receive our DMs: mark the contact point invalid.
    invalid_address: bool = False
    #: The rest of the batch would fail the same way: do not call X for it.
    stops_batch: bool = False


def from_exception(
    exc: Exception, *, direct_message: bool, timeout: float, attempt: int = 1
) -> Verdict | None:
    """The verdict for an exception tweepy raised; ``None`` when it is not one we know."""
    import tweepy

    if isinstance(exc, tweepy.errors.HTTPException):
        status = int(getattr(exc.response, "status_code", 0) or 0)
        message = "; ".join(str(m) for m in exc.api_messages) or str(exc)
        if isinstance(exc, tweepy.errors.TooManyRequests):
            return rate_limited(exc.response, exc.reset_time, message)
        types, parameters = problem_info(exc.response)
        return classify(
            status, types, message, direct_message, parameters=parameters, attempt=attempt
        )
    if unsendable(exc):
        return Verdict(
            PermanentFailure(
                f"the request to X could not be sent ({type(exc).__name__}): a value in "
                f"DSN['TWITTER'] holds a character HTTP does not allow. {SETTINGS_FIX}"
            ),
            stops_batch=True,
        )
    if isinstance(exc, requests.Timeout):
        return Verdict(TransientFailure(f"X did not answer within {timeout:g} s"), stops_batch=True)
    if isinstance(exc, requests.ConnectionError):
        return Verdict(
            TransientFailure(f"cannot connect to the X API: {type(exc).__name__}"),
            stops_batch=True,
        )
    if isinstance(exc, requests.RequestException):
        return Verdict(TransientFailure(redact(f"request to X failed: {exc!r}")[:500]))
    return None


def unsendable(exc: Exception) -> bool:
    """A request that cannot be sent as configured: ``http.client``'s ``ValueError``
    (wrapped by the adapter), or requests' own header and URL checks."""
    if isinstance(exc, UnsendableRequest):
        return True
    return (
        isinstance(exc, requests.RequestException)
        and isinstance(exc, ValueError)
        and not isinstance(exc, requests.exceptions.InvalidJSONError)  # X's body, not ours
    )


def from_errors(
    errors: Iterable[Mapping[str, Any]], *, direct_message: bool, attempt: int = 1
) -> Verdict:
    """The verdict for a 200 whose body has ``errors`` and no ``data``."""
    errors = [error for error in errors if isinstance(error, Mapping)]
    types = {_problem(error.get("type")) for error in errors} - {""}
    message = "; ".join(
        str(error.get("detail") or error.get("message") or error.get("title") or error)
        for error in errors
    )
    return classify(
        None,
        types,
        message or "no data and no error detail",
        direct_message,
        parameters=_parameters(errors),
        attempt=attempt,
    )


def classify(
    status: int | None,
    types: set[str],
    message: str,
    direct_message: bool,
    *,
    parameters: frozenset[str] = frozenset(),
    attempt: int = 1,
) -> Verdict:
    """Map an HTTP status (``None``: a 200 with errors), X problem types, the request
    parameters X complained about, and X's message. ``attempt`` > 1 is a retry."""
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
        if attempt > 1 and not direct_message:
            # The earlier attempt timed out or failed after X had created the post: X
            # refuses the same text again. The post is there, so this delivery is done.
            return Verdict(Sent(None, details=ASSUMED_SENT))
        return Verdict(PermanentFailure(f"duplicate content: {said}"))
    if status == 429 or types & TRANSIENT_PROBLEMS:
        return Verdict(TransientFailure(f"X is limiting us; {said}"), stops_batch=status == 429)
    if status is not None and (status >= 500 or status in (408, 409)):
        return Verdict(TransientFailure(f"X API error {status}; {said}"), stops_batch=status >= 500)
    about_recipient = (
        bool(types & RECIPIENT_PROBLEMS)
        or "participant_id" in parameters
        or any(phrase in message.lower() for phrase in RECIPIENT_PHRASES)
    )
    if direct_message and about_recipient and status in (None, 400, 403, 404):
        return Verdict(
            PermanentFailure(f"cannot send a direct message to this X account; {said}"),
            invalid_address=True,
        )
    if direct_message and status in (403, 404):
        return Verdict(
            PermanentFailure(f"X refused the direct message ({status}); {said}. {ACCOUNT_HINT}"),
            stops_batch=True,
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


def problem_info(response: Any) -> tuple[set[str], frozenset[str]]:
    """The problem types in an X error body (top-level ``type`` and each error's), and
    the request parameters its errors name."""
    try:
        body = response.json()
    except ValueError:
        return set(), frozenset()
    if not isinstance(body, Mapping):
        return set(), frozenset()
    errors = body.get("errors")
    entries = (
        [body, *(e for e in errors if isinstance(e, Mapping))]
        if isinstance(errors, list)
        else [body]
    )
    return {_problem(entry.get("type")) for entry in entries} - {""}, _parameters(entries)


def _parameters(errors: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    # X names the parameter as "parameter": "participant_id" (problem types) or as keys
    # of "parameters": {"participant_id": [...]} (400 invalid-request).
    names: set[str] = set()
    for error in errors:
        if isinstance(error.get("parameter"), str):
            names.add(error["parameter"])
        if isinstance(error.get("parameters"), Mapping):
            names.update(str(key) for key in error["parameters"])
    return frozenset(names)


def _problem(value: Any) -> str:
    # "https://api.twitter.com/2/problems/resource-not-found" -> "resource-not-found";
    # "about:blank" (X's plain 403 bodies) -> "".
    text = str(value or "")
    return text.rsplit("/", 1)[-1] if "/problems/" in text else ""
