"""System checks for ``DSN["TWITTER"]``, run through the messengers' ``check()``.

| id | what |
|---|---|
| dsn_twitter.E001 | a setting has the wrong type, or OAuth 1.0a is half configured |
| dsn_twitter.E002 | an enabled Backend uses an X messenger but there are no credentials |
| dsn_twitter.E003 | a credential holds whitespace, a control or a non-ASCII character inside |
| dsn_twitter.W001 | an unknown key in ``DSN["TWITTER"]`` (a typo?) |
| dsn_twitter.W002 | both OAuth 1.0a and ``OAUTH2_USER_TOKEN`` are set: OAuth 1.0a is used |
| dsn_twitter.W003 | only ``OAUTH2_USER_TOKEN`` is set: it expires in 2 hours, never refreshed |

Every message names the setting and how to fix it, and none shows a credential's value.

No credentials is not an error until a Backend uses the messenger: installing the
plugin must not stop ``migrate`` or a site that does not post to X yet.
"""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Warning

from dsn_core.checks import backends_using

from . import settings

SETTINGS_HINT = (
    "DSN['TWITTER'] = {'CONSUMER_KEY': env('X_API_KEY'), 'CONSUMER_SECRET': "
    "env('X_API_SECRET'), 'ACCESS_TOKEN': env('X_ACCESS_TOKEN'), 'ACCESS_TOKEN_SECRET': "
    "env('X_ACCESS_TOKEN_SECRET')}; see the dsn-twitter README."
)


def settings_messages() -> list[CheckMessage]:
    """Problems with the section itself, whoever uses it."""
    messages: list[CheckMessage] = [
        Error(problem.message, hint=problem.hint, id=problem.id) for problem in settings.problems()
    ]
    for key in settings.unknown_keys():
        messages.append(
            Warning(
                f"DSN['TWITTER'][{key!r}] is not a dsn-twitter setting and is ignored.",
                hint=f"Known settings: {', '.join(sorted(settings.KNOWN_KEYS))}.",
                id="dsn_twitter.W001",
            )
        )
    if settings.both_configured():
        messages.append(
            Warning(
                "DSN['TWITTER'] sets both OAuth 1.0a keys and OAUTH2_USER_TOKEN; "
                "OAuth 1.0a is used and the OAuth 2.0 token is ignored.",
                hint="Remove the one you do not use.",
                id="dsn_twitter.W002",
            )
        )
    if settings.oauth2_only():
        messages.append(
            Warning(
                "DSN['TWITTER']['OAUTH2_USER_TOKEN'] is an OAuth 2.0 access token: X lets "
                "it expire after 2 hours and DSN never refreshes it, so deliveries will "
                "fail with 401 once it has expired.",
                hint="For a server, use OAuth 1.0a (CONSUMER_KEY, CONSUMER_SECRET, "
                "ACCESS_TOKEN, ACCESS_TOKEN_SECRET), which does not expire; or replace "
                "the token in settings before it expires.",
                id="dsn_twitter.W003",
            )
        )
    return messages


def credential_messages(messenger_id: str) -> list[CheckMessage]:
    """An Error when Backends use ``messenger_id`` and nothing lets DSN act as the account."""
    if settings.has_credentials():
        return []
    backends = backends_using(messenger_id)
    if not backends:
        return []
    return [
        Error(
            f"Backend(s) {', '.join(backends)} send through {messenger_id!r}, but "
            "DSN['TWITTER'] has no credentials: every delivery would fail.",
            hint=SETTINGS_HINT + " Or set OAUTH2_USER_TOKEN, or disable the backend(s).",
            obj=messenger_id,
            id="dsn_twitter.E002",
        )
    ]
