"""The outbox admin through Django's test client: events and deliveries listed, filtered,
searched and shown read-only and escaped; "retry now" and "cancel" do what they say."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dsn_core import hookimpl, tasks
from dsn_core.models import Backend, Delivery, DeliveryStatus, Event, Trigger
from tests.testapp.models import TestModel1

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:dsn_core_{name}", args=args)


@pytest.fixture
def trigger() -> Trigger:
    return Trigger.save_by_model("post_save", action_object=TestModel1)


@pytest.fixture
def watch(trigger: Trigger, subscribe: Any, user_factory: Any) -> Any:
    """``watch(*usernames, **options)``: one more backend on the TestModel1 trigger,
    delivering to the test outbox with scripted outcomes; returns the backend."""

    def make(*usernames: str, messenger: str = "dsn_test_outbox", **options: Any) -> Backend:
        users = [_user(user_factory, name) for name in usernames]
        subscription = subscribe(trigger, users=users, messenger=messenger, options=options)
        backend: Backend = subscription.backends.get()
        return backend

    return make


def _user(user_factory: Any, username: str) -> Any:
    from django.contrib.auth import get_user_model

    existing = get_user_model().objects.filter(username=username).first()
    return existing or user_factory(username)


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run on_commit callbacks (the enqueue, then the immediate task) at the block's end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def finished(dsn_plugin: Any) -> list[Any]:
    """Deliveries reported to ``dsn_delivery_finished``, in order."""
    seen: list[Any] = []

    class Observer:
        @hookimpl
        def dsn_delivery_finished(self, delivery: Any) -> None:
            seen.append(delivery)

    dsn_plugin(Observer(), name="observer")
    return seen


def filter_link(client: Any, page: str, title: str, display: str) -> str:
    """The changelist URL a click on a filter's choice opens, as the page renders it."""
    changelist = client.get(page).context["cl"]
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist) if str(spec.title) == title else ():
            if str(choice["display"]) == display:
                return f"{page}{choice['query_string']}"
    raise AssertionError(f"no {display!r} choice under {title!r}")


def act(client: Any, action: str, deliveries: Any) -> str:
    data = {"action": action, "_selected_action": [d.pk for d in deliveries]}
    response = client.post(url("delivery_changelist"), data, follow=True)
    assert response.status_code == 200
    return " | ".join(str(m) for m in response.context["messages"])


# -- pages, filters, search ------------------------------------------------------------


def test_every_outbox_page_opens(admin_client, watch, commit):
    watch("alice", "bob", fail_for=["bob"])
    watch(messenger="dsn_test_broadcast_outbox")
    with commit():
        TestModel1.objects.create(name="x")
    event = Event.objects.get()

    pages = [url("delivery_changelist"), url("event_changelist"), url("event_change", event.pk)]
    pages += [url("delivery_change", pk) for pk in Delivery.objects.values_list("pk", flat=True)]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page
    assert admin_client.get(url("delivery_add")).status_code == 403
    assert admin_client.get(url("event_add")).status_code == 403


def test_delivery_filters_and_search(admin_client, watch, commit):
    outbox = watch("alice", "bob", fail_for=["bob"])
    broadcast = watch(messenger="dsn_test_broadcast_outbox")
    with commit():
        TestModel1.objects.create(name="x")
    alice = Delivery.objects.get(user__username="alice")
    Delivery.objects.filter(pk=alice.pk).update(address="a@example.org", provider_message_id="m-77")
    Delivery.objects.filter(backend=broadcast).update(created=timezone.now() - timedelta(days=40))
    today = timezone.localdate()
    created_today = filter_link(admin_client, url("delivery_changelist"), "created", "Today")
    assert admin_client.get(created_today).context["cl"].result_count == 2

    for query, expected in [
        ({}, 3),
        ({"status__exact": "failed"}, 1),
        ({"status__exact": "sent"}, 2),
        ({"messenger": "dsn_test_broadcast_outbox"}, 1),
        ({"backend__id__exact": outbox.pk}, 2),
        ({"created__year": str(today.year), "created__month": str(today.month)}, 2),
        ({"q": "alice"}, 1),  # the username: the address says something else now
        ({"q": "example.org"}, 1),
        ({"q": "m-77"}, 1),
        ({"q": "scripted permanent"}, 1),
        ({"q": "nobody"}, 0),
    ]:
        response = admin_client.get(url("delivery_changelist"), query)
        assert response.status_code == 200
        assert response.context["cl"].result_count == expected, query


