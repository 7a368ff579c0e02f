"""The tweepy client DSN builds: host rewrite, timeout, no waiting on rate limits."""

from __future__ import annotations

import pytest

from dsn_core.messages import OutgoingMessage, Recipient, RenderedMessage, Sent
from dsn_twitter.client import BearerToken, RewritingAdapter, make_client
from dsn_twitter.messengers import TwitterPostMessenger
from dsn_twitter.settings import load

pytestmark = pytest.mark.django_db


def test_client_never_waits_on_rate_limits_and_has_the_adapter(fake_x):
    client = make_client(load())
    assert client.wait_on_rate_limit is False
    adapter = client.session.get_adapter("https://api.twitter.com/2/tweets")
    assert isinstance(adapter, RewritingAdapter)
    assert adapter.timeout == 5.0
    assert adapter.max_retries.total == 0


def test_api_url_with_a_path_prefix(fake_x, settings):
    settings.DSN["TWITTER"]["API_URL"] = fake_x.server.url_for("/x-proxy/")
    fake_x.server.expect_request("/x-proxy/2/tweets").respond_with_json({"data": {"id": "9"}}, 201)
    message = OutgoingMessage(Recipient(None, None), RenderedMessage({"text": "hi"}))
    assert TwitterPostMessenger({}).send([message]) == [Sent("9")]


def test_other_hosts_are_not_rewritten(fake_x):
    fake_x.server.expect_request("/elsewhere").respond_with_data("ok")
    client = make_client(load())
    response = client.session.get(fake_x.server.url_for("/elsewhere"))
    assert response.text == "ok"


def test_bearer_token_repr_hides_the_token():
    assert "secret" not in repr(BearerToken("secret"))
