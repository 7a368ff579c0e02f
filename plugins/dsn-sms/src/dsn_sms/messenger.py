"""The Twilio SMS messenger: one Messages API call per recipient, every error mapped.

A batch is bounded, because core hands a claimed batch to another worker after
``CLAIM_TIMEOUT`` (``dsn requeue``), which would send again what this one is sending:

- an answer every later message would get too (timeout, unreachable, 429/20429,
  20003/401) stops the batch: the rest get the same outcome without a call;
- calls start only within a time budget, a third of ``CLAIM_TIMEOUT`` and at most
  60 s; past it the rest are transient (:data:`OUT_OF_TIME`) and retried at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import requests
from django.core.checks import CheckMessage
from django.core.exceptions import ValidationError
from twilio.base.exceptions import TwilioException, TwilioRestException

from dsn_core.conf import get_number_setting
from dsn_core.exceptions import PermanentDeliveryError
from dsn_core.feedback import mark_address_invalid
from dsn_core.messages import Outcome, OutgoingMessage, PermanentFailure, Sent, TransientFailure
from dsn_core.messengers import BaseMessenger

from . import settings as sms_settings
from .callback_urls import status_callback_url
from .client import DsnHttpClient, make_client
from .errors import ErrorKind, classify
from .phone import CHANNEL, mask_phone, normalize_phone
from .segments import SegmentInfo, count_segments, truncate

logger = logging.getLogger(__name__)

#: The outcome of the messages a batch had no time left for.
OUT_OF_TIME = TransientFailure("not sent: the batch ran out of time", retry_after=0)
#: Upper bound of a batch's time budget, in seconds.
MAX_BATCH_SECONDS = 60.0


def time_budget() -> float:
    """Seconds a batch may keep starting calls: min(60, CLAIM_TIMEOUT / 3). The last
    call may add up to ``TIMEOUT``; the rest of CLAIM_TIMEOUT covers that and core."""
    return min(MAX_BATCH_SECONDS, get_number_setting("CLAIM_TIMEOUT") / 3)


class TwilioSmsMessenger(BaseMessenger):
    """Sends each message's ``text`` part by SMS through Twilio's Messages API.

    Backend option ``max_segments`` (int >= 1) caps what one message may cost: a longer
    text is cut, with an ellipsis, to fit. Sender and credentials come from
    ``DSN["SMS"]``; status callbacks go to ``/dsn/sms/status/`` when ``BASE_URL`` is set.
    """

    id = "twilio_sms"
    label = "SMS (Twilio)"
    channel = CHANNEL
    max_batch_size = 25  # one API call each (up to TIMEOUT): keep a claimed batch short

    def max_segments(self) -> int | None:
        value = self.options.get("max_segments")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise PermanentDeliveryError(
                f"The Backend option 'max_segments' must be a whole number >= 1, not {value!r}."
            )
        return value

    def body(self, outgoing: OutgoingMessage) -> str:
        """The text sent: the ``text`` part (or the subject), cut to ``max_segments``."""
        text = (outgoing.message.text or outgoing.message.subject).strip()
        limit = self.max_segments()
        return truncate(text, limit) if limit and text else text

    def segments(self, outgoing: OutgoingMessage) -> SegmentInfo:
        """What ``outgoing`` will cost: encoding, size and segment count of its body."""
        return count_segments(self.body(outgoing))

    def sender(self) -> dict[str, str]:
        service, number = sms_settings.messaging_service_sid(), sms_settings.from_number()
        if service:
            return {"messaging_service_sid": service}
        if number:
            return {"from_": number}
        raise PermanentDeliveryError(
            "Set DSN['SMS']['FROM_NUMBER'] (E.164, e.g. '+14155550100') or "
            "DSN['SMS']['MESSAGING_SERVICE_SID'] ('MG...'): SMS has no sender."
        )

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        if not messages:
            return []
        missing = [
            name
            for name, value in (
                ("ACCOUNT_SID", sms_settings.account_sid()),
                ("AUTH_TOKEN", sms_settings.auth_token()),
            )
            if not value
        ]
        if missing:
            raise PermanentDeliveryError(
                f"DSN['SMS'] lacks {' and '.join(missing)}: set them from the Twilio console "
                "(read the token from the environment in settings.py)."
            )
        sender = self.sender()
        self.max_segments()  # a bad option fails the batch before anything is sent
        client, http = make_client()
        try:
            return self._send_all(client, http, sender, status_callback_url(), messages)
        finally:
            http.close()  # the pooled connections, whatever happened

    def _send_all(
        self,
        client: Any,
        http: DsnHttpClient,
        sender: dict[str, str],
        callback: str | None,
        messages: Sequence[OutgoingMessage],
    ) -> list[Outcome]:
        deadline = time.monotonic() + time_budget()
        outcomes: list[Outcome] = []
        stopped: Outcome | None = None
        for outgoing in messages:
            # The first message is always tried: every batch makes progress.
            if stopped is None and outcomes and time.monotonic() >= deadline:
                logger.warning(
                    "DSN SMS: the batch ran out of time after %d of %d message(s) "
                    "(budget %g s: min(60, CLAIM_TIMEOUT / 3)); the rest are retried.",
                    len(outcomes),
                    len(messages),
                    time_budget(),
                )
                stopped = OUT_OF_TIME
            if stopped is not None:
                outcomes.append(stopped)
                continue
            outcome, stops = self._send_one(client, http, sender, callback, outgoing)
            outcomes.append(outcome)
            if stops:
                stopped = outcome
        return outcomes

    def _send_one(
        self,
        client: Any,
        http: DsnHttpClient,
        sender: dict[str, str],
        callback: str | None,
        outgoing: OutgoingMessage,
    ) -> tuple[Outcome, bool]:
        """The message's outcome, and whether it stops the batch."""
        raw_address = outgoing.recipient.address or ""
        try:
            to = normalize_phone(raw_address)
        except ValidationError:
            return PermanentFailure(f"{raw_address!r} is not a valid phone number (E.164)."), False
        body = self.body(outgoing)
        if not body:
            return PermanentFailure("The message has no text to send by SMS."), False
        info = count_segments(body)
        extra: dict[str, str] = {"status_callback": callback} if callback else {}
        try:
            message = client.messages.create(to=to, body=body, **sender, **extra)
        except TwilioException as exc:
            return self._failure(exc, http, to)
        except requests.Timeout:
            return TransientFailure(f"Twilio did not answer within {http.timeout:g} s."), True
        except requests.ConnectionError as exc:
            return TransientFailure(f"Cannot reach Twilio: {type(exc).__name__}."), True
        except Exception as exc:
            logger.exception("DSN SMS: unexpected error sending message %s.", outgoing.reference)
            return TransientFailure(f"Unexpected error: {type(exc).__name__}"), False
        logger.info(
            "DSN SMS: message %s to %s accepted as %s: %d %s segment(s).",
            outgoing.reference,
            mask_phone(to),
            message.sid,
            info.segments,
            info.encoding,
        )
        return Sent(provider_id=str(message.sid), details=segment_details(info)), False

    def _failure(self, exc: TwilioException, http: DsnHttpClient, to: str) -> tuple[Outcome, bool]:
        # Never log or store str(exc): on a TTY it is full of ANSI colour codes.
        status = getattr(exc, "status", None)
        code = getattr(exc, "code", None)
        kind: ErrorKind = classify(status if isinstance(status, int) else None, _int(code))
        detail = _detail(exc)
        reason = f"{kind.description}: {detail}" if detail else kind.description
        if kind.transient:
            return TransientFailure(reason, retry_after=http.retry_after()), kind.stops_batch
        if kind.invalidate:
            mark_address_invalid(CHANNEL, to, kind.invalid_reason)
        if status is None and code is None:  # raised by the SDK itself, not by Twilio
            logger.error("DSN SMS: the Twilio SDK refused the call: %s", type(exc).__name__)
        return PermanentFailure(reason), kind.stops_batch

    @classmethod
    def check(cls) -> list[CheckMessage]:
        from .checks import check_settings

        return check_settings(cls.id)


def segment_details(info: SegmentInfo) -> dict[str, Any]:
    """What the admin shows on the delivery (``Delivery.provider_details``): carriers
    bill per segment, and one non-GSM-7 character switches the text to UCS-2."""
    return {"segments": info.segments, "encoding": info.encoding, "units": info.units}


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _detail(exc: TwilioException) -> str:
    """Twilio's own words, without the SDK's "Unable to create record: " prefix."""
    if isinstance(exc, TwilioRestException):
        text = str(exc.msg or "")
    else:  # TwilioServiceException (RFC 9457) or the SDK's own TwilioException
        text = str(getattr(exc, "detail", None) or getattr(exc, "title", None) or "")
    return text.removeprefix("Unable to create record: ").strip()[:500]
