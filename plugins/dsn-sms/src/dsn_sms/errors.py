"""Twilio error codes and HTTP statuses → DSN outcomes, in one table.

https://www.twilio.com/docs/api/errors. A code missing here falls back to the HTTP
status: 429 and 5xx are transient, any other 4xx is permanent.

An answer that the next message would get too (a rate limit, rejected credentials)
stops the batch: the messages not sent yet get the same outcome without a call.
"""

from __future__ import annotations

from dataclasses import dataclass

OPTED_OUT = "opted out (STOP)"


@dataclass(frozen=True)
class ErrorKind:
    """``invalidate``: the recipient's number is unusable, so its contact point is marked
    invalid with ``invalid_reason`` (later events skip it with that reason).
    ``stops_batch``: every other message of the batch would get the same answer."""

    transient: bool
    description: str
    invalidate: bool = False
    invalid_reason: str = ""
    stops_batch: bool = False


#: Errors of the Messages API call (classic ``TwilioRestException`` codes).
SEND_ERRORS: dict[int, ErrorKind] = {
    20003: ErrorKind(
        False,
        "Twilio rejected the credentials (20003): check DSN['SMS']['ACCOUNT_SID'] and "
        "DSN['SMS']['AUTH_TOKEN'] (run 'manage.py check')",
        stops_batch=True,
    ),
    20429: ErrorKind(True, "Twilio rate limit (20429)", stops_batch=True),
    21211: ErrorKind(False, "invalid 'To' number (21211)", True, "not a valid phone number"),
    21214: ErrorKind(False, "'To' number cannot be reached (21214)", True, "cannot be reached"),
    21217: ErrorKind(False, "not a valid phone number (21217)", True, "not a valid phone number"),
    21407: ErrorKind(False, "this number type is not supported (21407)", True, "not supported"),
    21612: ErrorKind(False, "'To' number not reachable by SMS (21612)", True, "not SMS-capable"),
    21614: ErrorKind(False, "'To' number is not SMS-capable (21614)", True, "not SMS-capable"),
    21610: ErrorKind(False, "recipient opted out (21610)", True, OPTED_OUT),
    21408: ErrorKind(False, "sending to this region is not enabled on the Twilio account (21408)"),
    21606: ErrorKind(
        False,
        "the 'From' number cannot send SMS (21606): check DSN['SMS']['FROM_NUMBER']",
    ),
    21659: ErrorKind(
        False,
        "the 'From' number is not a Twilio number of this account (21659): check "
        "DSN['SMS']['FROM_NUMBER']",
    ),
    21608: ErrorKind(False, "trial accounts may only send to verified numbers (21608)"),
    21602: ErrorKind(False, "empty message body (21602)"),
    21617: ErrorKind(False, "message body too long (21617): set the 'max_segments' option"),
}

#: ``ErrorCode`` of an undelivered/failed status callback, for the delivery's error text.
CALLBACK_ERRORS: dict[str, ErrorKind] = {
    "30003": ErrorKind(False, "handset unreachable (30003)"),
    "30004": ErrorKind(False, "message blocked (30004)"),
    "30005": ErrorKind(False, "unknown destination (30005)", True, "unknown destination"),
    "30006": ErrorKind(
        False, "landline or unreachable carrier (30006)", True, "landline or unreachable"
    ),
    "30007": ErrorKind(False, "filtered by the carrier (30007)"),
    "30008": ErrorKind(False, "unknown delivery error (30008)"),
    "21610": ErrorKind(False, "recipient opted out (21610)", True, OPTED_OUT),
}


def classify(status: int | None, code: int | None) -> ErrorKind:
    """The outcome of a failed API call from its HTTP ``status`` and Twilio ``code``."""
    if code is not None and code in SEND_ERRORS:
        return SEND_ERRORS[code]
    if status == 401:
        return SEND_ERRORS[20003]
    if status == 429:
        return SEND_ERRORS[20429]
    if status is not None and status >= 500:
        return ErrorKind(True, f"Twilio server error (HTTP {status})")
    label = f"Twilio error {code}" if code and code != status else "Twilio refused the message"
    where = f"HTTP {status}" if status else "no HTTP status"  # raised by the SDK itself
    return ErrorKind(False, f"{label} ({where})")
