"""Fakes on 127.0.0.1 for dsn-email's tests: SendGrid's v3 API and an SMTP server."""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.core import mail
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


def email_settings(settings: Any, **values: Any) -> None:
    """Override keys of ``DSN["EMAIL"]`` for one test."""
    settings.DSN = {**settings.DSN, "EMAIL": {**settings.DSN.get("EMAIL", {}), **values}}


@dataclass
class FakeSendGrid:
    """The v3 mail send endpoint on pytest-httpserver; accepts everything by default."""

    server: HTTPServer
    url: str
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    #: What the next calls answer: (status, body, headers); empty means 202 accepted.
    answers: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)

    def handle(self, request: Request) -> Response:
        if self.answers:
            status, body, headers = self.answers.pop(0)
            return Response(json.dumps(body), status=status, headers=headers)
        return Response(status=202, headers={"X-Message-Id": f"msg-{next(self.ids)}"})

    @property
    def requests(self) -> list[Request]:
        return [request for request, _ in self.server.log]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.get_data()) for request in self.requests]

    def answer(self, status: int, body: Any = None, **headers: str) -> None:
        self.answers.append((status, body or {}, headers))


@pytest.fixture
def fake_sendgrid(httpserver: HTTPServer, settings: Any) -> FakeSendGrid:
    fake = FakeSendGrid(httpserver, httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_handler(fake.handle)
    email_settings(settings, SENDGRID_HOST=fake.url, SENDGRID_TIMEOUT=5)
    return fake


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connections are refused."""
    return _free_port()


@dataclass
class SMTPRecorder:
    """aiosmtpd handler: keeps each message; refuses addresses listed in ``refuse``,
    the sender with ``refuse_sender``, answers DATA with ``data_replies`` in turn, and
    drops the connection at the first MAIL FROM after ``hang_up_after`` messages."""

    messages: list[Envelope] = field(default_factory=list)
    sessions: int = 0
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply
    refuse_sender: str = ""
    data_replies: list[str] = field(default_factory=list)
    hang_up_after: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.hang_up_after is not None and len(self.messages) >= self.hang_up_after:
            assert server.transport is not None
            server.transport.close()  # the client sees the connection drop
            return "421 4.3.2 Closing connection"
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies and not (reply := self.data_replies.pop(0)).startswith("250"):
            return reply
        with self.lock:
            self.messages.append(envelope)
        return "250 Message accepted for delivery"


def use_backend(settings: Any, backend: str, **options: Any) -> None:
    """Make ``backend`` (a dotted path) Django's email backend: MAILERS on 6.1+."""
    if hasattr(mail, "mailers"):
        settings.MAILERS = {"default": {"BACKEND": backend, "OPTIONS": options}}
    else:
        settings.EMAIL_BACKEND = backend


def use_smtp(settings: Any, port: int) -> None:
    """Point Django's email at 127.0.0.1:port: MAILERS on Django 6.1+, EMAIL_* before."""
    backend = "django.core.mail.backends.smtp.EmailBackend"
    if hasattr(mail, "mailers"):
        settings.MAILERS = {
            "default": {"BACKEND": backend, "OPTIONS": {"host": "127.0.0.1", "port": port}}
        }
    else:
        settings.EMAIL_BACKEND = backend
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SMTPRecorder]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, with Django's email pointed at it."""
    recorder = SMTPRecorder()
    port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        use_smtp(settings, port)
        yield recorder
    finally:
        controller.stop()


@pytest.fixture
def user_factory(db: None) -> Callable[..., Any]:
    from django.contrib.auth import get_user_model

    def make(username: str, **fields: Any) -> Any:
        fields.setdefault("email", f"{username}@example.com")
        return get_user_model().objects.create_user(username=username, **fields)

    return make
