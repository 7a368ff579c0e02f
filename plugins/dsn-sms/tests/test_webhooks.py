"""Twilio's status callbacks and inbound STOP/START: signed requests change deliveries and
opt-outs; unsigned or tampered ones get 403 and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import get_script_prefix, set_script_prefix
from twilio.request_validator import RequestValidator

from dsn_core.feedback import FAILURE_STATUSES
from dsn_core.models import ContactPoint, Delivery, DeliveryStatus
from dsn_sms.callback_urls import status_callback_url
from dsn_sms.views import FAILED, STATUSES

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


def test_get_is_not_allowed(client: Client, db: None) -> None:
    # db: any request may let core re-read its trigger index (REFRESH_INTERVAL).
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


def test_failure_statuses_are_core_failure_statuses(client: Client, sent: Delivery) -> None:
    # apply_report(failed=True) refuses any other status.
    assert FAILED <= FAILURE_STATUSES
    assert "canceled" in STATUSES - FAILURE_STATUSES
    assert post(client, STATUS_PATH, callback(sent, "canceled")).status_code == 204
    sent.refresh_from_db()
    assert (sent.provider_status, sent.status) == ("canceled", DeliveryStatus.SENT)


# -- the URL Twilio signed, under a script prefix ----------------------------------------


@pytest.fixture
def script_prefix() -> Iterator[None]:
    """The test client sets the thread's script prefix from SCRIPT_NAME: put it back."""
    saved = get_script_prefix()
    try:
        yield
    finally:
        set_script_prefix(saved)


def the_callback_url(fake: FakeTwilio) -> str:
    return fake.calls[-1].form["StatusCallback"]


def test_base_url_with_a_path_is_verified_under_script_name(
    client: Client, sent: Delivery, fake_twilio: FakeTwilio, settings: Any, script_prefix: None
) -> None:
    # The site lives under https://sms.example.com/shop/; the proxy passes SCRIPT_NAME.
    sms_settings(settings, BASE_URL="https://sms.example.com/shop")
    url = status_callback_url()
    assert url == "https://sms.example.com/shop/dsn/sms/status/"
    params = callback(sent, "delivered")
    response = client.post(
        STATUS_PATH, params, headers={"X-Twilio-Signature": sign(url, params)}, SCRIPT_NAME="/shop"
    )
    assert response.status_code == 204
    sent.refresh_from_db()
    assert sent.provider_status == "delivered"


def test_force_script_name_is_in_the_callback_and_verified(
    client: Client,
    fake_twilio: FakeTwilio,
    subscribed: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    script_prefix: None,
) -> None:
    settings.FORCE_SCRIPT_NAME = "/shop"
    delivery = fire(django_capture_on_commit_callbacks)
    url = the_callback_url(fake_twilio)
    assert url == "https://sms.example.com/shop/dsn/sms/status/"
    params = callback(delivery, "delivered")
    # The proxy strips /shop: Django sees /dsn/sms/status/ under FORCE_SCRIPT_NAME.
    response = client.post(STATUS_PATH, params, headers={"X-Twilio-Signature": sign(url, params)})
    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.provider_status == "delivered"


def test_callback_url_does_not_depend_on_the_current_request(
    settings: Any, script_prefix: None
) -> None:
    # Sent inside a request served under SCRIPT_NAME=/shop (ImmediateBackend), the URL is
    # the one a worker builds: BASE_URL must hold such a prefix (or FORCE_SCRIPT_NAME).
    set_script_prefix("/shop/")
    assert status_callback_url() == "https://sms.example.com/dsn/sms/status/"
    settings.FORCE_SCRIPT_NAME = "/shop/"
    assert status_callback_url() == "https://sms.example.com/shop/dsn/sms/status/"


def test_signature_for_another_prefix_is_refused(
    client: Client, sent: Delivery, settings: Any, script_prefix: None
) -> None:
    params = callback(sent, "failed", ErrorCode="30005")
    signature = sign(f"https://sms.example.com/other{STATUS_PATH}", params)
    response = client.post(
        STATUS_PATH, params, headers={"X-Twilio-Signature": signature}, SCRIPT_NAME="/shop"
    )
    assert response.status_code == 403
    assert_unchanged(sent)


# -- STOP from a number DSN does not know ------------------------------------------------


def test_stop_from_an_unknown_number_is_logged_masked(
    client: Client, alice: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = "+14155550199"
    response = post(client, INBOUND_PATH, inbound("STOP", sender=stranger))
    assert response.status_code == 200
    assert not ContactPoint.objects.filter(address=stranger).exists()
    [record] = [r for r in caplog.records if r.name == "dsn_sms.views"]
    assert record.levelname == "WARNING"
    message = record.getMessage()
    assert "+1415***0199" in message
    assert "21610" in message
    assert stranger not in message
    assert point().invalid_reason == ""


def test_stop_from_a_known_number_logs_no_warning(
    client: Client, alice: Any, caplog: pytest.LogCaptureFixture
) -> None:
    post(client, INBOUND_PATH, inbound("STOP"))
    assert not [r for r in caplog.records if r.name == "dsn_sms.views"]


def test_number_added_after_its_stop_is_marked_by_twilios_21610(
    client: Client,
    fake_twilio: FakeTwilio,
    dsn_subscribe: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The STOP is not remembered (no contact point held the number); Twilio's own block
    # answers the first send with 21610, which marks the contact point from then on.
    post(client, INBOUND_PATH, inbound("STOP"))
    bob = get_user_model().objects.create(username="bob")
    ContactPoint.objects.create(user=bob, channel="sms", address=TO, verified=True)
    dsn_subscribe(Group, [bob], messenger="twilio_sms", template="sms_event")
    fake_twilio.fail(400, 21610, "Attempt to send to unsubscribed recipient")
    delivery = fire(django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.FAILED
    assert "21610" in delivery.last_error
    assert point().invalid_reason == "opted out (STOP)"
    fire(django_capture_on_commit_callbacks, "Second")  # skipped: no more 21610s
    assert len(fake_twilio.calls) == 1
