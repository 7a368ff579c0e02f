"""A fake X API on 127.0.0.1 (pytest-httpserver), and helpers to read what it received."""

from __future__ import annotations

import itertools
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import pytest
from oauthlib.oauth1.rfc5849 import signature
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.settings import DSN as TEST_DSN

KEYS = TEST_DSN["TWITTER"]
POST_PATH = "/2/tweets"
DM_PATTERN = re.compile(r"^/2/dm_conversations/with/[0-9]+/messages$")


def dm_path(user_id: str) -> str:
    return f"/2/dm_conversations/with/{user_id}/messages"


def oauth_params(request: Request) -> dict[str, str]:
    """The ``oauth_*`` parameters of an ``Authorization: OAuth ...`` header."""
    header = request.headers.get("Authorization", "")
    assert header.startswith("OAuth "), header
    return dict(signature.utils.parse_authorization_header(header))


def signature_is_valid(request: Request, original_url: str) -> bool:
    """Verify the OAuth 1.0a HMAC-SHA1 signature as X would: over ``original_url``
    (the real API's), the request's method and query, with our test secrets."""
    header = request.headers["Authorization"]
    params = signature.collect_parameters(
        uri_query=request.query_string.decode(),
        headers={"Authorization": header},
        exclude_oauth_signature=True,
    )
    base = signature.signature_base_string(
        request.method,
        signature.base_string_uri(original_url),
        signature.normalize_parameters(params),
    )
    secrets = SimpleNamespace(
        client_secret=KEYS["CONSUMER_SECRET"], resource_owner_secret=KEYS["ACCESS_TOKEN_SECRET"]
    )
    expected = signature.sign_hmac_sha1_with_client(base, secrets)
    return bool(unquote(oauth_params(request)["oauth_signature"]) == expected)


@dataclass
class FakeX:
    """The fake API: canned answers per path, and what it received."""

    server: HTTPServer
    ids: Iterator[int]

    def accept_posts(self) -> None:
        def created(request: Request) -> Response:
            body = request.get_json()
            payload = {"data": {"id": str(next(self.ids)), "text": body["text"]}}
            return Response(json.dumps(payload), status=201, content_type="application/json")

        self.server.expect_request(POST_PATH, method="POST").respond_with_handler(created)

    def accept_dms(self) -> None:
        def created(request: Request) -> Response:
            payload = {"data": {"dm_conversation_id": "1-2", "dm_event_id": str(next(self.ids))}}
            return Response(json.dumps(payload), status=201, content_type="application/json")

        self.server.expect_request(DM_PATTERN, method="POST").respond_with_handler(created)

    def answer(
        self,
        path: str,
        body: Any,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.server.expect_request(path, method="POST").respond_with_json(
            body, status=status, headers=headers
        )

    @property
    def requests(self) -> list[Request]:
        return [request for request, _response in self.server.log]

    def texts(self) -> list[str]:
        return [request.get_json()["text"] for request in self.requests]


@pytest.fixture
def fake_x(httpserver: HTTPServer, settings: Any) -> FakeX:
    """DSN["TWITTER"]["API_URL"] pointed at the fake API."""
    settings.DSN = {
        **settings.DSN,
        "TWITTER": {**settings.DSN["TWITTER"], "API_URL": httpserver.url_for("/").rstrip("/")},
    }
    return FakeX(httpserver, itertools.count(1000))


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class HangUpServer:
    """Accepts TCP connections on 127.0.0.1 and closes each at once: a connection error
    (``RemoteDisconnected``) that, unlike a closed port, can be counted."""

    url: str
    connections: int = 0


@pytest.fixture
def hang_up_server() -> Iterator[HangUpServer]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    server = HangUpServer(f"http://127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            server.connections += 1
            with connection:
                connection.settimeout(1)
                connection.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join(timeout=5)
    listener.close()


@pytest.fixture
def twitter_settings(settings: Any) -> Callable[..., None]:
    """``twitter_settings(**values)`` replaces DSN["TWITTER"] for the test."""

    def replace(**values: Any) -> None:
        settings.DSN = {**settings.DSN, "TWITTER": values}

    return replace


@pytest.fixture
def users(django_user_model: Any) -> list[Any]:
    return [django_user_model.objects.create(username=name) for name in ("ada", "bob", "cy")]
