"""Fixtures: a fake Bot API on 127.0.0.1, its settings, users with linked chats."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import LazySettings
from pytest_httpserver import HTTPServer

from dsn_telegram.ratelimit import forget_limiters

from .fake_telegram import FakeTelegram
from .settings import BOT_TOKEN


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[HTTPServer]:
    """Threaded, so concurrent requests (and a deliberately slow one) overlap."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    forget_limiters()
    yield
    forget_limiters()


def telegram_settings(settings: LazySettings, **overrides: Any) -> None:
    settings.DSN = {**settings.DSN, "TELEGRAM": {**settings.DSN["TELEGRAM"], **overrides}}


@pytest.fixture
def fake_telegram(telegram_server: HTTPServer, settings: LazySettings) -> Iterator[FakeTelegram]:
    telegram_server.clear()
    fake = FakeTelegram(telegram_server, BOT_TOKEN)
    telegram_server.expect_request(re.compile(r"^/bot.*")).respond_with_handler(fake.handle)
    telegram_settings(
        settings,
        API_URL=fake.url,
        # Fast limits so batch tests take a fraction of a second; the real defaults have
        # their own test (test_rate_limits.py).
        MESSAGES_PER_SECOND=1000.0,
        CHAT_MESSAGES_PER_SECOND=1000.0,
        GROUP_MESSAGES_PER_MINUTE=60000.0,
    )
    yield fake
    telegram_server.clear()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    """``make_user("ann", chat=1001)``: a user, with a verified Telegram chat if given."""
    from django.contrib.auth import get_user_model

    from dsn_core.models import ContactPoint

    def make(username: str, chat: int | None = None) -> Any:
        user = get_user_model().objects.create_user(username, f"{username}@example.com")
        if chat is not None:
            ContactPoint.objects.create(
                user=user, channel="telegram", address=str(chat), verified=True
            )
        return user

    return make
