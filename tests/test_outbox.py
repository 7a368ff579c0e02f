"""The outbox: rows in the sender's transaction, claims, retries, recovery."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any, ClassVar

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dsn_core import hookimpl
from dsn_core.messages import PermanentFailure, Sent
from dsn_core.messengers import BaseMessenger as Messenger
from dsn_core.models import Backend, Delivery, Event, Trigger
from dsn_core.recording import record_outcomes
from dsn_core.requeue import requeue
from dsn_core.sending import claim, send_pending
from dsn_core.signals import post_send
from tests.testapp.models import TestModel1

pytestmark = pytest.mark.django_db


@pytest.fixture
def watched(subscribe: Any, user_factory: Any) -> Any:
    """A post_save trigger on TestModel1 with one subscriber, delivering to the outbox."""

    def make(users: int = 1, **options: Any) -> Any:
        people = [user_factory(f"u{n}") for n in range(users)]
        return subscribe(
            Trigger.save_by_model("post_save", action_object=TestModel1),
            users=people,
            options=options,
        )

    return make


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_rows_are_written_in_the_senders_transaction(watched, dsn_outbox, commit):
    watched(users=2)

    with commit():
        TestModel1.objects.create(name="kept")
        assert Delivery.objects.filter(status="pending").count() == 2  # before commit
        assert dsn_outbox == []

    event = Event.objects.get()
    assert (event.verb, event.action_object_repr) == ("post_save", "kept")
    assert sorted(d.status for d in event.deliveries.all()) == ["sent", "sent"]
    assert len(dsn_outbox) == 2


def test_a_rollback_leaves_no_rows_and_sends_nothing(watched, dsn_outbox, commit):
    watched(users=2)

    def doomed() -> None:
        with transaction.atomic():
            TestModel1.objects.create(name="doomed")
            raise RuntimeError

    with commit(), pytest.raises(RuntimeError):
        doomed()

    assert (Event.objects.count(), Delivery.objects.count(), dsn_outbox) == (0, 0, [])


@pytest.mark.parametrize("recipients", [1, 40])
def test_enqueue_queries_do_not_grow_with_recipients(
    recipients, watched, django_capture_on_commit_callbacks
):
    watched(users=recipients)
    TestModel1.objects.create(name="warm")  # loads the index and content types

    with (
        django_capture_on_commit_callbacks(execute=False),
        CaptureQueriesContext(transaction.get_connection()) as queries,
    ):
        TestModel1.objects.create(name="x")

    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    # INSERT (the save), SAVEPOINT, subscriptions, backends, users, INSERT event,
    # INSERT deliveries (one bulk statement), RELEASE SAVEPOINT.
    assert len(statements) == 8, statements
    assert Event.objects.first().deliveries.count() == recipients  # type: ignore[union-attr]


def test_post_delete_renders_from_the_snapshot_after_the_row_is_gone(
    subscribe, user_factory, dsn_outbox, django_capture_on_commit_callbacks
):
    obj = TestModel1.objects.create(name="ephemeral", extra_field="kept in the snapshot")
    subscribe(
        Trigger.save_by_model("post_delete", action_object=TestModel1), users=[user_factory("u")]
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        obj.delete()
    assert not TestModel1.objects.filter(name="ephemeral").exists()
    snapshot = Event.objects.get().context["signal"]["instance"]
    assert snapshot["values"]["extra_field"] == "kept in the snapshot"

    for callback in callbacks:
        callback()

    assert [m.message.text for m in dsn_outbox] == ["Hello u: post_delete on ephemeral."]


def test_transient_failure_retries_with_backoff_then_gives_up(watched, commit, settings):
    settings.DSN = {**settings.DSN, "MAX_ATTEMPTS": 3, "RETRY_BASE": 10, "RETRY_MAX": 40}
    watched(fail="transient", retry_after=5)

    with commit():
        TestModel1.objects.create(name="x")

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "scripted transient failure"
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 4 < wait <= 10  # jittered backoff in [5, 10], at least the retry-after

    for attempt in (2, 3):
        Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        requeue()  # the immediate backend cannot defer: requeue runs due retries
        delivery.refresh_from_db()
        assert delivery.attempts == attempt

    assert delivery.status == "failed"
    assert delivery.last_error == "gave up after 3 attempts: scripted transient failure"


def test_provider_retry_after_is_honoured(watched, commit, settings):
    settings.DSN = {**settings.DSN, "RETRY_BASE": 1, "RETRY_MAX": 2}
    watched(fail="transient", retry_after=600)

    with commit():
        TestModel1.objects.create(name="x")

    wait = (Delivery.objects.get().next_attempt_at - timezone.now()).total_seconds()
    assert 595 < wait <= 600


def test_a_deferring_task_backend_gets_the_retry_scheduled(dummy_tasks, watched, settings):
    watched(fail="transient", retry_after=300)
    TestModel1.objects.create(name="x")  # on_commit never runs in this test transaction
    delivery = Delivery.objects.get()

    assert delivery.backend_id is not None
    send_pending(delivery.event_id, delivery.backend_id)

    results = dummy_tasks.results
    delivery.refresh_from_db()
    assert [r.args for r in results] == [[delivery.event_id, delivery.backend_id]]
    # Rounded up to the second (RQ's scheduler keeps whole seconds), never early.
    run_after = results[0].task.run_after
    assert run_after.microsecond == 0
    assert delivery.next_attempt_at <= run_after < delivery.next_attempt_at + timedelta(seconds=1)


def test_permanent_failure_stops_at_once(watched, commit):
    watched(fail="permanent")

    with commit():
        TestModel1.objects.create(name="x")

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "failed",
        1,
        "scripted permanent failure",
    )
    assert delivery.finished is not None


def test_a_raising_messenger_is_a_transient_failure_with_its_error(watched, commit, settings):
    settings.DSN = {**settings.DSN, "STRICT": False}
    watched(**{"raise": "connection reset"})

    with commit():
        TestModel1.objects.create(name="x")

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("pending", "RuntimeError: connection reset")


def test_two_claims_never_share_a_delivery(watched):
    watched(users=5)
    TestModel1.objects.create(name="x")
    event_id, backend_id = Delivery.objects.values_list("event_id", "backend_id")[0]

    first = claim(event_id, backend_id, 3)
    second = claim(event_id, backend_id, 10)
    third = claim(event_id, backend_id, 10)

    assert len(first) == 3
    assert len(second) == 2
    assert third == []
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert all(d.attempts == 1 and d.status == "sending" for d in [*first, *second])


def test_a_worker_that_lost_its_claim_cannot_overwrite_the_outcome(
    watched, dsn_outbox, settings, dsn_plugin
):
    finished: list[Any] = []

    class Observer:
        @hookimpl
        def dsn_delivery_finished(self, delivery: Any) -> None:
            finished.append(delivery.provider_message_id)

    dsn_plugin(Observer(), name="observer")
    settings.DSN = {**settings.DSN, "CLAIM_TIMEOUT": 0}
    watched(users=1)
    TestModel1.objects.create(name="x")
    event_id, backend_id = Delivery.objects.values_list("event_id", "backend_id").get()
    stalled = claim(event_id, backend_id, 10)  # a worker that stalls mid-send

    report = requeue()  # the claim timed out: released, and sent again at once
    record_outcomes(stalled, [Sent("stalled-id")])  # too late: the claim is not its own

    delivery = Delivery.objects.get()
    assert report.released == 1
    assert len(dsn_outbox) == 1
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.provider_message_id.startswith("outbox-")
    assert finished == [delivery.provider_message_id]  # reported once, by the claim holder


def test_requeue_fails_a_lost_delivery_with_no_attempt_left(watched, settings):
    settings.DSN = {**settings.DSN, "CLAIM_TIMEOUT": 0, "MAX_ATTEMPTS": 1}
    watched(users=1)
    TestModel1.objects.create(name="x")
    event_id, backend_id = Delivery.objects.values_list("event_id", "backend_id").get()
    claim(event_id, backend_id, 1)  # lost with its only attempt

    report = requeue()

    assert (report.released, report.failed, report.enqueued) == (0, 1, 0)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("gave up after 1 attempts: its worker was lost")


def test_requeue_fails_deliveries_whose_backend_was_deleted(watched):
    watched(users=2)
    TestModel1.objects.create(name="x")
    Backend.objects.all().delete()

    report = requeue()

    assert (report.released, report.failed, report.enqueued) == (0, 2, 0)
    assert set(Delivery.objects.values_list("status", "last_error")) == {
        ("failed", "its backend was deleted")
    }


def test_requeue_sends_what_a_crash_before_enqueue_left_pending(watched, dsn_outbox):
    watched(users=3)
    TestModel1.objects.create(name="x")  # committed rows, but on_commit never ran
    assert Delivery.objects.filter(status="pending").count() == 3

    out = StringIO()
    call_command("dsn", "requeue", stdout=out)
    call_command("dsn", "requeue", stdout=out)  # idempotent: nothing left to do

    assert len(dsn_outbox) == 3
    assert out.getvalue().splitlines() == [
        "released 0 lost deliveries, failed 0, enqueued 1 tasks",
        "released 0 lost deliveries, failed 0, enqueued 0 tasks",
    ]


def test_messenger_missing_when_the_signal_fires_is_skipped_with_the_reason(
    subscribe, user_factory, dsn_plugin, commit
):
    finished: list[Any] = []

    class Observer:
        @hookimpl
        def dsn_delivery_finished(self, delivery: Any) -> None:
            finished.append(delivery)

    dsn_plugin(Observer(), name="observer")
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[user_factory("u")],
        messenger="uninstalled_sms",
    )

    with commit():
        TestModel1.objects.create(name="x")

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == (
        "skipped",
        "messenger 'uninstalled_sms' is not installed",
    )
    assert finished == [delivery]


def test_stats_counts_by_messenger_and_status(watched, commit):
    watched(users=2, fail_for=["u1"])
    with commit():
        TestModel1.objects.create(name="x")

    out = StringIO()
    call_command("dsn", "stats", "--since", "1h", "--json", stdout=out)

    import json

    counts = json.loads(out.getvalue())["messengers"]
    assert counts == {
        "dsn_test_outbox": {"pending": 0, "sending": 0, "sent": 1, "failed": 1, "skipped": 0}
    }
    text = StringIO()
    call_command("dsn", "stats", stdout=text)
    assert "dsn_test_outbox" in text.getvalue()
    assert text.getvalue().splitlines()[-1].split() == ["all", "0", "0", "1", "1", "0", "2"]


def test_a_retry_resends_the_text_rendered_at_the_first_attempt(watched, dsn_outbox, commit):
    subscription = watched(fail="transient")
    with commit():
        TestModel1.objects.create(name="x")
    delivery = Delivery.objects.get()
    assert delivery.message == {"text": "Hello u0: post_save on x.", "subject": "[post_save] x"}
    Delivery.objects.update(message={"text": "as first rendered"}, next_attempt_at=timezone.now())
    Backend.objects.filter(pk=subscription.backends.get().pk).update(options={})

    requeue()

    assert [m.message.text for m in dsn_outbox] == ["as first rendered"]


class CountingMessenger(Messenger):
    """Batches of at most two; remembers each call's size."""

    id = "counting"
    channel = "console"
    max_batch_size = 2
    calls: ClassVar[list[int]] = []

    def send(self, messages: Any) -> list[Any]:
        type(self).calls.append(len(messages))
        return [Sent(f"c-{m.reference}") for m in messages]


