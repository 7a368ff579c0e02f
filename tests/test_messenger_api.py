"""What a messenger gets and may answer beyond sent/failed: the attempt number, Skipped;
and the single-use keys plugins build links on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from dsn_core import hookimpl
from dsn_core.messages import Outcome, OutgoingMessage, Skipped, TransientFailure
from dsn_core.models import Delivery, Trigger, UsedKey
from dsn_core.testing import OutboxMessenger
from tests.testapp.models import TestModel1

pytestmark = pytest.mark.django_db

seen_attempts: list[int] = []


class FlakyThenSkipping(OutboxMessenger):
    """Fails the first try, then skips: records the attempt numbers it was given."""

    id = "flaky_then_skipping"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        seen_attempts.extend(m.attempt for m in messages)
        if messages[0].attempt == 1:
            return [TransientFailure("try again", retry_after=0)] * len(messages)
        return [Skipped("nothing worth sending")] * len(messages)


class Plugin:
    @hookimpl
    def dsn_register_messengers(self, register: Any) -> None:
        register(FlakyThenSkipping)


def test_messages_carry_their_attempt_and_skipped_is_recorded(
    dsn_plugin: Any, subscribe: Any, user_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from dsn_core.sending import send_pending

    seen_attempts.clear()
    dsn_plugin(Plugin(), name="flaky")
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[user_factory("ann")],
        messenger="flaky_then_skipping",
    )
    with django_capture_on_commit_callbacks(execute=True):
        TestModel1.objects.create(name="x")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert delivery.backend_id is not None
    send_pending(delivery.event_id, delivery.backend_id)
    delivery.refresh_from_db()
    assert seen_attempts == [1, 2]
    assert (delivery.status, delivery.last_error) == ("skipped", "nothing worth sending")
    assert delivery.finished is not None


def test_a_key_is_used_once_until_it_is_forgotten() -> None:
    assert UsedKey.use_once("link:abc", lifetime=60)
    assert not UsedKey.use_once("link:abc", lifetime=60)
    assert UsedKey.use_once("link:other", lifetime=60)
    UsedKey.objects.filter(key="link:abc").update(expires=timezone.now() - timedelta(seconds=1))
    assert UsedKey.use_once("link:abc", lifetime=60)  # pruned after its lifetime
    assert UsedKey.objects.count() == 2
