"""The messenger against a fake Twilio REST API on 127.0.0.1, through the real SDK: what
each request carries, and the outcome of every answer Twilio can give."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from werkzeug import Request, Response

from dsn_core.exceptions import PermanentDeliveryError
from dsn_core.messages import (
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    RenderedMessage,
    Sent,
    TransientFailure,
)
from dsn_core.models import ContactPoint
from dsn_sms.errors import classify
from dsn_sms.messenger import TwilioSmsMessenger
from dsn_sms.segments import count_segments

from .conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, MESSAGES_PATH, FakeTwilio, sms_settings

TO = "+14155550123"


def outgoing(text: str = "Order shipped", address: str | None = TO) -> OutgoingMessage:
    return OutgoingMessage(Recipient(None, address), RenderedMessage({"text": text}), "7")


def send_one(message: OutgoingMessage | None = None, **options: Any) -> Any:
    outcomes = TwilioSmsMessenger(options).send([message or outgoing()])
    assert len(outcomes) == 1
    return outcomes[0]


@pytest.fixture
def phone_user(db: None) -> Any:
    user = get_user_model().objects.create(username="alice")
    ContactPoint.objects.create(user=user, channel="sms", address=TO, verified=True)
    return user


def invalid_reason() -> str:
    return ContactPoint.objects.get(channel="sms", address=TO).invalid_reason


# -- the request -------------------------------------------------------------------------


def test_request_method_path_auth_and_form(fake_twilio: FakeTwilio) -> None:
    outcome = send_one()
    assert isinstance(outcome, Sent)
    assert outcome.provider_id
    assert outcome.provider_id.startswith("SM")
    [call] = fake_twilio.calls
    assert call.method == "POST"
    assert call.path == MESSAGES_PATH == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert call.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert call.form == {
        "To": TO,
        "From": FROM_NUMBER,
        "Body": "Order shipped",
        "StatusCallback": "https://sms.example.com/dsn/sms/status/",
    }


def test_messaging_service_replaces_from_number(fake_twilio: FakeTwilio, settings: Any) -> None:
    service = "MG" + "ab" * 16
    sms_settings(settings, MESSAGING_SERVICE_SID=service)
    assert isinstance(send_one(), Sent)
    [call] = fake_twilio.calls
    assert call.form["MessagingServiceSid"] == service
    assert "From" not in call.form


def test_no_status_callback_without_base_url(fake_twilio: FakeTwilio, settings: Any) -> None:
    sms_settings(settings, BASE_URL=None)
    assert isinstance(send_one(), Sent)
    assert "StatusCallback" not in fake_twilio.calls[0].form


def test_address_is_normalised_before_sending(fake_twilio: FakeTwilio) -> None:
    assert isinstance(send_one(outgoing(address="+1 (415) 555-0123")), Sent)
    assert fake_twilio.calls[0].form["To"] == TO


def test_each_message_gets_its_own_call_and_sid(fake_twilio: FakeTwilio) -> None:
    messages = [outgoing(f"text {n}", f"+1415555{n + 300:04d}") for n in range(3)]
    outcomes = TwilioSmsMessenger({}).send(messages)
    assert [c.form["Body"] for c in fake_twilio.calls] == ["text 0", "text 1", "text 2"]
    sids = [o.provider_id for o in outcomes if isinstance(o, Sent)]
    assert len(set(sids)) == 3


def test_max_segments_truncates_with_an_ellipsis(fake_twilio: FakeTwilio) -> None:
    long_text = "Your order has shipped. " * 20  # 480 GSM-7 characters: 4 segments
    assert count_segments(long_text).segments == 4
    assert isinstance(send_one(outgoing(long_text), max_segments=1), Sent)
    body = fake_twilio.calls[0].form["Body"]
    assert body.endswith("...")
    assert len(body) <= 160
    assert count_segments(body).segments == 1
    assert long_text.startswith(body[:-3])


def test_unicode_text_is_cut_to_ucs2_segments(fake_twilio: FakeTwilio) -> None:
    text = "Заказ отправлен! " * 10  # Cyrillic: UCS-2
    assert isinstance(send_one(outgoing(text), max_segments=2), Sent)
    body = fake_twilio.calls[0].form["Body"]
    assert body.endswith("…")
    assert count_segments(body).encoding == "UCS-2"
    assert count_segments(body).segments == 2


def test_segments_reports_the_cost_of_the_body() -> None:
    info = TwilioSmsMessenger({"max_segments": 2}).segments(outgoing("[x] " * 100))
    assert (info.encoding, info.segments) == ("GSM-7", 2)
    assert TwilioSmsMessenger({}).segments(outgoing("ж" * 71)).segments == 2


def test_short_text_is_not_cut(fake_twilio: FakeTwilio) -> None:
    assert isinstance(send_one(outgoing("hi €"), max_segments=1), Sent)
    assert fake_twilio.calls[0].form["Body"] == "hi €"


@pytest.mark.parametrize("value", [0, -1, "2", 1.5, True])
def test_bad_max_segments_option_fails_the_batch(fake_twilio: FakeTwilio, value: Any) -> None:
    with pytest.raises(PermanentDeliveryError, match="max_segments"):
        send_one(max_segments=value)
    assert fake_twilio.calls == []


def test_empty_text_is_a_permanent_failure(fake_twilio: FakeTwilio) -> None:
    outcome = send_one(outgoing("  "))
    assert isinstance(outcome, PermanentFailure)
    assert "no text" in outcome.reason
    assert fake_twilio.calls == []


@pytest.mark.parametrize("address", [None, "", "not a phone", "+1415"])
def test_invalid_address_is_refused_before_twilio(fake_twilio: FakeTwilio, address: Any) -> None:
    outcome = send_one(outgoing(address=address))
    assert isinstance(outcome, PermanentFailure)
    assert "not a valid phone number" in outcome.reason
    assert fake_twilio.calls == []


@pytest.mark.parametrize("missing", ["ACCOUNT_SID", "AUTH_TOKEN"])
def test_missing_credentials_fail_the_batch(
    fake_twilio: FakeTwilio, settings: Any, missing: str
) -> None:
    sms_settings(settings, **{missing: None})
    with pytest.raises(PermanentDeliveryError, match=missing):
        send_one()
    assert fake_twilio.calls == []


def test_missing_sender_fails_the_batch(fake_twilio: FakeTwilio, settings: Any) -> None:
    sms_settings(settings, FROM_NUMBER=None)
    with pytest.raises(PermanentDeliveryError, match="FROM_NUMBER"):
        send_one()


def test_wrong_setting_types_fall_back(fake_twilio: FakeTwilio, settings: Any) -> None:
    sms_settings(settings, TIMEOUT="soon", BASE_URL=42)
    assert isinstance(send_one(), Sent)
    assert "StatusCallback" not in fake_twilio.calls[0].form


def test_credentials_never_come_from_the_environment(
    fake_twilio: FakeTwilio, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "9" * 32)
    monkeypatch.setenv("TWILIO_REGION", "au1")
    assert isinstance(send_one(), Sent)
    assert fake_twilio.calls[0].auth == (ACCOUNT_SID, AUTH_TOKEN)


# -- outcomes ----------------------------------------------------------------------------


def test_http_429_is_transient_with_retry_after(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail(429, 20429, "Too Many Requests", **{"Retry-After": "37"})
    outcome = send_one()
    assert isinstance(outcome, TransientFailure)
    assert outcome.retry_after == 37
    assert "20429" in outcome.reason


def test_20429_without_retry_after_is_transient(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail(429, 20429)
    outcome = send_one()
    assert isinstance(outcome, TransientFailure)
    assert outcome.retry_after is None


def test_http_date_retry_after_is_ignored(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail(429, None, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    outcome = send_one()
    assert isinstance(outcome, TransientFailure)
    assert outcome.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(fake_twilio: FakeTwilio, status: int) -> None:
    fake_twilio.answer(lambda _: Response("<html>oops</html>", status=status))
    outcome = send_one()
    assert isinstance(outcome, TransientFailure)
    assert f"HTTP {status}" in outcome.reason


def test_connection_refused_is_transient(settings: Any, closed_port: int) -> None:
    sms_settings(settings, API_BASE=f"http://127.0.0.1:{closed_port}")
    outcome = send_one()
    assert isinstance(outcome, TransientFailure)
    assert "Cannot reach Twilio" in outcome.reason


def test_timeout_is_transient(fake_twilio: FakeTwilio, settings: Any) -> None:
    sms_settings(settings, TIMEOUT=0.2)

    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("{}", status=201)

    fake_twilio.answer(slow)
    outcome = send_one()
    assert isinstance(outcome, TransientFailure)
    assert "within 0.2 s" in outcome.reason


def test_non_json_success_is_transient_and_logged(
    fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    fake_twilio.answer(lambda _: Response("not json", status=201))
    outcome = send_one()
    assert isinstance(outcome, TransientFailure)
    assert "Unexpected error" in outcome.reason
    assert "unexpected error" in caplog.text


@pytest.mark.parametrize(
    ("code", "reason"), [(21211, "not a valid phone number"), (21614, "not SMS-capable")]
)
def test_invalid_to_is_permanent_and_marks_the_number(
    fake_twilio: FakeTwilio, phone_user: Any, code: int, reason: str
) -> None:
    fake_twilio.fail(400, code, f"The 'To' number {TO} is not valid.")
    outcome = send_one()
    assert isinstance(outcome, PermanentFailure)
    assert str(code) in outcome.reason
    assert f"The 'To' number {TO} is not valid." in outcome.reason
    assert "Unable to create record" not in outcome.reason
    assert invalid_reason() == reason


def test_opted_out_is_permanent_and_recorded(fake_twilio: FakeTwilio, phone_user: Any) -> None:
    fake_twilio.fail(400, 21610, "Attempt to send to unsubscribed recipient")
    outcome = send_one()
    assert isinstance(outcome, PermanentFailure)
    assert "opted out" in outcome.reason
    assert invalid_reason() == "opted out (STOP)"


@pytest.mark.parametrize(("status", "code"), [(401, 20003), (401, None)])
def test_authentication_failure_is_permanent_with_a_hint(
    fake_twilio: FakeTwilio, phone_user: Any, status: int, code: int | None
) -> None:
    fake_twilio.fail(status, code, "Authenticate")
    outcome = send_one()
    assert isinstance(outcome, PermanentFailure)
    assert "DSN['SMS']['AUTH_TOKEN']" in outcome.reason
    assert "manage.py check" in outcome.reason
    assert invalid_reason() == ""  # the number is fine


def test_other_client_errors_are_permanent(fake_twilio: FakeTwilio, phone_user: Any) -> None:
    fake_twilio.fail(400, 21606, "The From phone number is not a valid, SMS-capable number")
    outcome = send_one()
    assert isinstance(outcome, PermanentFailure)
    assert "FROM_NUMBER" in outcome.reason
    assert invalid_reason() == ""


def test_unknown_4xx_is_permanent(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail(404, 20404, "The requested resource was not found")
    outcome = send_one()
    assert isinstance(outcome, PermanentFailure)
    assert "Twilio error 20404 (HTTP 404)" in outcome.reason


def test_problem_details_error_is_mapped(fake_twilio: FakeTwilio) -> None:
    problem = {
        "type": "https://www.twilio.com/docs/errors/20429",
        "title": "Too many requests",
        "status": 429,
        "code": 20429,
        "detail": "Slow down",
    }
    fake_twilio.answer(
        lambda _: Response(
            json.dumps(problem),
            status=429,
            content_type="application/problem+json",
            headers={"Retry-After": "5"},
        )
    )
    outcome = send_one()
    assert isinstance(outcome, TransientFailure)
    assert outcome.retry_after == 5
    assert "Slow down" in outcome.reason


def test_one_failure_does_not_stop_the_batch(fake_twilio: FakeTwilio, phone_user: Any) -> None:
    fake_twilio.fail(400, 21211)
    outcomes = TwilioSmsMessenger({}).send([outgoing(), outgoing("second", "+14155550124")])
    assert isinstance(outcomes[0], PermanentFailure)
    assert isinstance(outcomes[1], Sent)


def problem(status: int | None, code: int | None, detail: str, title: str = "Error") -> Response:
    """An RFC 9457 problem-details body: the SDK raises ``TwilioServiceException``."""
    body = {
        "type": f"https://www.twilio.com/docs/errors/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    return Response(json.dumps(body), status=status or 400, content_type="application/problem+json")


def test_problem_details_20003_is_permanent_with_a_hint(
    fake_twilio: FakeTwilio, phone_user: Any
) -> None:
    fake_twilio.answer(lambda _: problem(401, 20003, "Authentication Error - invalid username"))
    outcomes = TwilioSmsMessenger({}).send([outgoing(), outgoing("second", "+14155550124")])
    assert len(fake_twilio.calls) == 1  # the second message would be refused too
    for outcome in outcomes:
        assert isinstance(outcome, PermanentFailure)
        assert "(20003)" in outcome.reason
        assert "DSN['SMS']['AUTH_TOKEN']" in outcome.reason
        assert "manage.py check" in outcome.reason
        assert "Authentication Error - invalid username" in outcome.reason
    assert invalid_reason() == ""


def test_error_without_http_status_says_so(fake_twilio: FakeTwilio) -> None:
    # A problem-details body with null status and code: nothing to classify by.
    fake_twilio.answer(lambda _: problem(None, None, "Something odd"))
    outcome = send_one()
    assert isinstance(outcome, PermanentFailure)
    assert "(no HTTP status)" in outcome.reason
    assert "HTTP 0" not in outcome.reason


@pytest.mark.parametrize(
    ("status", "code", "text"),
    [
        (None, None, "Twilio refused the message (no HTTP status)"),
        (None, 30001, "Twilio error 30001 (no HTTP status)"),
        (404, 20404, "Twilio error 20404 (HTTP 404)"),
        (400, None, "Twilio refused the message (HTTP 400)"),
    ],
)
def test_classify_names_the_status(status: int | None, code: int | None, text: str) -> None:
    assert classify(status, code).description == text


def test_info_log_names_the_sid_not_the_number(
    fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="dsn_sms")
    outcome = send_one()
    assert isinstance(outcome, Sent)
    [record] = [r for r in caplog.records if r.name == "dsn_sms.messenger"]
    assert record.levelname == "INFO"
    assert str(outcome.provider_id) in record.getMessage()
    assert "+1415***0123" in record.getMessage()
    assert TO not in caplog.text