class CountingPlugin:
    @hookimpl
    def dsn_register_messengers(self, register: Any) -> None:
        register(CountingMessenger)


def test_a_messenger_gets_batches_no_larger_than_it_accepts(
    subscribe, user_factory, dsn_plugin, commit
):
    dsn_plugin(CountingPlugin(), name="counting")
    CountingMessenger.calls.clear()
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[user_factory(f"u{n}") for n in range(5)],
        messenger="counting",
    )

    with commit():
        TestModel1.objects.create(name="x")

    assert CountingMessenger.calls == [2, 2, 1]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_raising_post_send_receiver_does_not_resend(watched, dsn_outbox, commit, settings):
    settings.DSN = {**settings.DSN, "STRICT": False}
    watched(users=1)

    def broken_metrics(**kwargs: Any) -> None:
        raise RuntimeError("metrics down")

    post_send.connect(broken_metrics)
    try:
        with commit():
            TestModel1.objects.create(name="x")
    finally:
        post_send.disconnect(broken_metrics)
    requeue()

    assert len(dsn_outbox) == 1
    assert Delivery.objects.get().status == "sent"


class OddOutcomes(Messenger):
    """Outcomes a database may refuse: a NUL, a provider id past the column."""

    id = "odd"
    channel = "console"

    def send(self, messages: Any) -> list[Any]:
        return [
            Sent("x" * 300) if m.recipient.user.username == "long" else PermanentFailure("a\x00b")
            for m in messages
        ]


