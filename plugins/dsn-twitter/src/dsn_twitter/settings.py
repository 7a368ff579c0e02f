"""``settings.DSN["TWITTER"]``: typed accessors, and what is wrong with it in words.

Credentials live only in settings (read them from the environment), never on a Backend
row and never in a log line. Two ways to act as the posting account, as tweepy's v2
``Client`` supports them:

- OAuth 1.0a user context: ``CONSUMER_KEY``, ``CONSUMER_SECRET`` (the app's "API key
  and secret"), ``ACCESS_TOKEN``, ``ACCESS_TOKEN_SECRET`` (the account's). Does not
  expire: the usual choice for a site's bot account.
- ``OAUTH2_USER_TOKEN``: an OAuth 2.0 user-context access token (scopes ``tweet.write``,
  ``dm.write``...). It expires (2 hours unless refreshed), and DSN does not refresh it.

Credentials are stripped (an env file's trailing newline would otherwise end up in the
``Authorization`` header, where ``http.client`` refuses it with the token in the error
message), and any other character that is not printable ASCII is a configuration error.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from dsn_core.conf import get_plugin_setting, user_settings
from dsn_core.exceptions import ConfigurationError

KEY = "TWITTER"
OAUTH1_KEYS = ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")
DEFAULT_API_URL = "https://api.twitter.com"
DEFAULT_TIMEOUT = 10.0
CREDENTIAL_KEYS = (*OAUTH1_KEYS, "OAUTH2_USER_TOKEN")
KNOWN_KEYS = frozenset({*CREDENTIAL_KEYS, "TIMEOUT", "API_URL"})


@dataclass(frozen=True)
class TwitterSettings:
    """The usable settings; built by :func:`load`, which raises when they are not."""

    oauth1: tuple[str, str, str, str] | None = field(repr=False)
    oauth2_user_token: str | None = field(repr=False)
    timeout: float
    api_url: str


def section() -> dict[str, Any]:
    """``DSN["TWITTER"]`` as a dict ({} when absent); ConfigurationError when not a dict."""
    get_plugin_setting(KEY, "TIMEOUT")  # raises when the section is not a dict
    return dict(user_settings().get(KEY, {}))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the section, and how to fix that thing."""

    message: str
    hint: str
    id: str = "dsn_twitter.E001"


def problems() -> list[Problem]:
    """What is wrong with the section's shape, one sentence each (missing credentials
    are not a problem here: :func:`has_credentials` says whether there are any)."""
    try:
        values = section()
    except ConfigurationError as exc:
        return [
            Problem(
                str(exc),
                "Use DSN['TWITTER'] = {'CONSUMER_KEY': env('X_API_KEY'), ...}; see the "
                "dsn-twitter README.",
            )
        ]
    found: list[Problem] = []
    for name in CREDENTIAL_KEYS:
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            found.append(
                Problem(
                    f"DSN['TWITTER'][{name!r}] must be a string, not {type(value).__name__}.",
                    f"Read it from the environment as text: os.environ['X_{name}'].",
                )
            )
    # A wrong type is reported above: count it as given, not as missing too.
    given = [
        name
        for name in OAUTH1_KEYS
        if credential(values, name) or not isinstance(values.get(name, ""), str)
    ]
    if given and len(given) < len(OAUTH1_KEYS):
        missing = [name for name in OAUTH1_KEYS if name not in given]
        found.append(
            Problem(
                "OAuth 1.0a is half configured: DSN['TWITTER'] has "
                f"{', '.join(given)} but lacks {', '.join(missing)}.",
                "Copy the app's API Key and Secret (CONSUMER_KEY/CONSUMER_SECRET) and the "
                "account's Access Token and Secret from the X developer portal's 'Keys "
                "and tokens' page; or remove the OAuth 1.0a keys and set OAUTH2_USER_TOKEN.",
            )
        )
    for name in CREDENTIAL_KEYS:
        bad = unsendable_character(credential(values, name))
        if bad:
            found.append(
                Problem(
                    f"DSN['TWITTER'][{name!r}] contains {bad}: X's keys and tokens are "
                    "printable ASCII, and such a value cannot be sent in an HTTP header.",
                    "Copy the value again from the X developer portal; if it comes from an "
                    "env file or a secret store, check that it holds the key alone "
                    "(whitespace around it is ignored).",
                    id="dsn_twitter.E003",
                )
            )
    timeout = values.get("TIMEOUT", DEFAULT_TIMEOUT)
    if not isinstance(timeout, Real) or isinstance(timeout, bool) or not float(timeout) > 0:
        found.append(
            Problem(
                f"DSN['TWITTER']['TIMEOUT'] must be a number of seconds > 0, not {timeout!r}.",
                "Set a number such as 10, or remove TIMEOUT for the default (10 s).",
            )
        )
    api_url = values.get("API_URL", DEFAULT_API_URL)
    if not isinstance(api_url, str) or not api_url.startswith(("https://", "http://")):
        found.append(
            Problem(
                f"DSN['TWITTER']['API_URL'] must be an http(s) URL, not {api_url!r}.",
                f"Remove API_URL to use {DEFAULT_API_URL}; only tests point it elsewhere.",
            )
        )
    return found


