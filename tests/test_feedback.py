"""Provider reports after a send (dsn_core.feedback): receipts, bounces, opt-outs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from dsn_core import hookimpl
from dsn_core.checks import backends_using
from dsn_core.feedback import (
    apply_report,
    deliveries,
    mark_address_invalid,
    mark_address_valid,
)
from dsn_core.messages import Outcome, OutgoingMessage, Sent
from dsn_core.models import Backend, ContactPoint, Delivery, Trigger
from dsn_core.testing import OutboxMessenger, outbox
from tests.testapp.models import TestModel1

pytestmark = pytest.mark.django_db


class EmailOutbox(OutboxMessenger):
    """The test outbox on the email channel: addresses come from ``user.email``."""

    id = "email_outbox"
    channel = "email"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        outbox.extend(messages)
        return [Sent(provider_id=f"msg-{m.reference}") for m in messages]


class EmailPlugin:
    @hookimpl
    def dsn_register_messengers(self, register: Any) -> None:
        register(EmailOutbox)


class Finished:
    def __init__(self) -> None:
        self.rows: list[tuple[int, str]] = []

    @hookimpl
    def dsn_delivery_finished(self, delivery: Any) -> None:
        self.rows.append((delivery.pk, delivery.status))


@pytest.fixture
def emailed(dsn_plugin, subscribe, user_factory, django_capture_on_commit_callbacks):
    """Save a TestModel1 notifying ann and bob by email; returns a function that does it."""
    dsn_plugin(EmailPlugin(), name="email_test")
    # create_user() lower-cases the domain: stored as Ann@example.com.
    ann, bob = user_factory("ann", email="Ann@Example.com"), user_factory("bob")
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[ann, bob],
        messenger="email_outbox",
    )

    def fire() -> dict[str, Delivery]:
        with django_capture_on_commit_callbacks(execute=True):
            obj = TestModel1.objects.create(name="x")
        rows = Delivery.objects.filter(event__action_object_id=str(obj.pk))
        return {row.user.username: row for row in rows if row.user}

    return fire


def test_bounced_email_is_skipped_with_its_reason_until_marked_valid(emailed, dsn_outbox):
    first = emailed()
    assert {name: row.status for name, row in first.items()} == {"ann": "sent", "bob": "sent"}

    assert mark_address_invalid("email", "ann@example.COM", "bounce: 550 no such user") == 1
    second = emailed()
    assert second["ann"].status == "skipped"
    assert second["ann"].last_error == (
        "email address Ann@example.com is invalid: bounce: 550 no such user"
    )
    assert second["bob"].status == "sent"

    assert mark_address_valid("email", "ANN@example.com") == 1
    assert emailed()["ann"].status == "sent"


def test_marking_an_address_invalid_twice_keeps_one_contact_point(user_factory):
    user_factory("ann")
    mark_address_invalid("email", "ann@example.com", "bounce")
    mark_address_invalid("email", "ann@example.com", "spam report")
    points = ContactPoint.objects.filter(channel="email")
    assert [(p.address, p.invalid_reason) for p in points] == [("ann@example.com", "spam report")]


def test_invalid_contact_point_of_a_chat_channel(user_factory):
    ann = user_factory("ann")
    ContactPoint.objects.create(user=ann, channel="chat", address="42", verified=True)
    assert mark_address_invalid("chat", "42", "blocked the bot") == 1
    assert mark_address_invalid("chat", "43", "unknown") == 0  # no user holds it: no row
    assert ContactPoint.objects.get(address="42").invalid_reason == "blocked the bot"


def test_reports_apply_to_the_named_messengers_deliveries_only(emailed, dsn_plugin):
    finished = Finished()
    dsn_plugin(finished, name="finished")
    rows = emailed()
    ann, bob = rows["ann"], rows["bob"]
    other = Delivery.objects.create(event=ann.event, messenger="other", provider_message_id="x")

    assert deliveries(["email_outbox"], pks=["nope", "", "-1"]).count() == 0
    assert not deliveries(["email_outbox"]).exists()
    assert set(deliveries(["email_outbox"], pks=[ann.pk, str(other.pk)])) == {ann}
    assert set(deliveries(["email_outbox"], provider_ids=[bob.provider_message_id, "x"])) == {bob}

    finished.rows.clear()
    assert apply_report(deliveries(["email_outbox"], pks=[ann.pk]), "delivered") == 1
    # Out of order: a late "processed" never overwrites "delivered".
    assert apply_report(deliveries(["email_outbox"], pks=[ann.pk]), "processed") == 0
    ann.refresh_from_db()
    assert (ann.status, ann.provider_status) == ("sent", "delivered")
    assert ann.provider_updated is not None
    assert finished.rows == []


def test_a_bounce_fails_a_sent_delivery_and_reports_it_after_commit(
    emailed, dsn_plugin, django_capture_on_commit_callbacks
):
    finished = Finished()
    dsn_plugin(finished, name="finished")
    bob = emailed()["bob"]
    finished.rows.clear()
    with django_capture_on_commit_callbacks(execute=True):
        changed = apply_report(
            deliveries(["email_outbox"], pks=[bob.pk]), "bounced", failed=True, detail="550"
        )
        assert finished.rows == []  # not before the transaction commits
    assert changed == 1
    bob.refresh_from_db()
    assert (bob.status, bob.provider_status, bob.last_error) == ("failed", "bounced", "550")
    assert finished.rows == [(bob.pk, "failed")]


def test_a_failure_report_for_a_row_still_sending_records_only_the_status(emailed):
    bob = emailed()["bob"]
    Delivery.objects.filter(pk=bob.pk).update(status="sending")
    apply_report(deliveries(["email_outbox"], pks=[bob.pk]), "dropped", failed=True, detail="d")
    bob.refresh_from_db()
    assert (bob.status, bob.provider_status, bob.last_error) == ("sending", "dropped", "")


def test_backends_using_lists_enabled_backends_of_a_messenger():
    Backend.objects.create(name="on", messenger="sms", message_template="t")
    Backend.objects.create(name="off", messenger="sms", message_template="t", enabled=False)
    Backend.objects.create(name="other", messenger="email", message_template="t")
    assert backends_using("sms") == ["on"]
    assert backends_using("nothing") == []


class BouncedWhileSending(OutboxMessenger):
    """The provider's webhook reports bob's message dropped before send() returns."""

    id = "bounced_while_sending"
    channel = "email"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        for message in messages:
            if message.recipient.address == "bob@example.com":
                rows = deliveries([self.id], pks=[message.reference])
                apply_report(rows, "dropped", failed=True, detail="suppressed")
        return [Sent(provider_id=f"msg-{m.reference}") for m in messages]


class BouncingPlugin:
    @hookimpl
    def dsn_register_messengers(self, register: Any) -> None:
        register(BouncedWhileSending)


def test_a_failure_reported_while_the_batch_is_sent_wins_over_sent(
    dsn_plugin, subscribe, user_factory, django_capture_on_commit_callbacks
):
    dsn_plugin(BouncingPlugin(), name="bouncing")
    finished = Finished()
    dsn_plugin(finished, name="finished")
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[user_factory("ann"), user_factory("bob")],
        messenger="bounced_while_sending",
    )
    with django_capture_on_commit_callbacks(execute=True):
        TestModel1.objects.create(name="x")
    rows = {d.user.username: d for d in Delivery.objects.all() if d.user}
    assert (rows["ann"].status, rows["ann"].provider_status) == ("sent", "")
    bob = rows["bob"]
    assert (bob.status, bob.provider_status) == ("failed", "dropped")
    assert bob.last_error == "the provider reported the message dropped while it was being sent"
    assert sorted(finished.rows) == sorted([(rows["ann"].pk, "sent"), (bob.pk, "failed")])


def test_reports_never_replace_a_more_final_one(emailed):
    bob = emailed()["bob"]

    def report(status: str, failed: bool = False) -> str:
        apply_report(deliveries(["email_outbox"], pks=[bob.pk]), status, failed=failed)
        bob.refresh_from_db()
        return f"{bob.status}/{bob.provider_status}"

    assert report("processed") == "sent/processed"
    assert report("delivered") == "sent/delivered"
    assert report("sent") == "sent/delivered"  # late progress
    assert report("spamreport") == "sent/spamreport"
    assert report("bounced", failed=True) == "failed/bounced"
    assert report("delivered") == "failed/bounced"  # out of order: the bounce stands
    assert report("spamreport") == "failed/bounced"


def test_a_failure_report_needs_a_failure_status(emailed):
    bob = emailed()["bob"]
    with pytest.raises(ValueError, match="needs one of"):
        apply_report(deliveries(["email_outbox"], pks=[bob.pk]), "oops", failed=True)


@pytest.mark.parametrize("pk", ["\u00b2", "1" * 19, "12a", " 1", "-1", ""])
def test_only_plain_bigint_pks_are_looked_up(pk):
    assert not deliveries(["email_outbox"], pks=[pk]).exists()
