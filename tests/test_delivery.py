"""End-to-end behaviour of a matched signal: who gets what, and what never breaks."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import transaction
from django.utils.functional import SimpleLazyObject

from dsn_core import registry
from dsn_core.messengers import Add_Messenger
from dsn_core.models import ContactPoint, Delivery, Trigger
from tests.testapp import dsn_plugin
from tests.testapp.models import Movie, TestModel1, TestModel2
from tests.testapp.signals import custom_signal, notify_audiences

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _project_plugin(dsn_plugin: Any) -> None:
    dsn_plugin(dsn_plugin_module(), name="tests.testapp.dsn_plugin")


def dsn_plugin_module() -> Any:
    return dsn_plugin


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run on_commit callbacks as if the test's transaction committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def texts(outbox: list[Any]) -> list[str]:
    return [m.message.text for m in outbox]


def test_seed_demo_pre_save_trigger_prints_for_the_subscriber(
    user_factory, subscribe, dsn_outbox, commit
):
    admin = user_factory("admin")
    trigger = Trigger.save_by_model("pre_save", action_object=TestModel1)
    subscribe(trigger, users=[admin], template="SimplePrintMessageTemplate")

    with commit():
        TestModel1.objects.create(name="new_test_model2", extra_field="extra")

    assert texts(dsn_outbox) == ["pre_save on new_test_model2, for admin"]


def test_custom_signal_matches_actor_and_target(user_factory, subscribe, dsn_outbox, commit):
    alice, bob = user_factory("alice"), user_factory("bob")
    trigger = Trigger.save_by_model(
        "custom_signal", action_object=TestModel1, actor_object=alice, target="warehouse"
    )
    subscribe(trigger, users=[bob])

    with commit():
        custom_signal.send(sender=TestModel1, parameter1="x", actor_object=bob, target="warehouse")
        custom_signal.send(sender=TestModel1, parameter1="x", actor_object=alice, target="store")
        custom_signal.send(
            sender=TestModel2, parameter1="x", actor_object=alice, target="warehouse"
        )
    assert dsn_outbox == []

    with commit():
        custom_signal.send(
            sender=TestModel1, parameter1="x", actor_object=alice, target="warehouse"
        )
    assert texts(dsn_outbox) == ["Hello bob: custom_signal on TestModel1 by alice (warehouse)."]


def test_actor_is_compared_with_the_trigger_actor_not_the_action_object(
    user_factory, subscribe, dsn_outbox, commit
):
    """The original compared the actor's id against the action object's id."""
    first, second = user_factory("first"), user_factory("second")
    obj_same_pk_as_first = TestModel1.objects.create(pk=first.pk, name="obj")
    trigger = Trigger.save_by_model(
        "custom_signal", action_object=obj_same_pk_as_first, actor_object=second
    )
    subscribe(trigger, users=[first])
    assert str(obj_same_pk_as_first.pk) == str(first.pk) != str(second.pk)

    with commit():  # actor id equals the action object's id, but is not the trigger's actor
        custom_signal.send(sender=obj_same_pk_as_first, parameter1="", actor_object=first)
    assert dsn_outbox == []

    with commit():
        custom_signal.send(sender=obj_same_pk_as_first, parameter1="", actor_object=second)
    assert len(dsn_outbox) == 1


def test_request_user_as_actor_matches(user_factory, subscribe, dsn_outbox, commit):
    """request.user is a SimpleLazyObject: it must match like the user it wraps."""
    clerk = user_factory("clerk")
    subscribe(
        Trigger.save_by_model("custom_signal", actor_object=clerk), users=[user_factory("boss")]
    )

    with commit():
        custom_signal.send(sender=None, parameter1="", actor_object=SimpleLazyObject(lambda: clerk))

    assert texts(dsn_outbox) == ["Hello boss: custom_signal by clerk."]


def test_trigger_on_one_instance_ignores_other_instances(
    user_factory, subscribe, dsn_outbox, commit
):
    watched, other = TestModel1.objects.create(name="w"), TestModel1.objects.create(name="o")
    subscribe(Trigger.save_by_model("post_save", action_object=watched), users=[user_factory("u")])

    with commit():
        other.save()
        watched.save()

    assert texts(dsn_outbox) == ["Hello u: post_save on w."]


def test_dynamic_users_from_a_recipient_resolver(user_factory, subscribe, dsn_outbox, commit):
    fan, inactive_fan, bystander = (
        user_factory("fan"),
        user_factory("gone", is_active=False),
        user_factory("bystander"),
    )
    movie = Movie.objects.create(name="Solaris")
    movie.audiences.add(fan, inactive_fan)
    trigger = Trigger.save_by_model("notify_audiences")
    subscribe(trigger, template="movie_released", resolver="movie_audiences")

    with commit():
        notify_audiences.send(sender=Movie, movie=movie)

    assert [(m.recipient.user, m.message.subject) for m in dsn_outbox] == [(fan, "Solaris is out")]
    assert bystander not in [m.recipient.user for m in dsn_outbox]


def test_a_rolled_back_transaction_sends_nothing(user_factory, subscribe, dsn_outbox, commit):
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1), users=[user_factory("u")]
    )

    def doomed() -> None:
        with transaction.atomic():
            TestModel1.objects.create(name="doomed")
            raise RuntimeError("rollback")

    with commit(), pytest.raises(RuntimeError):
        doomed()

    assert dsn_outbox == []


def test_delivery_waits_for_commit(user_factory, subscribe, dsn_outbox, commit):
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1), users=[user_factory("u")]
    )

    with commit() as callbacks:
        TestModel1.objects.create(name="later")
        assert dsn_outbox == []  # not before the commit

    assert len(callbacks) == 1
    assert len(dsn_outbox) == 1


def test_one_message_per_user_and_backend_however_they_are_reached(
    user_factory, group_factory, subscribe, dsn_outbox, commit
):
    both = user_factory("both")
    other = user_factory("other")
    dormant = user_factory("dormant", is_active=False)
    groups = [group_factory("g1", both, dormant), group_factory("g2", both, other)]
    trigger = Trigger.save_by_model("post_save", action_object=TestModel1)
    subscribe(trigger, users=[both], groups=groups)
    subscribe(trigger, users=[both], template="SimplePrintMessageTemplate")

    with commit():
        TestModel1.objects.create(name="x")

    recipients = sorted((m.recipient.user.username, m.message.text[:5]) for m in dsn_outbox)
    assert recipients == [("both", "Hello"), ("both", "post_"), ("other", "Hello")]


@pytest.mark.parametrize("disabled", ["trigger", "subscription", "backend"])
def test_disabled_configuration_sends_nothing(
    disabled, user_factory, subscribe, dsn_outbox, commit
):
    trigger = Trigger.save_by_model("post_save", action_object=TestModel1)
    subscription = subscribe(trigger, users=[user_factory("u")])
    target = {
        "trigger": trigger,
        "subscription": subscription,
        "backend": subscription.backends.get(),
    }[disabled]
    target.enabled = False
    target.save()

    with commit():
        TestModel1.objects.create(name="x")

    assert dsn_outbox == []


def test_broadcast_messenger_sends_once_per_event(user_factory, subscribe, dsn_outbox, commit):
    trigger = Trigger.save_by_model("post_save", action_object=TestModel1)
    subscribe(
        trigger,
        users=[user_factory("a"), user_factory("b")],
        messenger="dsn_test_broadcast_outbox",
    )

    with commit():
        TestModel1.objects.create(name="news")

    assert [(m.recipient.user, m.message.text) for m in dsn_outbox] == [
        (None, "Hello there: post_save on news.")
    ]


def test_seed_style_messenger_still_works(user_factory, subscribe, commit):
    Add_Messenger(dsn_plugin.SeedStyleMessenger)
    try:
        dsn_plugin.seed_sent.clear()
        trigger = Trigger.save_by_model("custom_signal")
        subscribe(
            trigger,
            users=[user_factory("old")],
            messenger="SeedStyleMessenger",
            template="SeedStyleTemplate",
        )

        with commit():
            custom_signal.send(sender=None, parameter1="p1")

        assert dsn_plugin.seed_sent == [("old", "custom_signal|old|p1")]
    finally:
        registry.messengers.remove_sources(lambda source: source != dsn_plugin.__name__)


def test_recipient_without_an_address_is_skipped_not_sent(
    user_factory, subscribe, dsn_outbox, commit, caplog
):
    linked, unverified, invalid, unlinked = (user_factory(n) for n in ("l", "uv", "inv", "un"))
    ContactPoint.objects.create(user=linked, channel="sms", address="+15550001", verified=True)
    ContactPoint.objects.create(user=unverified, channel="sms", address="+15550002")
    ContactPoint.objects.create(
        user=invalid, channel="sms", address="+15550003", verified=True, invalid_reason="21211"
    )
    trigger = Trigger.save_by_model("post_save", action_object=TestModel1)
    subscribe(trigger, users=[linked, unverified, invalid, unlinked], messenger="sms_like")

    with caplog.at_level(logging.INFO, logger="dsn_core.outbox"), commit():
        TestModel1.objects.create(name="x")

    assert [(m.recipient.user, m.recipient.address) for m in dsn_outbox] == [(linked, "+15550001")]
    skipped = Delivery.objects.filter(status="skipped").order_by("user__username")
    assert [(d.user, d.last_error) for d in skipped] == [
        (invalid, "no usable sms address (+15550003: 21211)"),  # the provider's reason
        (unlinked, "no sms address"),
        (unverified, "no sms address"),
    ]
    assert caplog.text.count("no sms address") == 2


def test_post_delete_renders_the_deleted_object(user_factory, subscribe, dsn_outbox, commit):
    obj = TestModel1.objects.create(name="ephemeral")
    subscribe(
        Trigger.save_by_model("post_delete", action_object=TestModel1), users=[user_factory("u")]
    )

    with commit():
        obj.delete()

    assert texts(dsn_outbox) == ["Hello u: post_delete on ephemeral."]


def test_messenger_exception_never_breaks_save(
    user_factory, subscribe, dsn_outbox, commit, caplog, settings
):
    settings.DSN = {**settings.DSN, "STRICT": False}
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[user_factory("u")],
        options={"raise": "provider exploded"},
    )

    with commit():
        obj = TestModel1.objects.create(name="saved anyway")

    assert TestModel1.objects.filter(pk=obj.pk).exists()
    assert dsn_outbox == []
    assert "provider exploded" in caplog.text


def test_a_broken_resolver_still_lets_static_users_and_other_subscriptions_through(
    user_factory, subscribe, dsn_outbox, commit, caplog, settings
):
    settings.DSN = {**settings.DSN, "STRICT": False}
    trigger = Trigger.save_by_model("notify_audiences")
    subscribe(trigger, users=[user_factory("static")], resolver="movie_audiences")
    subscribe(trigger, users=[user_factory("other")])

    with commit():
        notify_audiences.send(sender=Movie, movie=None)  # resolver fails on None.audiences

    assert sorted(m.recipient.user.username for m in dsn_outbox) == ["other", "static"]
    assert "Recipient resolver 'movie_audiences' raised" in caplog.text


def test_strict_mode_raises_delivery_errors(user_factory, subscribe, commit):
    trigger = Trigger.save_by_model("notify_audiences")
    subscribe(trigger, template="movie_released", resolver="movie_audiences")

    with pytest.raises(AttributeError), commit():
        notify_audiences.send(sender=Movie, movie=None)


def test_scripted_failures_are_reported_per_recipient(
    user_factory, subscribe, dsn_outbox, commit, caplog
):
    ok, refused = user_factory("ok"), user_factory("refused")
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[ok, refused],
        options={"fail_for": ["refused"]},
    )

    with caplog.at_level(logging.INFO, logger="dsn_core.sending"), commit():
        TestModel1.objects.create(name="x")

    assert [m.recipient.user for m in dsn_outbox] == [ok]
    assert "failed: scripted permanent failure" in caplog.text


def test_unmatched_save_makes_no_extra_query(
    user_factory, subscribe, django_assert_num_queries, settings
):
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": 3600}
    for _ in range(3):
        subscribe(Trigger.save_by_model("post_save", action_object=TestModel1), users=[])
    obj = TestModel2.objects.create(name="unwatched")
    obj.save()  # warms the trigger index

    with django_assert_num_queries(1):  # the UPDATE itself
        obj.save()
