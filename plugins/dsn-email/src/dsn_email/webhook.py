"""SendGrid's signed event webhook: delivery receipts, bounces, drops and spam reports.

Mounted at ``dsn/email/sendgrid/events/``. Nothing is read or written before the ECDSA
signature over timestamp + body verifies against ``SENDGRID_WEBHOOK_PUBLIC_KEY`` and the
timestamp is recent; anything else gets 403 and changes nothing, a misconfigured setting
included (logged): SendGrid retries a 5xx for a day, a 403 tells the admin to look.

SendGrid does not promise the order of events, in a request or across requests: each
request's events are applied in the order of their ``timestamp``, and core never lets a
report replace a more final one (a late "delivered" does not undo a bounce).
"""

from __future__ import annotations

import binascii
import json
import logging
import time
from itertools import groupby
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dsn_core.exceptions import ConfigurationError
from dsn_core.feedback import apply_report, deliveries, mark_address_invalid

from . import settings
from .sendgrid_messenger import DELIVERY_ARG, SendGridMessenger
from .webhook_key import verifier

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

#: SendGrid event → (provider status recorded, whether the delivery failed).
EVENTS = {
    "delivered": ("delivered", False),
    "bounce": ("bounced", True),
    "dropped": ("dropped", True),
    "spamreport": ("spamreport", False),
}


@csrf_exempt
@require_POST
def sendgrid_events(request: HttpRequest) -> HttpResponse:
    try:
        refusal = verify(request)
    except ConfigurationError as exc:  # a setting of the wrong type: 403, not 500
        logger.error("SendGrid event webhook: %s Every request is refused.", exc)
        refusal = "event webhook misconfigured"
    if refusal:
        logger.warning("Refused a SendGrid event webhook request: %s.", refusal)
        return HttpResponseForbidden(refusal)
    try:
        events = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return JsonResponse({"error": "expected a JSON list of events"}, status=400)
    with transaction.atomic():
        applied = apply_events(events)
    return JsonResponse({"applied": applied, "ignored": len(events) - applied})


def verify(request: HttpRequest) -> str | None:
    """Why the request is not SendGrid's, or None when its signature verifies."""
    public_key = settings.setting("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if not public_key:
        logger.error(
            "SendGrid event webhook called but %s is not set: every request is refused.",
            settings.setting_name("SENDGRID_WEBHOOK_PUBLIC_KEY"),
        )
        return "event webhook verification key not configured"
    signature = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not signature or not timestamp:
        return "missing signature or timestamp header"
    try:
        age = time.time() - int(timestamp)
    except ValueError:
        return "timestamp is not a number"
    if abs(age) > settings.number("SENDGRID_WEBHOOK_MAX_AGE"):
        return f"timestamp is {int(age)} s old"
    try:
        payload = request.body.decode("utf-8")
        valid = verifier(str(public_key)).verify_signature(payload, signature, timestamp)
    except (UnicodeDecodeError, binascii.Error, ValueError, TypeError) as exc:
        return f"unreadable signature or key ({type(exc).__name__})"
    return None if valid else "signature does not verify"


def apply_events(events: list[dict[str, Any]]) -> int:
    """Apply what SendGrid reported, oldest first; return how many deliveries changed.

    A run of receipts of one status in a row is one UPDATE (their order among
    themselves does not matter); a failure is applied on its own, with its reason.
    """
    ours = [e for e in events if e.get("event") in EVENTS and e.get(DELIVERY_ARG) is not None]
    ours.sort(key=_timestamp)  # stable: events of one second keep the request's order
    applied = 0
    for (status, failed), run in groupby(ours, key=lambda e: EVENTS[e["event"]]):
        if failed:
            applied += sum(_apply_failure(event, status) for event in run)
        else:
            pks = [event[DELIVERY_ARG] for event in run]
            applied += apply_report(deliveries([SendGridMessenger.id], pks=pks), status)
    return applied


def _apply_failure(event: dict[str, Any], status: str) -> int:
    kind, reason = event["event"], _reason(event)
    rows = deliveries([SendGridMessenger.id], pks=[event[DELIVERY_ARG]])
    changed = apply_report(rows, status, failed=True, detail=f"SendGrid {kind}: {reason}")
    address = event.get("email")
    if kind == "bounce" and event.get("type", "bounce") == "bounce" and address:
        mark_address_invalid("email", str(address), f"bounced: {reason}")
    return min(changed, 1)


def _timestamp(event: dict[str, Any]) -> float:
    """The event's Unix time; an unreadable one sorts first (it is signed, not ours)."""
    try:
        stamp = float(event.get("timestamp", 0))
    except (TypeError, ValueError):
        return 0.0
    return stamp if stamp == stamp else 0.0  # NaN sorts nowhere


def _reason(event: dict[str, Any]) -> str:
    for key in ("reason", "response", "status"):
        if event.get(key):
            return str(event[key])[:500]
    return "no reason given"
