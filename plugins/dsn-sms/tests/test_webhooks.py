"""Twilio's status callbacks and inbound STOP/START: signed requests change deliveries and
opt-outs; unsigned or tampered ones get 403 and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from dsn_core.models import ContactPoint, Delivery, DeliveryStatus

from .conftest import AUTH_TOKEN, FakeTwilio, fire, sms_settings

STATUS_PATH = "/dsn/sms/status/"
INBOUND_PATH = "/dsn/sms/inbound/"
TO = "+14155550123"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


def post(client: Client, path: str, params: dict[str, str], signature: str | None = "") -> Any:
    """POST as Twilio does; ``signature=""`` signs the test server's URL correctly."""
    if signature == "":
        signature = sign(f"http://testserver{path}", params)
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return client.post(path, params, headers=headers)


@pytest.fixture
def sent(fake_twilio: FakeTwilio, subscribed: Any, django_capture_on_commit_callbacks: Any) -> Any:
    delivery = fire(django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.SENT
    return delivery


def callback(delivery: Delivery, status: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": delivery.provider_message_id,
        "SmsSid": delivery.provider_message_id,
        "MessageStatus": status,
        "To": TO,
        "From": "+14155550100",
        "AccountSid": "AC" + "0123456789abcdef" * 2,
        **extra,
    }


def point() -> ContactPoint:
    return ContactPoint.objects.get(channel="sms", address=TO)


# -- status callbacks --------------------------------------------------------------------


@pytest.mark.parametrize("status", ["queued", "sent", "delivered"])
def test_status_is_recorded(client: Client, sent: Delivery, status: str) -> None:
    response = post(client, STATUS_PATH, callback(sent, status))
    assert response.status_code == 204
    sent.refresh_from_db()
    assert sent.provider_status == status
    assert sent.provider_updated is not None
    assert sent.status == DeliveryStatus.SENT


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_undelivered_and_failed_fail_the_delivery(
    client: Client, sent: Delivery, status: str
) -> None:
    response = post(client, STATUS_PATH, callback(sent, status, ErrorCode="30003"))
    assert response.status_code == 204
    sent.refresh_from_db()
    assert sent.provider_status == status
    assert sent.status == DeliveryStatus.FAILED
    assert sent.last_error == f"Twilio: {status}, handset unreachable (30003)"
    assert point().invalid_reason == ""  # an unreachable handset may come back


def test_unknown_error_code_is_kept_in_the_error(client: Client, sent: Delivery) -> None:
    post(client, STATUS_PATH, callback(sent, "undelivered", ErrorCode="39999"))
    sent.refresh_from_db()
    assert sent.last_error == "Twilio: undelivered, error 39999"


@pytest.mark.parametrize(
    ("code", "reason"), [("30005", "unknown destination"), ("21610", "opted out (STOP)")]
)
def test_dead_number_codes_mark_the_contact_point(
    client: Client, sent: Delivery, code: str, reason: str
) -> None:
    post(client, STATUS_PATH, callback(sent, "failed", ErrorCode=code))
    assert point().invalid_reason == reason


def test_late_sent_does_not_overwrite_delivered(client: Client, sent: Delivery) -> None:
    post(client, STATUS_PATH, callback(sent, "delivered"))
    post(client, STATUS_PATH, callback(sent, "sent"))
    sent.refresh_from_db()
    assert sent.provider_status == "delivered"


def test_signed_against_base_url_is_accepted(client: Client, sent: Delivery) -> None:
    # Behind a proxy the request may look like http://testserver/...; Twilio signed the
    # BASE_URL it was given.
    params = callback(sent, "delivered")
    signature = sign(f"https://sms.example.com{STATUS_PATH}", params)
    assert post(client, STATUS_PATH, params, signature).status_code == 204
    sent.refresh_from_db()
    assert sent.provider_status == "delivered"


def test_unknown_sid_or_status_changes_nothing(client: Client, sent: Delivery) -> None:
    params = {**callback(sent, "delivered"), "MessageSid": "SM" + "f" * 32}
    assert post(client, STATUS_PATH, params).status_code == 204
    assert post(client, STATUS_PATH, callback(sent, "exploded")).status_code == 204
    sent.refresh_from_db()
    assert sent.provider_status == ""


def assert_unchanged(delivery: Delivery) -> None:
    delivery.refresh_from_db()
    assert delivery.provider_status == ""
    assert delivery.status == DeliveryStatus.SENT
    assert point().invalid_reason == ""


def test_missing_signature_is_refused(client: Client, sent: Delivery) -> None:
    response = post(client, STATUS_PATH, callback(sent, "failed", ErrorCode="21610"), None)
    assert response.status_code == 403
    assert_unchanged(sent)


def test_tampered_parameters_are_refused(client: Client, sent: Delivery) -> None:
    params = callback(sent, "delivered")
    signature = sign(f"http://testserver{STATUS_PATH}", params)
    tampered = {**params, "MessageStatus": "failed", "ErrorCode": "30005"}
    assert post(client, STATUS_PATH, tampered, signature).status_code == 403
    assert_unchanged(sent)


def test_signature_with_another_token_is_refused(client: Client, sent: Delivery) -> None:
    params = callback(sent, "failed")
    signature = sign(f"http://testserver{STATUS_PATH}", params, token="0" * 32)
    assert post(client, STATUS_PATH, params, signature).status_code == 403
    assert_unchanged(sent)


def test_signature_for_another_url_is_refused(client: Client, sent: Delivery) -> None:
    params = callback(sent, "failed")
    signature = sign(f"http://testserver{INBOUND_PATH}", params)
    assert post(client, STATUS_PATH, params, signature).status_code == 403
    assert_unchanged(sent)


def test_without_auth_token_everything_is_refused(
    client: Client, sent: Delivery, settings: Any
) -> None:
    params = callback(sent, "failed")
    sms_settings(settings, AUTH_TOKEN=None)
    assert post(client, STATUS_PATH, params).status_code == 403
    assert_unchanged(sent)


def test_get_is_not_allowed(client: Client) -> None:
    assert client.get(STATUS_PATH).status_code == 405
    assert client.get(INBOUND_PATH).status_code == 405


# -- inbound STOP / START ----------------------------------------------------------------


def inbound(body: str, sender: str = TO) -> dict[str, str]:
    return {"MessageSid": "SM" + "1" * 32, "From": sender, "To": "+14155550100", "Body": body}


@pytest.mark.parametrize("body", ["STOP", " stop ", "Unsubscribe", "STOPALL"])
def test_stop_records_an_opt_out(client: Client, alice: Any, body: str) -> None:
    response = post(client, INBOUND_PATH, inbound(body))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == EMPTY_TWIML
    assert point().invalid_reason == "opted out (STOP)"


def test_start_clears_the_opt_out(client: Client, alice: Any) -> None:
    post(client, INBOUND_PATH, inbound("STOP"))
    response = post(client, INBOUND_PATH, inbound("start"))
    assert response.status_code == 200
    assert point().invalid_reason == ""


def test_advanced_opt_out_type_is_used(client: Client, alice: Any) -> None:
    params = {**inbound("Arrêtez"), "OptOutType": "STOP"}
    post(client, INBOUND_PATH, params)
    assert point().invalid_reason == "opted out (STOP)"


def test_other_messages_change_nothing(client: Client, alice: Any) -> None:
    response = post(client, INBOUND_PATH, inbound("Where is my order?"))
    assert response.status_code == 200
    assert response.content.decode() == EMPTY_TWIML
    assert point().invalid_reason == ""


def test_sender_spelled_otherwise_is_normalised(client: Client, alice: Any) -> None:
    post(client, INBOUND_PATH, inbound("STOP", sender="+1 (415) 555-0123"))
    assert point().invalid_reason == "opted out (STOP)"


def test_unsigned_stop_is_refused(client: Client, alice: Any) -> None:
    assert post(client, INBOUND_PATH, inbound("STOP"), None).status_code == 403
    params = inbound("HELLO")
    signature = sign(f"http://testserver{INBOUND_PATH}", params)
    assert post(client, INBOUND_PATH, inbound("STOP"), signature).status_code == 403
    assert point().invalid_reason == ""
