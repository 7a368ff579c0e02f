"""A batch is bounded: an answer that would repeat stops it (one request, not 25), it
never outlives a share of core's CLAIM_TIMEOUT (or ``dsn requeue`` would send it twice),
and its HTTP connections are closed when it ends."""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from werkzeug import Request, Response

from dsn_core.messages import (
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    RenderedMessage,
    Sent,
    TransientFailure,
)
from dsn_core.models import ContactPoint, Delivery, DeliveryStatus
from dsn_sms.messenger import OUT_OF_TIME, TwilioSmsMessenger, time_budget

from .conftest import FakeTwilio, accepted, sms_settings


def batch(size: int = 3) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            Recipient(None, f"+1415555{n + 300:04d}"),
            RenderedMessage({"text": f"text {n}"}),
            str(n),
        )
        for n in range(size)
    ]


def settle(fake: FakeTwilio, done: threading.Event) -> None:
    """Wait until the slow answer is over, then long enough for any queued request to be
    answered too: a request the client made after giving up would show in the log."""
    assert done.wait(5)
    time.sleep(0.5)


def slow(seconds: float, done: threading.Event) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        time.sleep(seconds)
        try:
            return accepted(request)
        finally:
            done.set()

    return handler


def test_batches_are_small() -> None:
    assert TwilioSmsMessenger.max_batch_size == 25


# -- answers that stop the batch ---------------------------------------------------------


def test_timeout_on_the_first_message_stops_the_batch(
    fake_twilio: FakeTwilio, settings: Any
) -> None:
    sms_settings(settings, TIMEOUT=0.2)
    done = threading.Event()
    fake_twilio.answer(slow(0.6, done))
    outcomes = TwilioSmsMessenger({}).send(batch())
    settle(fake_twilio, done)
    assert len(fake_twilio.calls) == 1
    assert len(outcomes) == 3
    assert all(isinstance(o, TransientFailure) for o in outcomes)
    assert all("did not answer within 0.2 s" in o.reason for o in outcomes)  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [20429, None])
def test_rate_limit_on_the_first_message_stops_the_batch(
    fake_twilio: FakeTwilio, code: int | None
) -> None:
    fake_twilio.fail(429, code, "Too Many Requests", **{"Retry-After": "37"})
    outcomes = TwilioSmsMessenger({}).send(batch())
    assert len(fake_twilio.calls) == 1
    assert [type(o) for o in outcomes] == [TransientFailure] * 3
    assert [o.retry_after for o in outcomes] == [37, 37, 37]  # type: ignore[union-attr]
    assert all("rate limit" in o.reason for o in outcomes)  # type: ignore[union-attr]


@pytest.mark.parametrize(("status", "code"), [(401, 20003), (401, None)])
def test_rejected_credentials_stop_the_batch(
    fake_twilio: FakeTwilio, status: int, code: int | None
) -> None:
    fake_twilio.fail(status, code, "Authenticate")
    outcomes = TwilioSmsMessenger({}).send(batch())
    assert len(fake_twilio.calls) == 1
    assert [type(o) for o in outcomes] == [PermanentFailure] * 3
    assert all("DSN['SMS']['AUTH_TOKEN']" in o.reason for o in outcomes)  # type: ignore[union-attr]


def test_connection_refused_stops_the_batch(settings: Any, closed_port: int) -> None:
    sms_settings(settings, API_BASE=f"http://127.0.0.1:{closed_port}")
    outcomes = TwilioSmsMessenger({}).send(batch())
    assert [type(o) for o in outcomes] == [TransientFailure] * 3
    assert all("Cannot reach Twilio" in o.reason for o in outcomes)  # type: ignore[union-attr]


def test_a_stop_keeps_what_was_sent_before_it(fake_twilio: FakeTwilio) -> None:
    fake_twilio.answer(accepted, lambda _: Response('{"status": 429}', status=429))
    outcomes = TwilioSmsMessenger({}).send(batch())
    assert len(fake_twilio.calls) == 2
    assert isinstance(outcomes[0], Sent)
    assert [type(o) for o in outcomes[1:]] == [TransientFailure] * 2


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_does_not_stop_the_batch(fake_twilio: FakeTwilio, status: int) -> None:
    # One 5xx is often one bad request; the time budget bounds a real outage.
    fake_twilio.answer(lambda _: Response("oops", status=status))
    outcomes = TwilioSmsMessenger({}).send(batch())
    assert len(fake_twilio.calls) == 3
    assert [type(o) for o in outcomes] == [TransientFailure, Sent, Sent]


# -- the time budget ---------------------------------------------------------------------


