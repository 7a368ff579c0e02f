"""The public URLs Twilio is given (status callbacks) and calls back, signed.

Twilio signs the exact URL it was given, so the view must rebuild the URL the *worker*
built, whatever request it receives: ``BASE_URL`` + the path reversed with the script
prefix a process outside any request has (``FORCE_SCRIPT_NAME``, else ``/``; what
``django.setup()`` sets). It never depends on the thread's current prefix, so a message
sent inside a request served under a ``SCRIPT_NAME`` gets the same URL as one sent by
a worker.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, reverse

from . import settings as sms_settings

logger = logging.getLogger(__name__)

STATUS_URL_NAME = "dsn:sms:status"


def worker_path(url_name: str) -> str:
    """``reverse(url_name)`` as a worker process reverses it (raises ``NoReverseMatch``)."""
    route = reverse(url_name).removeprefix(get_script_prefix())
    prefix = settings.FORCE_SCRIPT_NAME or "/"
    return prefix.rstrip("/") + "/" + route


def public_url(url_name: str) -> str | None:
    """``BASE_URL`` + :func:`worker_path`, or None without ``BASE_URL`` or the URL."""
    base = sms_settings.base_url()
    if not base:
        return None
    try:
        return base + worker_path(url_name)
    except NoReverseMatch:
        logger.warning(
            "DSN SMS: cannot build the public URL of %r: it is not mounted; add "
            "path('dsn/', include('dsn_core.urls')) to the site's urls.py.",
            url_name,
        )
        return None


def status_callback_url() -> str | None:
    """Where Twilio reports each message's status, or None (no callbacks)."""
    return public_url(STATUS_URL_NAME)