class OddPlugin:
    @hookimpl
    def dsn_register_messengers(self, register: Any) -> None:
        register(OddOutcomes)


def test_outcomes_every_database_can_store(subscribe, user_factory, dsn_plugin, commit):
    dsn_plugin(OddPlugin(), name="odd")
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[user_factory("long"), user_factory("nul")],
        messenger="odd",
    )

    with commit():
        TestModel1.objects.create(name="x")

    rows = dict(Delivery.objects.values_list("user__username", "status"))
    assert rows == {"long": "sent", "nul": "failed"}  # not stuck "sending"
    assert Delivery.objects.get(user__username="nul").last_error == "a\\x00b"


def test_a_long_task_hands_the_rest_to_a_new_one(
    dummy_tasks, subscribe, user_factory, dsn_outbox, settings
):
    settings.DSN = {**settings.DSN, "TASK_TIME_LIMIT": 0, "BATCH_SIZE": 2}
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[user_factory(f"u{n}") for n in range(5)],
    )
    TestModel1.objects.create(name="x")
    event_id, backend_id = Delivery.objects.values_list("event_id", "backend_id")[0]
    assert backend_id is not None

    sent = send_pending(event_id, backend_id)

    assert sent == 2  # one batch, then the time was up
    assert [r.args for r in dummy_tasks.results] == [[event_id, backend_id]]
    assert Delivery.objects.filter(status="pending").count() == 3
