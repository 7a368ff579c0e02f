"""A tweepy v2 ``Client`` with a timeout on every call and a configurable API host.

tweepy hard-codes ``https://api.twitter.com`` and passes no timeout to ``requests``
(which then waits forever). Both are fixed with a ``requests`` transport adapter mounted
on ``client.session``: it sets the timeout and, when ``DSN["TWITTER"]["API_URL"]``
points elsewhere (a fake API in tests), rewrites the scheme and host. OAuth 1.0a
signs the request before the adapter sees it, so the signature still covers the
original ``https://api.twitter.com/...`` URL, exactly as X would verify it.

tweepy logs request headers at DEBUG level, which with OAuth 2.0 would include the
token: the token is therefore set by a ``requests`` auth hook, after tweepy's logging,
and tweepy only ever sees a placeholder.

``http.client`` refuses a header or URL it cannot send with a ``ValueError`` that quotes
the value (the token, for a bad ``Authorization`` header). The adapter turns it into
:class:`UnsendableRequest`, which names the exception type only: the value stays out of
``Delivery.last_error``, and retrying cannot help.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from . import redaction
from .settings import TwitterSettings

if TYPE_CHECKING:
    import tweepy

#: The hosts tweepy talks to; only these are rewritten to ``API_URL``.
X_API_HOSTS = frozenset({"api.twitter.com", "api.x.com"})
TOKEN_PLACEHOLDER = "set-by-dsn-twitter"


class UnsendableRequest(ValueError):
    """``http.client`` could not send the request (an invalid header value or URL): a
    setting in ``DSN["TWITTER"]`` is wrong. The message never contains the value."""


class RewritingAdapter(HTTPAdapter):
    """Sends X API requests to ``api_url`` and gives every request ``timeout``."""

    def __init__(self, api_url: str, timeout: float) -> None:
        super().__init__(max_retries=0)  # retries are the outbox's job
        target = urlsplit(api_url)
        self.scheme, self.netloc, self.path = target.scheme, target.netloc, target.path
        self.timeout = timeout

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        if url.hostname in X_API_HOSTS:
            request.url = urlunsplit(
                (self.scheme, self.netloc, self.path + url.path, url.query, url.fragment)
            )
        kwargs["timeout"] = self.timeout
        try:
            return super().send(request, **kwargs)
        except requests.RequestException:
            raise
        except ValueError as exc:  # http.client's header and URL checks
            raise UnsendableRequest(
                f"{type(exc).__name__}: the request to X could not be sent "
                "(a header or the URL holds a character HTTP does not allow)"
            ) from None


class BearerToken(AuthBase):
    """OAuth 2.0 user context: the ``Authorization`` header, set after tweepy logged."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request

    def __repr__(self) -> str:
        return "BearerToken(***)"


def make_client(settings: TwitterSettings) -> tweepy.Client:
    """A tweepy ``Client`` acting as the configured account (OAuth 1.0a when both are set)."""
    import tweepy

    redaction.install()
    if settings.oauth1 is not None:
        key, secret, token, token_secret = settings.oauth1
        client = tweepy.Client(
            consumer_key=key,
            consumer_secret=secret,
            access_token=token,
            access_token_secret=token_secret,
            wait_on_rate_limit=False,  # never sleep in a worker: the outbox retries at reset
        )
    else:
        client = tweepy.Client(bearer_token=TOKEN_PLACEHOLDER, wait_on_rate_limit=False)
        client.session.auth = BearerToken(settings.oauth2_user_token or "")
    adapter = RewritingAdapter(settings.api_url, settings.timeout)
    client.session.mount("https://", adapter)
    client.session.mount("http://", adapter)
    return client


def user_auth(settings: TwitterSettings) -> bool:
    """tweepy's ``user_auth`` argument: True signs with OAuth 1.0a, False sends the bearer."""
    return settings.oauth1 is not None


def response_data(response: Any) -> Mapping[str, Any] | None:
    """The ``data`` object of a tweepy ``Response`` (``None`` for a 200 with only errors)."""
    data = getattr(response, "data", None)
    return data if isinstance(data, Mapping) else None
