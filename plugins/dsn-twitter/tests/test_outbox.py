"""Through DSN's outbox: a saved model fires the trigger, deliveries go to the fake X."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group

from dsn_core.models import ContactPoint, Delivery, DeliveryStatus

from .conftest import POST_PATH, dm_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(django_user_model):
    return [django_user_model.objects.create(username=name) for name in ("ada", "bob", "cy")]


def test_one_post_per_event_whatever_the_subscribers(
    fake_x, users, dsn_subscribe, django_capture_on_commit_callbacks
):
    fake_x.accept_posts()
    dsn_subscribe(Group, users, messenger="twitter_post", template="twitter_post")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="New article: DSN goes social")
    (delivery,) = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.user is None
    assert delivery.provider_message_id == "1000"
    assert fake_x.texts() == ["New article: DSN goes social"]
    assert [r.path for r in fake_x.requests] == [POST_PATH]


def test_rate_limited_post_waits_for_the_reset(
    fake_x, users, dsn_subscribe, django_capture_on_commit_callbacks
):
    reset = int(time.time()) + 900
    fake_x.server.expect_request(POST_PATH).respond_with_json(
        {"title": "Too Many Requests"}, 429, {"x-rate-limit-reset": str(reset)}
    )
    dsn_subscribe(Group, users, messenger="twitter_post", template="twitter_post")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="x")
    (delivery,) = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert "rate limit" in delivery.last_error
    assert delivery.next_attempt_at >= datetime.fromtimestamp(reset, tz=UTC)


def test_direct_messages_go_to_each_linked_account(
    fake_x, users, dsn_subscribe, django_capture_on_commit_callbacks
):
    # The first matching handler answers: the refusal for 303, then any other id.
    fake_x.answer(dm_path("303"), {"detail": "You cannot send messages to this user."}, 403)
    fake_x.accept_dms()
    ada, bob, _cy = users
    ContactPoint.objects.create(user=ada, channel="twitter", address="101", verified=True)
    ContactPoint.objects.create(user=bob, channel="twitter", address="303", verified=True)
    dsn_subscribe(Group, users, messenger="twitter_dm", template="twitter_post")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Your order shipped")
    rows = {d.user.username: d for d in Delivery.objects.select_related("user") if d.user}
    assert rows["ada"].status == DeliveryStatus.SENT
    assert rows["ada"].provider_message_id.isdigit()
    assert rows["bob"].status == DeliveryStatus.FAILED
    assert "cannot send a direct message" in rows["bob"].last_error
    assert rows["cy"].status == DeliveryStatus.SKIPPED  # no linked X account
    assert sorted(r.path for r in fake_x.requests) == [dm_path("101"), dm_path("303")]
    assert ContactPoint.objects.get(address="303").invalid_reason

    # The next event skips bob's refused account instead of asking X again.
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Another")
    later = Delivery.objects.filter(event__isnull=False).order_by("-pk")[:3]
    assert {d.user.username: d.status for d in later if d.user}["bob"] == DeliveryStatus.SKIPPED
    assert len(fake_x.requests) == 3
