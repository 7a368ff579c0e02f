"""Credentials never reach ``Delivery.last_error`` or a log, however they are mangled.

An env file's trailing newline in OAUTH2_USER_TOKEN used to end up in the
``Authorization`` header, where ``http.client`` refused it with a ``ValueError`` quoting
the token: stored as the delivery's error, logged with the traceback, and retried forever.
"""

from __future__ import annotations

import logging

import pytest
import requests
from django.contrib.auth.models import Group

from dsn_core.messages import (
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    RenderedMessage,
    Sent,
    TransientFailure,
)
from dsn_core.models import Delivery, DeliveryStatus
from dsn_twitter import errors, redaction
from dsn_twitter.client import make_client
from dsn_twitter.messengers import TwitterPostMessenger
from dsn_twitter.settings import TwitterSettings

from .conftest import KEYS, POST_PATH, signature_is_valid

pytestmark = pytest.mark.django_db

TOKEN = "VGhpcyBpcyBhIHRlc3QgdG9rZW4"


def post(text: str = "New article") -> OutgoingMessage:
    return OutgoingMessage(Recipient(None, None), RenderedMessage({"text": text}))


@pytest.fixture
def oauth2(settings, fake_x):
    """``oauth2(token)``: DSN["TWITTER"] with only that OAuth 2.0 token, on the fake X."""

    def use(token: str) -> None:
        api_url = settings.DSN["TWITTER"]["API_URL"]
        settings.DSN = {
            **settings.DSN,
            "TWITTER": {"OAUTH2_USER_TOKEN": token, "API_URL": api_url, "TIMEOUT": 5},
        }

    return use


def pieces(token: str) -> list[str]:
    """The token, and each part of it around a control character."""
    return [token, *(part for part in token.replace("\x01", "\n").split("\n") if part)]


def test_trailing_newline_is_stripped_and_the_post_is_sent(
    fake_x, oauth2, users, dsn_subscribe, django_capture_on_commit_callbacks
):
    fake_x.accept_posts()
    oauth2(TOKEN + "\n")
    dsn_subscribe(Group, users, messenger="twitter_post", template="twitter_post")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Env files end with a newline")
    (delivery,) = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.SENT
    (request,) = fake_x.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_oauth1_keys_are_stripped_before_signing(fake_x, settings):
    fake_x.accept_posts()
    settings.DSN = {
        **settings.DSN,
        "TWITTER": {
            **settings.DSN["TWITTER"],
            **{name: f" {KEYS[name]}\r\n" for name in ("CONSUMER_KEY", "CONSUMER_SECRET")},
            **{name: f"{KEYS[name]}\n" for name in ("ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")},
        },
    }
    (outcome,) = TwitterPostMessenger({}).send([post()])
    assert isinstance(outcome, Sent)
    (request,) = fake_x.requests
    assert signature_is_valid(request, "https://api.twitter.com/2/tweets")


@pytest.mark.parametrize(
    "token",
    [TOKEN[:10] + "\n" + TOKEN[10:], TOKEN[:10] + "\x01" + TOKEN[10:]],
    ids=["inner newline", "inner control character"],
)
def test_unsendable_token_fails_permanently_and_is_never_shown(
    fake_x, oauth2, users, dsn_subscribe, django_capture_on_commit_callbacks, caplog, token
):
    caplog.set_level(logging.DEBUG)
    oauth2(token + "\n")
    dsn_subscribe(Group, users, messenger="twitter_post", template="twitter_post")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="x")
    (delivery,) = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.FAILED  # permanent: not retried forever
    assert "DSN['TWITTER']['OAUTH2_USER_TOKEN'] contains" in delivery.last_error
    assert fake_x.requests == []
    for piece in pieces(token):
        assert piece not in delivery.last_error
        assert piece not in caplog.text


@pytest.mark.parametrize("token", [TOKEN + "\n", TOKEN[:10] + "\n" + TOKEN[10:], TOKEN + "\u20ac"])
def test_a_header_http_client_refuses_fails_permanently_without_the_token(fake_x, caplog, token):
    # load() strips and refuses such tokens; here they are handed to the client as they
    # are, as if they had got past it: http.client's ValueError quotes the header value.
    caplog.set_level(logging.DEBUG)
    settings = TwitterSettings(None, token, 5.0, fake_x.server.url_for("/").rstrip("/"))
    verdict = TwitterPostMessenger({}).send_one(make_client(settings), settings, post())
    assert isinstance(verdict.outcome, PermanentFailure)
    assert verdict.outcome.reason.startswith("the request to X could not be sent (")
    assert "fix DSN['TWITTER']" in verdict.outcome.reason
    assert verdict.stops_batch
    assert fake_x.requests == []
    for piece in pieces(token.rstrip("\n\u20ac")):
        assert piece not in verdict.outcome.reason
        assert piece not in caplog.text
    assert "raised unexpectedly" not in caplog.text


def test_settings_repr_hides_the_credentials():
    settings = TwitterSettings(("key", "secret", "token", "token-secret"), TOKEN, 5.0, "x")
    assert TOKEN not in repr(settings)
    assert "token-secret" not in repr(settings)


def test_requests_header_and_url_errors_are_permanent_for_the_batch():
    for exc in (
        requests.exceptions.InvalidHeader(f"Invalid leading whitespace in header: {TOKEN}"),
        requests.exceptions.InvalidURL("Invalid URL 'http:///2/tweets': No host supplied"),
    ):
        verdict = errors.from_exception(exc, direct_message=False, timeout=5)
        assert verdict is not None
        assert isinstance(verdict.outcome, PermanentFailure)
        assert "DSN['TWITTER']" in verdict.outcome.reason
        assert TOKEN not in verdict.outcome.reason
        assert verdict.stops_batch


def test_debug_logging_of_a_signed_request_shows_no_credential(fake_x, caplog):
    # requests-oauthlib logs the signed Authorization header (consumer key, access
    # token) at DEBUG level.
    fake_x.accept_posts()
    caplog.set_level(logging.DEBUG)
    (outcome,) = TwitterPostMessenger({}).send([post()])
    assert isinstance(outcome, Sent)
    assert "Updated headers" in caplog.text  # the record is there, redacted
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        assert KEYS[name] not in caplog.text


def test_an_unexpected_exception_is_logged_redacted_and_stored_as_its_type(fake_x, caplog):
    # A 201 whose JSON is not an object makes tweepy raise AttributeError: the path for
    # exceptions errors.py does not know.
    fake_x.answer(POST_PATH, ["not", "an", "object"], 201)
    (outcome,) = TwitterPostMessenger({}).send([post()])
    assert isinstance(outcome, TransientFailure)
    assert outcome.reason == (
        "unexpected AttributeError while sending the post (details in the 'dsn_twitter' log)"
    )
    assert "raised unexpectedly" in caplog.text


def test_the_log_filter_redacts_messages_and_tracebacks(caplog):
    redaction.install()
    logger = logging.getLogger("dsn_twitter.messengers")
    secret = KEYS["ACCESS_TOKEN_SECRET"]
    try:
        raise ValueError(f"Invalid header value b'OAuth {secret}\\n'")
    except ValueError:
        logger.exception("failed with %s", secret)
    assert secret not in caplog.text
    assert "failed with <redacted>" in caplog.text
    assert "ValueError: Invalid header value b'OAuth <redacted>\\n'" in caplog.text
    (record,) = caplog.records
    assert record.exc_info is None  # an error tracker cannot format the original