def test_time_budget_is_a_third_of_claim_timeout_at_most_a_minute(settings: Any) -> None:
    assert time_budget() == 60  # CLAIM_TIMEOUT defaults to 600 s
    settings.DSN = {**settings.DSN, "CLAIM_TIMEOUT": 90}
    assert time_budget() == 30
    settings.DSN = {**settings.DSN, "CLAIM_TIMEOUT": "soon"}  # dsn.E001 says so
    assert time_budget() == 60


def test_batch_stops_when_its_time_is_up(
    fake_twilio: FakeTwilio, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.DSN = {**settings.DSN, "CLAIM_TIMEOUT": 0.6}  # a budget of 0.2 s
    done = threading.Event()
    fake_twilio.answer(slow(0.3, done))
    outcomes = TwilioSmsMessenger({}).send(batch())
    settle(fake_twilio, done)
    assert len(fake_twilio.calls) == 1
    assert isinstance(outcomes[0], Sent)
    assert list(outcomes[1:]) == [OUT_OF_TIME, OUT_OF_TIME]
    assert (OUT_OF_TIME.reason, OUT_OF_TIME.retry_after) == (
        "not sent: the batch ran out of time",
        0,
    )
    assert "ran out of time after 1 of 3" in caplog.text


def test_first_message_is_sent_even_without_a_budget(
    fake_twilio: FakeTwilio, settings: Any
) -> None:
    settings.DSN = {**settings.DSN, "CLAIM_TIMEOUT": 0}
    outcomes = TwilioSmsMessenger({}).send(batch(2))
    assert len(fake_twilio.calls) == 1
    assert isinstance(outcomes[0], Sent)
    assert outcomes[1] == OUT_OF_TIME


def test_rate_limit_in_the_outbox_defers_every_delivery_with_one_request(
    fake_twilio: FakeTwilio,
    dsn_subscribe: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    users = []
    for n in range(3):
        user = get_user_model().objects.create(username=f"user{n}")
        ContactPoint.objects.create(
            user=user, channel="sms", address=f"+1415555{n + 300:04d}", verified=True
        )
        users.append(user)
    dsn_subscribe(Group, users, messenger="twilio_sms", template="sms_event")
    fake_twilio.fail(429, 20429, "Too Many Requests", **{"Retry-After": "120"})
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Editors")
    assert len(fake_twilio.calls) == 1
    rows = list(Delivery.objects.all())
    assert len(rows) == 3
    for row in rows:
        assert row.status == DeliveryStatus.PENDING, row.last_error
        assert "20429" in row.last_error
        assert row.next_attempt_at is not None
        assert row.next_attempt_at >= timezone.now() + timedelta(seconds=100)


# -- connections -------------------------------------------------------------------------


class KeepAliveTwilio(ThreadingHTTPServer):
    """A fake Messages API that keeps connections open (HTTP/1.1), as Twilio does, and
    counts the connections the client has not closed yet. ``answers``: status and JSON
    body of each request in turn, then 201."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), KeepAliveHandler)
        self.answers: list[tuple[int, str]] = []
        self.requests = 0
        self.open = 0
        self.lock = threading.Lock()

    def wait_all_closed(self, seconds: float = 2) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if self.open == 0:
                    return True
            time.sleep(0.01)
        return False


class KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KeepAliveTwilio

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.open += 1

    def finish(self) -> None:  # the client closed the connection (or the server stops)
        super().finish()
        with self.server.lock:
            self.server.open -= 1

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.lock:
            self.server.requests += 1
            n = self.server.requests
            status, body = (
                self.server.answers.pop(0)
                if self.server.answers
                else (201, json.dumps({"sid": f"SM{n:032x}", "status": "queued"}))
            )
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def keep_alive_twilio(settings: Any) -> Iterator[KeepAliveTwilio]:
    server = KeepAliveTwilio()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sms_settings(settings, API_BASE=f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        gc.collect()  # a connection left open is closed now, not in another test


def test_connections_are_closed_after_the_batch(keep_alive_twilio: KeepAliveTwilio) -> None:
    outcomes = TwilioSmsMessenger({}).send(batch(2))
    assert [type(o) for o in outcomes] == [Sent, Sent]
    assert keep_alive_twilio.requests == 2
    assert keep_alive_twilio.wait_all_closed()


def test_connections_are_closed_after_a_stopped_batch(keep_alive_twilio: KeepAliveTwilio) -> None:
    keep_alive_twilio.answers.append(
        (401, json.dumps({"status": 401, "code": 20003, "message": "Authenticate"}))
    )
    outcomes = TwilioSmsMessenger({}).send(batch(2))
    assert [type(o) for o in outcomes] == [PermanentFailure] * 2
    assert keep_alive_twilio.requests == 1
    assert keep_alive_twilio.wait_all_closed()