def credential(values: Mapping[str, Any], name: str) -> str:
    """A credential without the whitespace around it (an env file's newline), "" when
    unset or not a string."""
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def unsendable_character(value: str) -> str:
    """How to name the first character of ``value`` that is not printable ASCII, without
    showing the value ("" when there is none)."""
    for position, char in enumerate(value):
        if not "!" <= char <= "~":
            kind = (
                "whitespace"
                if char.isspace()
                else "a control character"
                if unicodedata.category(char).startswith("C")
                else "a non-ASCII character"
            )
            return f"{kind} (U+{ord(char):04X}) at position {position + 1}"
    return ""


def unknown_keys() -> list[str]:
    try:
        return sorted(str(key) for key in section() if key not in KNOWN_KEYS)
    except ConfigurationError:
        return []


def has_credentials() -> bool:
    """True when either complete way to authenticate is set (shape aside)."""
    try:
        values = section()
    except ConfigurationError:
        return False
    return oauth1_complete(values) or bool(credential(values, "OAUTH2_USER_TOKEN"))


def both_configured() -> bool:
    try:
        values = section()
    except ConfigurationError:
        return False
    return oauth1_complete(values) and bool(credential(values, "OAUTH2_USER_TOKEN"))


def oauth2_only() -> bool:
    """True when the OAuth 2.0 user token is what DSN will use (it expires)."""
    try:
        values = section()
    except ConfigurationError:
        return False
    return not oauth1_complete(values) and bool(credential(values, "OAUTH2_USER_TOKEN"))


def oauth1_complete(values: Mapping[str, Any]) -> bool:
    return all(credential(values, name) for name in OAUTH1_KEYS)


def load() -> TwitterSettings:
    """The settings, or ConfigurationError naming every problem and the fix."""
    found = [problem.message for problem in problems()]
    if not found and not has_credentials():
        found.append(
            "DSN['TWITTER'] has no credentials: set CONSUMER_KEY, CONSUMER_SECRET, "
            "ACCESS_TOKEN and ACCESS_TOKEN_SECRET (OAuth 1.0a), or OAUTH2_USER_TOKEN."
        )
    if found:
        raise ConfigurationError(" ".join(found))
    values = section()
    oauth1 = None
    if oauth1_complete(values):
        key, secret, token, token_secret = (credential(values, name) for name in OAUTH1_KEYS)
        oauth1 = (key, secret, token, token_secret)
    return TwitterSettings(
        oauth1=oauth1,
        oauth2_user_token=credential(values, "OAUTH2_USER_TOKEN") or None,
        timeout=float(values.get("TIMEOUT", DEFAULT_TIMEOUT)),
        api_url=str(values.get("API_URL", DEFAULT_API_URL)).rstrip("/"),
    )


def secrets() -> list[str]:
    """The configured credentials as they are set and as they are sent, for redaction
    (never raises: a log filter calls it)."""
    try:
        values = section()
    except ConfigurationError:
        return []
    found = []
    for name in CREDENTIAL_KEYS:
        value = values.get(name)
        if isinstance(value, str) and value.strip():
            found.append(value)
    return found