def test_event_filters_and_search(admin_client):
    Event.objects.create(verb="post_save", action_object_repr="Order 7", target="shop")
    Event.objects.create(verb="custom_signal", actor_object_repr="Alice")
    Event.objects.create(verb="custom_signal", created=timezone.now() - timedelta(days=40))
    created_today = filter_link(admin_client, url("event_changelist"), "created", "Today")
    assert admin_client.get(created_today).context["cl"].result_count == 2
    for query, expected in [
        ({"verb": "custom_signal"}, 2),
        ({"q": "Order 7"}, 1),
        ({"q": "alice"}, 1),
        ({"q": "shop"}, 1),
    ]:
        response = admin_client.get(url("event_changelist"), query)
        assert response.context["cl"].result_count == expected, query


def test_event_shows_counts_by_status_and_links_to_its_deliveries(admin_client, watch, commit):
    watch("alice", "bob", "carol", fail_for=["carol"])
    with commit():
        TestModel1.objects.create(name="first")
    with commit():
        TestModel1.objects.create(name="second")
    first = Event.objects.get(action_object_repr="first")
    link = f"{url('delivery_changelist')}?event__id__exact={first.pk}"

    listing = admin_client.get(url("event_changelist")).content.decode()
    assert f'<a href="{link}">3 deliveries</a>: 2 sent, 1 failed' in listing
    detail = admin_client.get(url("event_change", first.pk)).content.decode()
    assert f'<a href="{link}">3 deliveries</a>' in detail

    response = admin_client.get(link)
    assert response.context["cl"].result_count == 3
    assert {d.event_id for d in response.context["cl"].result_list} == {first.pk}
    assert f"#{first.pk} post_save on first" in response.content.decode()  # the active filter
    gone = admin_client.get(url("delivery_changelist"), {"event__id__exact": "999999"})
    assert gone.context["cl"].result_count == 0
    response = admin_client.get(url("delivery_changelist"), {"event__id__exact": "x"})
    assert (response.status_code, response["Location"]) == (
        302,
        f"{url('delivery_changelist')}?e=1",
    )


# -- read-only detail, escaped -----------------------------------------------------------


def test_delivery_detail_is_read_only_with_the_message_and_its_event(admin_client, watch, commit):
    watch("alice")
    with commit():
        TestModel1.objects.create(name="x")
    delivery = Delivery.objects.get()
    page = url("delivery_change", delivery.pk)

    response = admin_client.get(page)
    content = response.content.decode()
    assert response.context["title"] == "View delivery"
    assert 'name="_save"' not in content
    assert "[post_save] x" in content  # the subject
    assert '<pre class="dsn-source">Hello alice: post_save on x.</pre>' in content
    assert f'<a href="{url("event_change", delivery.event_id)}">post_save on x</a>' in content
    assert "None" not in content  # no next attempt for a sent delivery: "-"

    assert admin_client.post(page, {"status": "pending"}).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_html_part_and_context_are_shown_escaped(admin_client):
    event = Event.objects.create(
        verb="custom_signal", context={"note": "<script>alert(2)</script>"}
    )
    delivery = Delivery.objects.create(
        event=event,
        messenger="dsn_test_outbox",
        status=DeliveryStatus.SENT,
        message={"subject": "<b>s</b>", "html": "<script>alert(1)</script>", "sms": "<i>"},
    )

    content = admin_client.get(url("delivery_change", delivery.pk)).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert '<pre class="dsn-source">&lt;script&gt;alert(1)&lt;/script&gt;</pre>' in content
    assert "&lt;b&gt;s&lt;/b&gt;" in content
    assert '<p><strong>sms</strong></p><pre class="dsn-source">&lt;i&gt;</pre>' in content

    content = admin_client.get(url("event_change", event.pk)).content.decode()
    assert "<script>alert(2)</script>" not in content
    assert "{\n  &quot;note&quot;: &quot;&lt;script&gt;alert(2)&lt;/script&gt;&quot;\n}" in content


