"""The Twilio REST client DSN uses: always a timeout, optionally another API host.

Twilio's exceptions carry no response headers, so the HTTP client keeps the last
response: the messenger reads ``Retry-After`` from it after a 429.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from . import settings as sms_settings


class DsnHttpClient(TwilioHttpClient):
    """``TwilioHttpClient`` with a timeout, the last response kept, and (for tests and
    proxies) every Twilio URL's scheme and host rewritten to ``api_base``."""

    def __init__(self, *, timeout: float, api_base: str = "") -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base
        self.last_response: Response | None = None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        self.last_response = None
        if self.api_base:
            base = urlsplit(self.api_base)
            parts = urlsplit(url)
            # Every Twilio domain (api., messaging., edge/region hosts) goes to the base.
            url = urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
        response: Response = super().request(method, url, *args, **kwargs)
        self.last_response = response
        return response

    def close(self) -> None:
        """Close the pooled connections: a batch's client is not reused."""
        if self.session is not None:
            self.session.close()

    def retry_after(self) -> float | None:
        """Seconds from the last response's ``Retry-After`` header (None if absent)."""
        if self.last_response is None:
            return None
        headers = self.last_response.headers or {}
        value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        try:
            seconds = float(value) if value is not None else None
        except ValueError:
            return None  # an HTTP date: rare for Twilio; core's backoff applies
        return seconds if seconds is not None and seconds >= 0 else None


def make_client() -> tuple[Client, DsnHttpClient]:
    """A Twilio client from ``DSN["SMS"]`` and the HTTP client it uses."""
    http = DsnHttpClient(timeout=sms_settings.timeout(), api_base=sms_settings.api_base())
    client = Client(
        sms_settings.account_sid(),
        sms_settings.auth_token(),
        http_client=http,
        environment={},  # credentials, edge and region come from DSN["SMS"], not os.environ
    )
    return client, http
