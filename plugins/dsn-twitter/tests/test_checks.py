"""System checks on DSN["TWITTER"]: wrong settings are named with their fix."""

from __future__ import annotations

import pytest
from django.core.checks import CheckMessage, Error, Warning, run_checks

from dsn_core.models import Backend

pytestmark = pytest.mark.django_db

COMPLETE = {
    "CONSUMER_KEY": "k",
    "CONSUMER_SECRET": "s",
    "ACCESS_TOKEN": "t",
    "ACCESS_TOKEN_SECRET": "ts",
}


def twitter_messages() -> list[CheckMessage]:
    return [m for m in run_checks() if m.id and m.id.startswith("dsn_twitter.")]


def test_test_settings_are_clean():
    assert twitter_messages() == []


def test_oauth2_token_alone_is_enough_but_warns_that_it_expires(twitter_settings):
    twitter_settings(OAUTH2_USER_TOKEN="token")
    Backend.objects.create(name="x", messenger="twitter_post", message_template="twitter_post")
    (message,) = twitter_messages()  # no E002: the token is a credential
    assert isinstance(message, Warning)
    assert message.id == "dsn_twitter.W003"
    assert "expire after 2 hours" in message.msg
    assert "never refreshes" in message.msg
    assert "OAuth 1.0a" in str(message.hint)


def test_blank_credentials_are_no_credentials(settings):
    settings.DSN = {"STRICT": True, "TWITTER": {"OAUTH2_USER_TOKEN": " \n"}}
    Backend.objects.create(name="news", messenger="twitter_post", message_template="twitter_post")
    assert [m.id for m in twitter_messages()] == ["dsn_twitter.E002"]


def test_whitespace_around_credentials_is_ignored(twitter_settings):
    # An env file's trailing newline, a value pasted with a space: stripped on load.
    twitter_settings(**{name: f" {value}\n" for name, value in COMPLETE.items()})
    assert twitter_messages() == []


SECRET = "AAAAsecret-token-value"


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (SECRET[:8] + "\n" + SECRET[8:], "whitespace (U+000A) at position 9"),
        (SECRET[:8] + " " + SECRET[8:], "whitespace (U+0020) at position 9"),
        (SECRET[:8] + "\x01" + SECRET[8:], "a control character (U+0001) at position 9"),
        (SECRET[:8] + "\u200b" + SECRET[8:], "a control character (U+200B) at position 9"),
        (SECRET[:8] + "\u2026" + SECRET[8:], "a non-ASCII character (U+2026) at position 9"),
    ],
)
@pytest.mark.parametrize("key", ["ACCESS_TOKEN", "OAUTH2_USER_TOKEN"])
def test_unsendable_character_inside_a_credential_is_an_error(twitter_settings, key, value, what):
    values = {**COMPLETE, key: value} if key in COMPLETE else {key: value}
    twitter_settings(**values)
    messages = [m for m in twitter_messages() if m.id != "dsn_twitter.W003"]
    (message,) = messages
    assert isinstance(message, Error)
    assert message.id == "dsn_twitter.E003"
    assert f"DSN['TWITTER'][{key!r}] contains {what}" in message.msg
    assert "X developer portal" in str(message.hint)
    for piece in (SECRET[:8], SECRET[8:]):  # the value is never shown
        assert piece not in message.msg + str(message.hint)


def test_no_credentials_and_no_backend_is_fine(settings):
    settings.DSN = {"STRICT": True}  # no TWITTER section at all: just installed
    assert twitter_messages() == []


def test_no_credentials_with_a_backend_is_an_error(settings):
    settings.DSN = {"STRICT": True}
    Backend.objects.create(name="news", messenger="twitter_post", message_template="twitter_post")
    Backend.objects.create(
        name="off", messenger="twitter_dm", message_template="twitter_post", enabled=False
    )
    (message,) = twitter_messages()
    assert isinstance(message, Error)
    assert message.id == "dsn_twitter.E002"
    assert "news" in message.msg
    assert "'twitter_post'" in message.msg
    assert "CONSUMER_KEY" in str(message.hint)


def test_each_messenger_in_use_is_reported(settings):
    settings.DSN = {"STRICT": True}
    Backend.objects.create(name="dm", messenger="twitter_dm", message_template="twitter_post")
    (message,) = twitter_messages()
    assert message.id == "dsn_twitter.E002"
    assert "'twitter_dm'" in message.msg


def test_half_configured_oauth1_names_the_missing_keys(twitter_settings):
    twitter_settings(CONSUMER_KEY="k", ACCESS_TOKEN="t")
    (message,) = twitter_messages()
    assert isinstance(message, Error)
    assert message.id == "dsn_twitter.E001"
    assert "lacks CONSUMER_SECRET, ACCESS_TOKEN_SECRET" in message.msg


def test_section_not_a_dict(settings):
    settings.DSN = {"STRICT": True, "TWITTER": "key"}
    messages = twitter_messages()
    assert [m.id for m in messages] == ["dsn_twitter.E001"]
    assert "must be a dict" in messages[0].msg


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ({**COMPLETE, "CONSUMER_KEY": 123}, "['CONSUMER_KEY'] must be a string, not int"),
        ({"OAUTH2_USER_TOKEN": ["t"]}, "['OAUTH2_USER_TOKEN'] must be a string, not list"),
        ({**COMPLETE, "TIMEOUT": "10"}, "['TIMEOUT'] must be a number of seconds > 0, not '10'"),
        ({**COMPLETE, "TIMEOUT": 0}, "['TIMEOUT'] must be a number of seconds > 0, not 0"),
        ({**COMPLETE, "TIMEOUT": True}, "['TIMEOUT'] must be a number of seconds > 0, not True"),
        ({**COMPLETE, "TIMEOUT": None}, "['TIMEOUT'] must be a number of seconds > 0, not None"),
        ({**COMPLETE, "API_URL": "api.twitter.com"}, "['API_URL'] must be an http(s) URL"),
    ],
)
def test_wrong_types_are_errors(twitter_settings, values, text):
    twitter_settings(**values)
    (message,) = [m for m in twitter_messages() if m.id != "dsn_twitter.W003"]
    assert message.id == "dsn_twitter.E001"
    assert text in message.msg


@pytest.mark.parametrize(
    ("values", "hint"),
    [
        ({**COMPLETE, "CONSUMER_KEY": 123}, "os.environ"),
        ({"CONSUMER_KEY": "k"}, "'Keys and tokens' page"),
        ({**COMPLETE, "TIMEOUT": 0}, "such as 10"),
        (
            {**COMPLETE, "API_URL": "api.twitter.com"},
            "Remove API_URL to use https://api.twitter.com",
        ),
    ],
)
def test_each_problem_has_its_own_hint(twitter_settings, values, hint):
    twitter_settings(**values)
    (message,) = twitter_messages()
    assert message.id == "dsn_twitter.E001"
    assert hint in str(message.hint)


def test_unknown_key_is_a_warning(twitter_settings):
    twitter_settings(**COMPLETE, BEARER_TOKEN="app-only")
    (message,) = twitter_messages()
    assert isinstance(message, Warning)
    assert message.id == "dsn_twitter.W001"
    assert "'BEARER_TOKEN'" in message.msg


def test_both_auth_methods_warn(twitter_settings):
    twitter_settings(**COMPLETE, OAUTH2_USER_TOKEN="t")
    (message,) = twitter_messages()
    assert message.id == "dsn_twitter.W002"