def test_unrendered_message_says_why(admin_client, watch):
    watch("alice")
    TestModel1.objects.create(name="x")  # not committed: the delivery stays pending
    content = admin_client.get(url("delivery_change", Delivery.objects.get().pk)).content.decode()
    assert "Not rendered yet: a message is rendered at its first attempt." in content
    assert " (due)</div>" in content  # the next attempt


# -- retry now ---------------------------------------------------------------------------


def test_retry_now_makes_deliveries_due_and_enqueues_one_task_per_group(
    request, admin_client, watch, commit, settings
):
    backend = watch("alice", "bob", fail="permanent")
    with commit():
        TestModel1.objects.create(name="a")
    with commit():
        TestModel1.objects.create(name="b")
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    request.getfixturevalue("dummy_tasks")  # from here on, tasks are queued, not run
    before = timezone.now()

    with commit():
        message = act(admin_client, "retry_now", Delivery.objects.all())

    assert message == "4 deliveries are pending again and due now (2 tasks enqueued)."
    for delivery in Delivery.objects.all():
        assert delivery.status == "pending"
        assert before <= delivery.next_attempt_at <= timezone.now()
        assert (delivery.claim, delivery.claimed_at, delivery.finished) == (None, None, None)
        assert delivery.attempts == 1
        assert delivery.last_error == (
            "retry requested by admin; last error: scripted permanent failure"
        )
    results: Any = getattr(tasks.task_backends["default"], "results")  # noqa: B009 (Dummy)
    events = sorted(Event.objects.values_list("pk", flat=True))
    assert sorted(r.args for r in results) == [[pk, backend.pk] for pk in events]


def test_retry_now_sends_again_once_the_cause_is_fixed(admin_client, watch, commit, dsn_outbox):
    watch("alice", fail="permanent")
    with commit():
        TestModel1.objects.create(name="x")
    Backend.objects.update(options={})  # the provider accepts messages again

    with commit():
        act(admin_client, "retry_now", Delivery.objects.all())

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert [m.message.text for m in dsn_outbox] == ["Hello alice: post_save on x."]


def test_retry_now_leaves_sent_and_sending_alone_and_refuses_deleted_backends(
    request, admin_client, watch, commit, settings
):
    watch("alice", "bob")
    doomed = watch("carol", fail="permanent")
    with commit():
        TestModel1.objects.create(name="x")
    bob = Delivery.objects.get(user__username="bob")
    Delivery.objects.filter(pk=bob.pk).update(  # a worker is on it
        status=DeliveryStatus.SENDING, claim=uuid.uuid4(), claimed_at=timezone.now()
    )
    doomed.delete()
    before = {d.pk: (d.status, d.last_error, d.backend_id) for d in Delivery.objects.all()}
    request.getfixturevalue("dummy_tasks")  # from here on, tasks are queued, not run

    with commit():
        message = act(admin_client, "retry_now", Delivery.objects.all())

    assert message == (
        "No delivery was retried. | "
        "2 deliveries were left alone: they are sent or being sent. | "
        "1 delivery cannot be retried: its backend was deleted."
    )
    assert {d.pk: (d.status, d.last_error, d.backend_id) for d in Delivery.objects.all()} == before
    assert getattr(tasks.task_backends["default"], "results") == []  # noqa: B009


def test_retry_now_finds_an_address_for_a_skipped_delivery_or_refuses(
    admin_client, watch, commit, dsn_outbox
):
    backend = watch("alice", messenger="uninstalled_sms")
    with commit():
        TestModel1.objects.create(name="x")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.address) == ("skipped", "")

    message = act(admin_client, "retry_now", [delivery])  # still no messenger, no address
    assert message == (
        "No delivery was retried. | 1 delivery cannot be retried: its recipient has no address "
        "on the messenger's channel, or the messenger is not installed."
    )
    delivery.refresh_from_db()
    assert delivery.status == "skipped"

    backend.messenger = "dsn_test_outbox"  # the console channel: the address is the username
    backend.save()
    with commit():
        message = act(admin_client, "retry_now", [delivery])

    assert message == "1 delivery is pending again and due now (1 task enqueued)."
    delivery.refresh_from_db()
    assert (delivery.status, delivery.address) == ("sent", "alice")
    assert len(dsn_outbox) == 1


