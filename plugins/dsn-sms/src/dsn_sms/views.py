"""Twilio webhooks: message status callbacks and (optionally) inbound STOP/START.

Both verify ``X-Twilio-Signature`` with the account's auth token before reading
anything; a missing or wrong signature gets 403 and changes nothing. Twilio's signature
carries no timestamp or nonce: a captured signed request can be replayed (README).
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dsn_core.feedback import apply_report, deliveries, mark_address_invalid, mark_address_valid

from . import settings as sms_settings
from .callback_urls import public_url
from .errors import CALLBACK_ERRORS, OPTED_OUT
from .phone import CHANNEL, mask_phone, normalize_phone

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"

#: Message statuses Twilio reports to a status callback; others are ignored.
STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "canceled",
    }
)
FAILED = frozenset({"undelivered", "failed"})

#: Twilio's default opt-out and opt-in keywords (it handles them itself for long codes
#: and answers the sender; DSN only records the choice).
STOP_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_KEYWORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})


def messenger_ids() -> list[str]:
    """Ids of this plugin's messengers (subclasses registered by a site count too)."""
    from dsn_core import registry

    from .messenger import TwilioSmsMessenger

    return [e.id for e in registry.messengers if issubclass(e.cls, TwilioSmsMessenger)]


def signed_urls(request: HttpRequest) -> list[str]:
    """The URLs Twilio may have signed for this request.

    - the request's own URL (behind a TLS proxy set SECURE_PROXY_SSL_HEADER);
    - ``BASE_URL`` + the request's path (script name included);
    - ``BASE_URL`` + this view's path as a worker reverses it: the status callback URL
      the messenger gave Twilio, even when the request arrives under another
      ``SCRIPT_NAME`` (a prefix a proxy adds, or one that is already in ``BASE_URL``).
    """
    urls = [request.build_absolute_uri()]
    base = sms_settings.base_url()
    match = request.resolver_match
    if base:
        urls.append(base + request.get_full_path())
        worker_url = public_url(match.view_name) if match and match.url_name else None
        if worker_url:
            query = request.META.get("QUERY_STRING", "")
            urls.append(worker_url + (f"?{query}" if query else ""))
    return list(dict.fromkeys(urls))


def signature_is_valid(request: HttpRequest) -> bool:
    """Twilio signs the URL it called plus the sorted POST parameters with the auth token."""
    from twilio.request_validator import RequestValidator

    token, signature = sms_settings.auth_token(), request.headers.get(SIGNATURE_HEADER, "")
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    return any(validator.validate(url, request.POST, signature) for url in signed_urls(request))


def _forbidden(request: HttpRequest) -> HttpResponse:
    logger.warning(
        "DSN SMS: refused a Twilio webhook on %s: missing or invalid %s.",
        request.path,
        SIGNATURE_HEADER,
    )
    return HttpResponseForbidden("Invalid Twilio signature.")


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    """Record a message's status (``MessageStatus``) on the delivery with its ``MessageSid``."""
    if not signature_is_valid(request):
        return _forbidden(request)
    sid, status = request.POST.get("MessageSid", ""), request.POST.get("MessageStatus", "")
    if not sid or status not in STATUSES:
        return HttpResponse(status=204)
    rows = deliveries(messenger_ids(), provider_ids=[sid])
    code = request.POST.get("ErrorCode", "")
    detail = ""
    if status in FAILED:
        kind = CALLBACK_ERRORS.get(code)
        detail = f"Twilio: {status}"
        detail += f", {kind.description}" if kind else f", error {code}" if code else ""
        if kind and kind.invalidate:
            for address in set(rows.values_list("address", flat=True)):
                if address:
                    mark_address_invalid(CHANNEL, address, kind.invalid_reason)
    apply_report(rows, status, failed=status in FAILED, detail=detail)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    """Record STOP/START replies as an opt-out or opt-in of the sender's number.

    Point the Twilio number's (or Messaging Service's) "A message comes in" webhook here.
    The answer is empty TwiML: Twilio's own opt-out handling answers the sender.
    """
    from twilio.twiml.messaging_response import MessagingResponse

    if not signature_is_valid(request):
        return _forbidden(request)
    # Advanced Opt-Out sends OptOutType (STOP/START/HELP); plain numbers only the Body.
    keyword = (request.POST.get("OptOutType") or request.POST.get("Body", "")).strip().upper()
    try:
        number = normalize_phone(request.POST.get("From", ""))
    except ValidationError:
        number = ""
    if number and keyword in STOP_KEYWORDS:
        if not mark_address_invalid(CHANNEL, number, OPTED_OUT):
            # Nothing to mark, and nowhere to remember it without a model. Twilio blocks
            # the number itself: the first send to it fails with 21610, which marks the
            # contact point added meanwhile.
            logger.warning(
                "DSN SMS: %s opted out (STOP), but no SMS contact point has that number, "
                "so DSN records nothing; Twilio refuses sends to it (error 21610), which "
                "will mark a contact point added later.",
                mask_phone(number),
            )
    elif number and keyword in START_KEYWORDS:
        mark_address_valid(CHANNEL, number)
    return HttpResponse(str(MessagingResponse()), content_type="text/xml")
