"""The webhook Telegram posts updates to, and a redirect to a user's chat-linking link."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
    JsonResponse,
)
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import settings
from .linking import link_url
from .updates import process_update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Telegram sends ``WEBHOOK_SECRET`` (given to setWebhook) with every update: anything
    without it is refused before the body is read, and nothing changes."""
    secret = settings.text("WEBHOOK_SECRET")
    given = request.headers.get(SECRET_HEADER, "")
    if not settings.SECRET_RE.match(secret) or not constant_time_compare(given, secret):
        return HttpResponseForbidden("bad or missing secret token")
    try:
        update = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest("not JSON")
    reply = process_update(update)
    # A reply in the response body is a Bot API call Telegram makes for us.
    return JsonResponse(reply) if reply else HttpResponse(status=200)


@require_GET
@login_required
def link(request: HttpRequest) -> HttpResponse:
    """Redirect the logged-in user to their deep link: ``{% url 'dsn:telegram:link' %}``."""
    return HttpResponseRedirect(link_url(request.user))
