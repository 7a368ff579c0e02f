"""``settings.DSN["TWITTER"]``: typed accessors, and what is wrong with it in words.

Credentials live only in settings (read them from the environment), never on a Backend
row and never in a log line. Two ways to act as the posting account, as tweepy's v2
``Client`` supports them:

- OAuth 1.0a user context: ``CONSUMER_KEY``, ``CONSUMER_SECRET`` (the app's "API key
  and secret"), ``ACCESS_TOKEN``, ``ACCESS_TOKEN_SECRET`` (the account's). Does not
  expire: the usual choice for a site's bot account.
- ``OAUTH2_USER_TOKEN``: an OAuth 2.0 user-context access token (scopes ``tweet.write``,
  ``dm.write``...). It expires (2 hours unless refreshed), and DSN does not refresh it.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Any

from dsn_core.conf import get_plugin_setting, user_settings
from dsn_core.exceptions import ConfigurationError

KEY = "TWITTER"
OAUTH1_KEYS = ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")
DEFAULT_API_URL = "https://api.twitter.com"
DEFAULT_TIMEOUT = 10.0
KNOWN_KEYS = frozenset({*OAUTH1_KEYS, "OAUTH2_USER_TOKEN", "TIMEOUT", "API_URL"})


@dataclass(frozen=True)
class TwitterSettings:
    """The usable settings; built by :func:`load`, which raises when they are not."""

    oauth1: tuple[str, str, str, str] | None
    oauth2_user_token: str | None
    timeout: float
    api_url: str


def section() -> dict[str, Any]:
    """``DSN["TWITTER"]`` as a dict ({} when absent); ConfigurationError when not a dict."""
    get_plugin_setting(KEY, "TIMEOUT")  # raises when the section is not a dict
    return dict(user_settings().get(KEY, {}))


def problems() -> list[str]:
    """What is wrong with the section's shape, one sentence each (missing credentials
    are not a problem here: :func:`has_credentials` says whether there are any)."""
    try:
        values = section()
    except ConfigurationError as exc:
        return [f"{exc} Use DSN['TWITTER'] = {{'CONSUMER_KEY': ..., ...}}."]
    found: list[str] = []
    for name in (*OAUTH1_KEYS, "OAUTH2_USER_TOKEN"):
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            found.append(f"DSN['TWITTER'][{name!r}] must be a string, not {type(value).__name__}.")
    given = [name for name in OAUTH1_KEYS if values.get(name)]
    if given and len(given) < len(OAUTH1_KEYS):
        missing = [name for name in OAUTH1_KEYS if name not in given]
        found.append(
            "OAuth 1.0a is half configured: DSN['TWITTER'] has "
            f"{', '.join(given)} but lacks {', '.join(missing)}."
        )
    timeout = values.get("TIMEOUT", DEFAULT_TIMEOUT)
    if not isinstance(timeout, Real) or isinstance(timeout, bool) or not float(timeout) > 0:
        found.append(f"DSN['TWITTER']['TIMEOUT'] must be a number of seconds > 0, not {timeout!r}.")
    api_url = values.get("API_URL", DEFAULT_API_URL)
    if not isinstance(api_url, str) or not api_url.startswith(("https://", "http://")):
        found.append(f"DSN['TWITTER']['API_URL'] must be an http(s) URL, not {api_url!r}.")
    return found


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
    return all(values.get(name) for name in OAUTH1_KEYS) or bool(values.get("OAUTH2_USER_TOKEN"))


def both_configured() -> bool:
    try:
        values = section()
    except ConfigurationError:
        return False
    return all(values.get(name) for name in OAUTH1_KEYS) and bool(values.get("OAUTH2_USER_TOKEN"))


def load() -> TwitterSettings:
    """The settings, or ConfigurationError naming every problem and the fix."""
    found = problems()
    if not found and not has_credentials():
        found.append(
            "DSN['TWITTER'] has no credentials: set CONSUMER_KEY, CONSUMER_SECRET, "
            "ACCESS_TOKEN and ACCESS_TOKEN_SECRET (OAuth 1.0a), or OAUTH2_USER_TOKEN."
        )
    if found:
        raise ConfigurationError(" ".join(found))
    values = section()
    oauth1 = None
    if all(values.get(name) for name in OAUTH1_KEYS):
        key, secret, token, token_secret = (str(values[name]) for name in OAUTH1_KEYS)
        oauth1 = (key, secret, token, token_secret)
    return TwitterSettings(
        oauth1=oauth1,
        oauth2_user_token=values.get("OAUTH2_USER_TOKEN") or None,
        timeout=float(values.get("TIMEOUT", DEFAULT_TIMEOUT)),
        api_url=str(values.get("API_URL", DEFAULT_API_URL)).rstrip("/"),
    )
