"""What the real tweepy client sends to X: method, path, auth header, JSON body."""

from __future__ import annotations

import logging

import pytest

from dsn_core.messages import OutgoingMessage, Recipient, RenderedMessage, Sent
from dsn_twitter.messengers import TwitterDirectMessenger, TwitterPostMessenger
from dsn_twitter.weighted_length import ELLIPSIS, weigh

from .conftest import KEYS, POST_PATH, dm_path, oauth_params, signature_is_valid

pytestmark = pytest.mark.django_db


def outgoing(text: str, address: str | None = None) -> OutgoingMessage:
    user = None
    return OutgoingMessage(Recipient(user, address), RenderedMessage({"text": text}))


def test_post_request(fake_x):
    fake_x.accept_posts()
    (outcome,) = TwitterPostMessenger({}).send([outgoing("New article: Hello, X!")])
    assert outcome == Sent(provider_id="1000")
    (request,) = fake_x.requests
    assert request.method == "POST"
    assert request.path == POST_PATH
    assert request.headers["Content-Type"] == "application/json"
    assert request.get_json() == {"text": "New article: Hello, X!"}
    params = oauth_params(request)
    assert params["oauth_consumer_key"] == KEYS["CONSUMER_KEY"]
    assert params["oauth_token"] == KEYS["ACCESS_TOKEN"]
    assert params["oauth_signature_method"] == "HMAC-SHA1"
    # Signed over the real API's URL, as X verifies it; the adapter only moved the host.
    assert signature_is_valid(request, "https://api.twitter.com/2/tweets")
    assert not signature_is_valid(request, f"{fake_x.server.url_for('/2/tweets')}")


def test_direct_message_request(fake_x):
    fake_x.accept_dms()
    (outcome,) = TwitterDirectMessenger({}).send([outgoing("Your order shipped", "98765")])
    assert outcome == Sent(provider_id="1000")
    (request,) = fake_x.requests
    assert request.method == "POST"
    assert request.path == dm_path("98765")
    assert request.get_json() == {"text": "Your order shipped"}
    assert oauth_params(request)["oauth_consumer_key"] == KEYS["CONSUMER_KEY"]
    assert signature_is_valid(request, "https://api.twitter.com" + dm_path("98765"))


def test_oauth2_user_token_is_sent_as_bearer_and_never_logged(fake_x, settings, caplog):
    settings.DSN = {
        **settings.DSN,
        "TWITTER": {
            "OAUTH2_USER_TOKEN": "secret-user-token",
            "API_URL": fake_x.server.url_for("").rstrip("/"),
        },
    }
    fake_x.accept_posts()
    with caplog.at_level(logging.DEBUG):
        (outcome,) = TwitterPostMessenger({}).send([outgoing("hello")])
    assert isinstance(outcome, Sent)
    (request,) = fake_x.requests
    assert request.headers["Authorization"] == "Bearer secret-user-token"
    assert "tweepy" in caplog.text  # tweepy logged the request at DEBUG...
    assert "secret-user-token" not in caplog.text  # ...without the token


def test_oauth1_secrets_are_never_logged(fake_x, caplog):
    fake_x.accept_posts()
    with caplog.at_level(logging.DEBUG):
        TwitterPostMessenger({}).send([outgoing("hello")])
    for secret in (KEYS["CONSUMER_SECRET"], KEYS["ACCESS_TOKEN_SECRET"]):
        assert secret not in caplog.text


def test_long_post_is_trimmed_at_a_word_with_an_ellipsis(fake_x):
    fake_x.accept_posts()
    text = "Our new article about " + "many words " * 40 + "https://example.com/post"
    (outcome,) = TwitterPostMessenger({}).send([outgoing(text)])
    assert isinstance(outcome, Sent)
    sent = fake_x.texts()[0]
    assert sent.endswith(f"words{ELLIPSIS}")
    assert text.startswith(sent[: -len(ELLIPSIS)])
    assert 270 < weigh(sent) <= 280


def test_max_length_option_allows_premium_lengths(fake_x):
    fake_x.accept_posts()
    text = "word " * 200
    TwitterPostMessenger({"max_length": 25_000}).send([outgoing(text)])
    assert fake_x.texts() == [text.strip()]


def test_text_is_sent_in_nfc(fake_x):
    fake_x.accept_posts()
    TwitterPostMessenger({}).send([outgoing("Cafe\u0301 ")])
    assert fake_x.texts() == ["Caf\u00e9"]
