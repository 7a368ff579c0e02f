"""End to end: a saved Group fires a trigger, DSN's outbox sends through the SMS messenger
to the fake Twilio, and each outcome lands on the Delivery row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from dsn_core.models import DeliveryStatus

from .conftest import FakeTwilio, fire

TO = "+14155550123"


def test_sent_with_the_message_sid(
    fake_twilio: FakeTwilio, subscribed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = fire(django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.SENT, delivery.last_error
    assert delivery.address == TO
    assert delivery.attempts == 1
    [call] = fake_twilio.calls
    assert call.form["To"] == TO
    assert call.form["Body"] == "post_save: Editors"
    assert delivery.provider_message_id
    assert delivery.provider_message_id.startswith("SM")
    assert delivery.provider_details == {"segments": 1, "encoding": "GSM-7", "units": 18}


@pytest.mark.parametrize(
    ("name", "details"),
    [
        # "post_save: " is 11 characters: 161 GSM-7 septets need a second segment.
        ("x" * 150, {"segments": 2, "encoding": "GSM-7", "units": 161}),
        # € is a GSM-7 extension character: two septets.
        ("€" * 75, {"segments": 2, "encoding": "GSM-7", "units": 161}),
        # One Cyrillic letter makes the whole text UCS-2: 70 units per single segment.
        ("Редакторы", {"segments": 1, "encoding": "UCS-2", "units": 20}),
        ("ж" * 60, {"segments": 2, "encoding": "UCS-2", "units": 71}),
        # An emoji is a UTF-16 surrogate pair: two units.
        ("🚀" * 30, {"segments": 2, "encoding": "UCS-2", "units": 71}),
    ],
)
def test_segment_count_and_encoding_land_on_the_delivery(
    fake_twilio: FakeTwilio,
    subscribed: Any,
    django_capture_on_commit_callbacks: Any,
    name: str,
    details: dict[str, Any],
) -> None:
    delivery = fire(django_capture_on_commit_callbacks, name)
    assert delivery.status == DeliveryStatus.SENT, delivery.last_error
    assert fake_twilio.calls[0].form["Body"] == f"post_save: {name}"
    assert delivery.provider_details == details


def test_max_segments_cut_is_reported(
    fake_twilio: FakeTwilio,
    dsn_subscribe: Callable[..., Any],
    alice: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    dsn_subscribe(
        Group, [alice], messenger="twilio_sms", template="sms_event", options={"max_segments": 1}
    )
    delivery = fire(django_capture_on_commit_callbacks, "ж" * 100)
    assert delivery.status == DeliveryStatus.SENT, delivery.last_error
    assert delivery.provider_details["segments"] == 1
    assert delivery.provider_details["encoding"] == "UCS-2"
    assert fake_twilio.calls[0].form["Body"].endswith("…")


def test_admin_shows_the_segment_details(
    fake_twilio: FakeTwilio,
    subscribed: Any,
    django_capture_on_commit_callbacks: Any,
    admin_client: Any,
) -> None:
    delivery = fire(django_capture_on_commit_callbacks, "Редакторы")
    page = admin_client.get(f"/admin/dsn_core/delivery/{delivery.pk}/change/").content.decode()
    assert "UCS-2" in page
    assert "segments" in page


def test_retry_after_is_honoured_by_the_outbox(
    fake_twilio: FakeTwilio, subscribed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fake_twilio.fail(429, 20429, "Too Many Requests", **{"Retry-After": "900"})
    before = timezone.now()
    delivery = fire(django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.PENDING
    assert "20429" in delivery.last_error
    # RETRY_BASE is 30 s: only Twilio's Retry-After puts the next attempt 15 minutes out.
    assert delivery.next_attempt_at >= before + timedelta(seconds=900)


def test_server_error_is_retried_later(
    fake_twilio: FakeTwilio, subscribed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fake_twilio.fail(503, None)
    delivery = fire(django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at > timezone.now()


def test_opt_out_fails_and_later_events_skip_the_number(
    fake_twilio: FakeTwilio, subscribed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fake_twilio.fail(400, 21610, "Attempt to send to unsubscribed recipient")
    first = fire(django_capture_on_commit_callbacks)
    assert first.status == DeliveryStatus.FAILED
    assert "opted out" in first.last_error
    second = fire(django_capture_on_commit_callbacks, "Writers")
    assert second.pk != first.pk
    assert second.status == DeliveryStatus.SKIPPED
    assert "opted out (STOP)" in second.last_error
    assert len(fake_twilio.calls) == 1


def test_invalid_number_fails_and_is_skipped_next_time(
    fake_twilio: FakeTwilio, subscribed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fake_twilio.fail(400, 21211, "The 'To' number is not a valid phone number.")
    assert fire(django_capture_on_commit_callbacks).status == DeliveryStatus.FAILED
    second = fire(django_capture_on_commit_callbacks, "Writers")
    assert second.status == DeliveryStatus.SKIPPED
    assert "not a valid phone number" in second.last_error


def test_user_without_phone_is_skipped(
    fake_twilio: FakeTwilio,
    dsn_subscribe: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    bob = get_user_model().objects.create(username="bob")
    dsn_subscribe(Group, [bob], messenger="twilio_sms", template="sms_event")
    delivery = fire(django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.SKIPPED
    assert "no sms address" in delivery.last_error
    assert fake_twilio.calls == []
