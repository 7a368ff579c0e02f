"""End to end through core's outbox: a saved Group → deliveries → the fake Bot API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from dsn_core.models import ContactPoint, Delivery, DeliveryStatus

from .conftest import telegram_settings
from .fake_telegram import BLOCKED, error, respond


@pytest.fixture
def fire(django_capture_on_commit_callbacks):
    def fire(name: str = "Editors") -> None:
        with django_capture_on_commit_callbacks(execute=True):
            Group.objects.create(name=name)

    return fire


def rows() -> dict[str, Delivery]:
    return {
        (d.user.username if d.user else "(broadcast)"): d
        for d in Delivery.objects.select_related("user")
    }


def test_users_get_their_chats_and_refusals_stick(
    fake_telegram, make_user, dsn_subscribe, fire
) -> None:
    ann = make_user("ann", chat=1001)
    bob = make_user("bob", chat=1002)
    carl = make_user("carl")
    fake_telegram.chats["1002"] = respond(BLOCKED)
    dsn_subscribe(Group, [ann, bob, carl], messenger="telegram", template="telegram_event")

    fire("<Editors & co>")

    by_user = rows()
    assert by_user["ann"].status == DeliveryStatus.SENT
    assert by_user["ann"].provider_message_id == str(fake_telegram._next_id)
    assert by_user["bob"].status == DeliveryStatus.FAILED
    assert "blocked" in by_user["bob"].last_error
    assert by_user["carl"].status == DeliveryStatus.SKIPPED
    assert "no telegram address" in by_user["carl"].last_error
    # Chats are sent concurrently: their order at the API is not fixed.
    [sent] = [call for call in fake_telegram.sent() if call.form["chat_id"] == "1001"]
    assert sorted(c.form["chat_id"] for c in fake_telegram.sent()) == ["1001", "1002"]
    # The template's values are escaped for Telegram's HTML.
    assert sent.form["text"] == "<b>post_save</b>: &lt;Editors &amp; co&gt;"
    assert (
        ContactPoint.objects.get(user=bob).invalid_reason
        == "Forbidden: bot was blocked by the user"
    )

    Delivery.objects.all().delete()
    fire("Second")
    by_user = rows()
    assert by_user["bob"].status == DeliveryStatus.SKIPPED
    assert "bot was blocked by the user" in by_user["bob"].last_error
    assert sorted(c.form["chat_id"] for c in fake_telegram.sent()) == ["1001", "1001", "1002"]


def test_retry_after_is_honoured_by_the_outbox(
    fake_telegram, make_user, dsn_subscribe, fire
) -> None:
    ann = make_user("ann", chat=1001)
    fake_telegram.chats["1001"] = respond(error(429, "Too Many Requests", retry_after=90))
    dsn_subscribe(Group, [ann], messenger="telegram", template="telegram_event")
    before = timezone.now()
    fire()
    [delivery] = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.next_attempt_at >= before + timedelta(seconds=90)
    assert "retry after 90" in delivery.last_error


def test_network_error_is_retried_later(fake_telegram, make_user, dsn_subscribe, fire) -> None:
    ann = make_user("ann", chat=1001)
    fake_telegram.chats["1001"] = respond(error(502, "Bad Gateway"))
    dsn_subscribe(Group, [ann], messenger="telegram", template="event_summary")
    fire()
    [delivery] = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at > timezone.now()


def test_broadcast_posts_once_per_event(
    fake_telegram, make_user, dsn_subscribe, fire, settings
) -> None:
    telegram_settings(settings, CHAT_ID="-1005")
    dsn_subscribe(
        Group, [make_user("ann")], messenger="telegram_broadcast", template="telegram_event"
    )
    fire("News")
    [delivery] = Delivery.objects.all()
    assert delivery.user is None
    assert delivery.status == DeliveryStatus.SENT
    [sent] = fake_telegram.sent()
    assert sent.form["chat_id"] == "-1005"
    assert sent.form["text"] == "<b>post_save</b>: News"