# -- cancel ------------------------------------------------------------------------------


def test_cancel_skips_pending_deliveries_only_and_reports_them(
    admin_client, watch, commit, finished
):
    watch("alice", "bob", fail="transient", retry_after=600)  # pending, due in 10 minutes
    watch("alice", "bob", fail_for=["alice"])  # alice failed, bob sent
    with commit():
        TestModel1.objects.create(name="x")
    pending = set(Delivery.objects.filter(status="pending").values_list("pk", flat=True))
    others = {d.pk: (d.status, d.last_error) for d in Delivery.objects.exclude(pk__in=pending)}
    assert len(pending) == 2
    finished.clear()
    before = timezone.now()

    with commit():  # the hook reports the cancellations once they are committed
        message = act(admin_client, "cancel", Delivery.objects.all())

    assert message == (
        "2 pending deliveries cancelled. | "
        "2 deliveries were left alone: only pending deliveries can be cancelled."
    )
    for delivery in Delivery.objects.filter(pk__in=pending):
        assert (delivery.status, delivery.last_error) == ("skipped", "cancelled by admin")
        assert delivery.finished is not None
        assert delivery.finished >= before
        assert delivery.claim is None
    current = {d.pk: (d.status, d.last_error) for d in Delivery.objects.exclude(pk__in=pending)}
    assert current == others
    assert {(d.pk, d.status) for d in finished} == {(pk, "skipped") for pk in pending}


def test_cancel_with_nothing_pending_says_so(admin_client, watch, commit, finished):
    watch("alice")
    with commit():
        TestModel1.objects.create(name="x")
    finished.clear()

    message = act(admin_client, "cancel", Delivery.objects.all())

    assert message == (
        "No delivery was cancelled. | "
        "1 delivery was left alone: only a pending delivery can be cancelled."
    )
    assert Delivery.objects.get().status == "sent"
    assert finished == []


# -- queries, permissions ----------------------------------------------------------------


def _queries(client: Any, page: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    return len(queries)


def test_delivery_changelist_queries_do_not_grow_with_rows(
    admin_client, watch, user_factory, django_assert_max_num_queries
):
    backend = watch("alice")
    TestModel1.objects.create(name="one")  # one pending delivery (never committed)
    page = url("delivery_changelist")
    one = _queries(admin_client, page)

    subscription = backend.subscriptions.get()
    subscription.receiver_users.add(*(user_factory(f"u{n}") for n in range(49)))
    TestModel1.objects.create(name="fifty")
    assert Delivery.objects.count() == 51
    with django_assert_max_num_queries(one):
        admin_client.get(page)


def test_event_changelist_queries_do_not_grow_with_rows(
    admin_client, watch, django_assert_max_num_queries
):
    watch("alice")
    TestModel1.objects.create(name="one")
    page = url("event_changelist")
    one = _queries(admin_client, page)

    for n in range(49):
        TestModel1.objects.create(name=f"n{n}")
    assert Event.objects.count() == 50
    with django_assert_max_num_queries(one):
        content = admin_client.get(page).content.decode()
    assert content.count("1 delivery</a>: 1 pending") == 50


def test_only_a_superuser_deletes_deliveries(admin_client, client, django_user_model):
    event = Event.objects.create(verb="custom_signal")
    delivery = Delivery.objects.create(event=event, messenger="dsn_test_outbox")
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="dsn_core", codename__contains="delivery"
        )
    )
    client.force_login(staff)

    response = client.get(url("delivery_changelist"))
    assert response.status_code == 200
    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert actions == ["", "retry_now", "cancel"]
    assert client.get(url("delivery_delete", delivery.pk)).status_code == 403
    assert client.post(url("delivery_delete", delivery.pk), {"post": "yes"}).status_code == 403
    assert Delivery.objects.filter(pk=delivery.pk).exists()

    response = admin_client.post(url("delivery_delete", delivery.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Delivery.objects.filter(pk=delivery.pk).exists()
