"""dsn-twitter's hooks. tweepy is imported by the messengers only when they send, so a
broken tweepy install is reported by DSN (``dsn plugins``), not fatal at start-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsn_core import hookimpl


@hookimpl
def dsn_register_messengers(register: Callable[[type[Any]], None]) -> None:
    import tweepy  # noqa: F401 - fail here, reported with this plugin's name, if broken

    from .messengers import TwitterDirectMessenger, TwitterPostMessenger

    register(TwitterPostMessenger)
    register(TwitterDirectMessenger)


@hookimpl
def dsn_register_message_templates(register: Callable[[type[Any]], None]) -> None:
    from .message_templates import TwitterPostTemplate

    register(TwitterPostTemplate)
