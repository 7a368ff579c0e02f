"""SendGrid's signed event webhook: delivery receipts, bounces, drops and spam reports.

Mounted at ``dsn/email/sendgrid/events/``. Nothing is read or written before the ECDSA
signature over timestamp + body verifies against ``SENDGRID_WEBHOOK_PUBLIC_KEY`` and the
timestamp is recent; anything else gets 403 and changes nothing.
"""

from __future__ import annotations

import binascii
import json
import logging
import time
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dsn_core.feedback import apply_report, deliveries, mark_address_invalid

from . import settings
from .sendgrid_messenger import DELIVERY_ARG, SendGridMessenger

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
    refusal = verify(request)
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
        from sendgrid import EventWebhook

        verifier = EventWebhook(str(public_key))
        valid = verifier.verify_signature(payload, signature, timestamp)
    except (UnicodeDecodeError, binascii.Error, ValueError, TypeError) as exc:
        return f"unreadable signature or key ({type(exc).__name__})"
    return None if valid else "signature does not verify"


def apply_events(events: list[dict[str, Any]]) -> int:
    """Apply what SendGrid reported; return how many deliveries it changed."""
    applied = 0
    receipts: dict[str, list[Any]] = defaultdict(list)  # status -> delivery pks
    for event in events:
        kind, pk = event.get("event"), event.get(DELIVERY_ARG)
        if kind not in EVENTS or pk is None:
            continue
        status, failed = EVENTS[kind]
        if not failed:
            receipts[status].append(pk)
            continue
        reason = _reason(event)
        rows = deliveries([SendGridMessenger.id], pks=[pk])
        applied += apply_report(rows, status, failed=True, detail=f"SendGrid {kind}: {reason}") > 0
        address = event.get("email")
        if kind == "bounce" and event.get("type", "bounce") == "bounce" and address:
            mark_address_invalid("email", str(address), f"bounced: {reason}")
    for status, pks in receipts.items():
        applied += apply_report(deliveries([SendGridMessenger.id], pks=pks), status)
    return applied


def _reason(event: dict[str, Any]) -> str:
    for key in ("reason", "response", "status"):
        if event.get(key):
            return str(event[key])[:500]
    return "no reason given"
