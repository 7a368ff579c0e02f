"""A fake Twilio REST API on 127.0.0.1 (pytest-httpserver) and the settings pointing at it."""

from __future__ import annotations

import base64
import itertools
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
FROM_NUMBER = "+14155550100"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

_sids = itertools.count(1)


@dataclass
class TwilioCall:
    """One request the fake received, decoded."""

    method: str
    path: str
    auth: tuple[str, str] | None
    form: dict[str, str]


def accepted(request: Request) -> Response:
    """What Twilio answers to an accepted message: 201 with the Message resource."""
    form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
    sid = f"SM{next(_sids):032x}"
    body = {
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "to": form.get("To"),
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "body": form.get("Body"),
        "status": "queued",
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }
    return Response(json.dumps(body), status=201, content_type="application/json")


def twilio_error(
    status: int, code: int | None, message: str = "error", headers: dict[str, str] | None = None
) -> Response:
    """A classic Twilio error body, as the Messages API sends it."""
    body: dict[str, Any] = {"status": status, "message": message}
    if code is not None:
        body.update(code=code, more_info=f"https://www.twilio.com/docs/errors/{code}")
    return Response(
        json.dumps(body), status=status, content_type="application/json", headers=headers
    )


class FakeTwilio:
    """The fake's handle: script answers, read back decoded calls."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.answers: list[Callable[[Request], Response]] = []

    def answer(self, *handlers: Callable[[Request], Response]) -> None:
        """Answer the next requests with ``handlers`` in turn, then accept."""
        self.answers.extend(handlers)

    def fail(self, status: int, code: int | None, message: str = "error", **headers: str) -> None:
        self.answer(lambda _: twilio_error(status, code, message, headers or None))

    def handle(self, request: Request) -> Response:
        return self.answers.pop(0)(request) if self.answers else accepted(request)

    @property
    def calls(self) -> list[TwilioCall]:
        calls = []
        for request, _ in self.server.log:
            auth = None
            header = request.headers.get("Authorization", "")
            if header.startswith("Basic "):
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                auth = (user, password)
            form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
            calls.append(TwilioCall(request.method, request.path, auth, form))
        return calls

    def bodies(self) -> list[str]:
        return [call.form.get("Body", "") for call in self.calls]


def sms_settings(settings: Any, **values: Any) -> None:
    """Replace keys of ``DSN["SMS"]`` for one test (``None`` removes a key)."""
    section = {**settings.DSN.get("SMS", {}), **values}
    settings.DSN = {
        **settings.DSN,
        "SMS": {k: v for k, v in section.items() if v is not None},
    }


@pytest.fixture
def fake_twilio(httpserver: HTTPServer, settings: Any) -> FakeTwilio:
    fake = FakeTwilio(httpserver)
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(fake.handle)
    sms_settings(settings, API_BASE=httpserver.url_for("/").rstrip("/"))
    return fake


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def alice(db: None) -> Any:
    """A user with a verified phone number, typed the way people type it."""
    from dsn_core.models import ContactPoint

    user = get_user_model().objects.create(username="alice")
    ContactPoint.objects.create(user=user, channel="sms", address="+1 415-555-0123", verified=True)
    return user


@pytest.fixture
def subscribed(dsn_subscribe: Callable[..., Any], alice: Any) -> Any:
    """alice is notified by SMS whenever a Group is saved."""
    return dsn_subscribe(Group, [alice], messenger="twilio_sms", template="sms_event")


def fire(capture: Any, name: str = "Editors") -> Any:
    """Save a Group and run its deliveries; return the newest Delivery."""
    from dsn_core.models import Delivery

    with capture(execute=True):
        Group.objects.create(name=name)
    return Delivery.objects.order_by("-pk").first()
