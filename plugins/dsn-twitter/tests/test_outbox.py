"""Through DSN's outbox: a saved model fires the trigger, deliveries go to the fake X."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from werkzeug import Request, Response

from dsn_core.models import ContactPoint, Delivery, DeliveryStatus

from .conftest import POST_PATH, dm_path
from .test_outcomes import DUPLICATE

pytestmark = pytest.mark.django_db


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


def retry_due() -> None:
    """Run every pending delivery again now, as a later worker would."""
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    call_command("dsn", "requeue", stdout=StringIO())


def test_post_created_by_a_timed_out_attempt_is_sent_on_the_retry(
    fake_x, settings, users, dsn_subscribe, django_capture_on_commit_callbacks
):
    # X creates the post but answers too late; the retry gets 403 duplicate content.
    settings.DSN["TWITTER"]["TIMEOUT"] = 0.2
    answered = threading.Event()
    calls: list[str] = []

    def created_late_then_duplicate(request: Request) -> Response:
        calls.append(request.get_json()["text"])
        if len(calls) == 1:
            time.sleep(0.4)
            answered.set()
            return Response('{"data": {"id": "9"}}', 201, content_type="application/json")
        return Response(json.dumps(DUPLICATE), 403, content_type="application/json")

    fake_x.server.expect_request(POST_PATH).respond_with_handler(created_late_then_duplicate)
    dsn_subscribe(Group, users, messenger="twitter_post", template="twitter_post")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Slow news")
    (delivery,) = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.PENDING
    assert "did not answer" in delivery.last_error
    assert answered.wait(5)
    retry_due()
    delivery.refresh_from_db()
    assert calls == ["Slow news", "Slow news"]
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 2
    assert delivery.provider_message_id == ""
    assert delivery.provider_details == {
        "assumed": "duplicate of an earlier attempt that timed out"
    }


def test_duplicate_content_on_the_first_attempt_fails(
    fake_x, users, dsn_subscribe, django_capture_on_commit_callbacks
):
    fake_x.answer(POST_PATH, DUPLICATE, 403)
    dsn_subscribe(Group, users, messenger="twitter_post", template="twitter_post")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Same again")
    (delivery,) = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("duplicate content")


@pytest.mark.parametrize("messenger", ["twitter_post", "twitter_dm"])
def test_an_empty_message_is_skipped_not_failed(
    fake_x, users, dsn_subscribe, django_capture_on_commit_callbacks, messenger
):
    ContactPoint.objects.create(user=users[0], channel="twitter", address="101", verified=True)
    dsn_subscribe(Group, users[:1], messenger=messenger, template="twitter_post")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name=" \n ")  # the template renders whitespace only
    (delivery,) = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.SKIPPED
    what = "post" if messenger == "twitter_post" else "direct message"
    assert delivery.last_error == f"empty {what}: the message template rendered no text"
    assert fake_x.requests == []
