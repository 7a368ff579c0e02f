"""The SendGrid messenger: the real `sendgrid` SDK against a fake v3 API on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from dsn_core.messages import (
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    RenderedMessage,
    Sent,
    TransientFailure,
)
from dsn_core.models import Delivery
from dsn_core.testing.contract import MessengerContract
from dsn_email.sendgrid_messenger import SendGridMessenger
from tests.conftest import FakeSendGrid, email_settings

PARTS = {"subject": "Order shipped", "text": "Your order shipped.", "html": "<p>Shipped</p>"}


def outgoing(n: int, parts: dict[str, str] = PARTS, user: Any = None) -> OutgoingMessage:
    return OutgoingMessage(
        Recipient(user, f"user{n}@example.com"), RenderedMessage(parts), reference=str(1000 + n)
    )


class TestSendGridContract(MessengerContract):
    @pytest.fixture
    def messenger(self, fake_sendgrid: FakeSendGrid) -> SendGridMessenger:
        return SendGridMessenger({})

    @pytest.fixture
    def received_texts(self, fake_sendgrid: FakeSendGrid) -> Any:
        return lambda: [c["value"] for b in fake_sendgrid.bodies for c in b["content"]]

    @pytest.fixture
    def unreachable_messenger(self, settings: Any, closed_port: int) -> SendGridMessenger:
        email_settings(settings, SENDGRID_HOST=f"http://127.0.0.1:{closed_port}")
        return SendGridMessenger({})


def test_one_message_is_one_call_with_the_exact_v3_body(fake_sendgrid: FakeSendGrid) -> None:
    outcomes = SendGridMessenger({"reply_to": "Help <help@example.com>"}).send([outgoing(1)])
    assert outcomes == [Sent(provider_id="msg-1")]
    (request,) = fake_sendgrid.requests
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    assert request.headers["Content-Type"] == "application/json"
    assert fake_sendgrid.bodies == [
        {
            "from": {"email": "shop@example.com", "name": "DSN Shop"},
            "reply_to": {"email": "help@example.com", "name": "Help"},
            "personalizations": [
                {"to": [{"email": "user1@example.com"}], "custom_args": {"dsn_delivery": "1001"}}
            ],
            "subject": "Order shipped",
            "content": [
                {"type": "text/plain", "value": "Your order shipped."},
                {"type": "text/html", "value": "<p>Shipped</p>"},
            ],
            "categories": ["dsn"],
        }
    ]


def test_2500_identical_messages_take_three_calls_one_recipient_each(
    fake_sendgrid: FakeSendGrid,
) -> None:
    outcomes = SendGridMessenger({}).send([outgoing(n) for n in range(2500)])
    bodies = fake_sendgrid.bodies
    assert [len(b["personalizations"]) for b in bodies] == [1000, 1000, 500]
    assert all(len(p["to"]) == 1 for b in bodies for p in b["personalizations"])
    sent_to = [p["to"][0]["email"] for b in bodies for p in b["personalizations"]]
    assert sent_to == [f"user{n}@example.com" for n in range(2500)]
    delivery_ids = [p["custom_args"]["dsn_delivery"] for b in bodies for p in b["personalizations"]]
    assert delivery_ids == [str(1000 + n) for n in range(2500)]
    assert [o.provider_id for o in outcomes if isinstance(o, Sent)] == (
        ["msg-1"] * 1000 + ["msg-2"] * 1000 + ["msg-3"] * 500
    )


def test_per_user_content_is_one_call_per_distinct_message(fake_sendgrid: FakeSendGrid) -> None:
    messages = [
        outgoing(0, {**PARTS, "text": "Hi ann"}),
        outgoing(1, {**PARTS, "text": "Hi bob"}),
        outgoing(2, {**PARTS, "text": "Hi ann"}),
    ]
    outcomes = SendGridMessenger({}).send(messages)
    bodies = fake_sendgrid.bodies
    assert [b["content"][0]["value"] for b in bodies] == ["Hi ann", "Hi bob"]
    assert [[p["to"][0]["email"] for p in b["personalizations"]] for b in bodies] == [
        ["user0@example.com", "user2@example.com"],
        ["user1@example.com"],
    ]
    assert outcomes == [Sent("msg-1"), Sent("msg-2"), Sent("msg-1")]


def test_dynamic_template_sends_per_user_parts_in_one_call(fake_sendgrid: FakeSendGrid) -> None:
    messages = [
        outgoing(0, {"subject": "For ann", "html": "<b>ann</b>"}),
        outgoing(1, {"subject": "For bob", "text": "bob", "html": "<b>bob</b>"}),
    ]
    options = {"template_id": "d-123", "categories": ["orders"], "sandbox_mode": True}
    SendGridMessenger(options).send(messages)
    (body,) = fake_sendgrid.bodies
    assert body["template_id"] == "d-123"
    assert "content" not in body
    assert "subject" not in body
    assert body["categories"] == ["dsn", "orders"]
    assert body["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert [p["dynamic_template_data"] for p in body["personalizations"]] == [
        {"subject": "For ann", "html": "<b>ann</b>", "text": "ann"},  # text derived
        {"subject": "For bob", "text": "bob", "html": "<b>bob</b>"},
    ]


def test_recipient_name_unsubscribe_header_and_html_only_message(
    fake_sendgrid: FakeSendGrid, user_factory: Any
) -> None:
    ann = user_factory("ann", first_name="Ann", last_name="Lee")
    parts = {"html": "<p>Hello <a href='https://x.test/o/1'>order</a></p>"}
    message = OutgoingMessage(
        Recipient(ann, "ann@example.com"),
        RenderedMessage({**parts, "unsubscribe_url": "https://x.test/unsub/ann"}),
        reference="7",
    )
    SendGridMessenger({"from_email": "orders@example.com"}).send([message])
    (body,) = fake_sendgrid.bodies
    assert body["from"] == {"email": "orders@example.com"}
    (personalization,) = body["personalizations"]
    assert personalization["to"] == [{"email": "ann@example.com", "name": "Ann Lee"}]
    assert personalization["headers"] == {"List-Unsubscribe": "<https://x.test/unsub/ann>"}
    assert body["subject"] == "Hello order (https://x.test/o/1)"  # first line stands in
    assert body["content"][0] == {"type": "text/plain", "value": "Hello order (https://x.test/o/1)"}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(fake_sendgrid: FakeSendGrid, status: int) -> None:
    fake_sendgrid.answer(status, {"errors": [{"message": "try later"}]})
    (outcome,) = SendGridMessenger({}).send([outgoing(1)])
    assert isinstance(outcome, TransientFailure)
    assert f"({status})" in outcome.reason


def test_429_is_transient_until_the_rate_limit_resets(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.answer(
        429,
        {"errors": [{"message": "too many"}]},
        **{"X-RateLimit-Reset": str(int(time.time()) + 90)},
    )
    (outcome,) = SendGridMessenger({}).send([outgoing(1)])
    assert isinstance(outcome, TransientFailure)
    assert outcome.retry_after is not None
    assert 85 <= outcome.retry_after <= 91


def test_400_naming_one_personalization_fails_it_and_resends_the_rest(
    fake_sendgrid: FakeSendGrid,
) -> None:
    fake_sendgrid.answer(
        400,
        {
            "errors": [
                {
                    "message": "Does not contain a valid address.",
                    "field": "personalizations.1.to.0.email",
                }
            ]
        },
    )
    outcomes = SendGridMessenger({}).send([outgoing(0), outgoing(1), outgoing(2)])
    assert isinstance(outcomes[1], PermanentFailure)
    assert "personalizations.1.to.0.email: Does not contain a valid address." in outcomes[1].reason
    assert outcomes[0] == outcomes[2] == Sent("msg-1")
    second = fake_sendgrid.bodies[1]["personalizations"]
    assert [p["to"][0]["email"] for p in second] == ["user0@example.com", "user2@example.com"]


def test_400_about_the_whole_request_fails_every_message(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.answer(
        400, {"errors": [{"message": "The from address is invalid.", "field": "from"}]}
    )
    outcomes = SendGridMessenger({}).send([outgoing(0), outgoing(1)])
    assert all(isinstance(o, PermanentFailure) for o in outcomes)
    assert "from: The from address is invalid." in outcomes[0].reason  # type: ignore[union-attr]
    assert len(fake_sendgrid.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_api_key_is_permanent_and_names_the_setting(
    fake_sendgrid: FakeSendGrid, status: int
) -> None:
    fake_sendgrid.answer(
        status, {"errors": [{"message": "The provided authorization grant is invalid"}]}
    )
    (outcome,) = SendGridMessenger({}).send([outgoing(1)])
    assert isinstance(outcome, PermanentFailure)
    assert f"SendGrid refused the API key ({status}" in outcome.reason
    assert "DSN['EMAIL']['SENDGRID_API_KEY']" in outcome.reason
    assert "SG.test-key" not in outcome.reason


def test_413_for_a_single_message_and_404_are_permanent(fake_sendgrid: FakeSendGrid) -> None:
    # A 413 for several personalizations is split first: test_sendgrid_batches.py.
    fake_sendgrid.answer(413, {"errors": [{"message": "too large"}]})
    fake_sendgrid.answer(404)
    first, second = (SendGridMessenger({}).send([outgoing(n)])[0] for n in range(2))
    assert isinstance(first, PermanentFailure)
    assert "(413)" in first.reason
    assert isinstance(second, PermanentFailure)
    assert "SENDGRID_HOST" in second.reason


def test_a_provider_that_never_answers_times_out_as_transient(
    httpserver: Any, settings: Any
) -> None:
    def stall(request: Any) -> Any:
        time.sleep(2)
        from werkzeug import Response

        return Response(status=202)

    httpserver.expect_request("/v3/mail/send").respond_with_handler(stall)
    email_settings(
        settings, SENDGRID_HOST=httpserver.url_for("/").rstrip("/"), SENDGRID_TIMEOUT=0.3
    )
    started = time.monotonic()
    (outcome,) = SendGridMessenger({}).send([outgoing(1)])
    assert time.monotonic() - started < 1.5
    assert isinstance(outcome, TransientFailure)
    assert "SendGrid unreachable" in outcome.reason


@pytest.fixture
def shipped(dsn_subscribe: Any, user_factory: Any) -> Any:
    users = [user_factory("ann"), user_factory("bob")]
    return dsn_subscribe(Group, users, messenger="sendgrid", template="email_plain")


def test_event_through_the_outbox_is_one_call_and_recorded(
    fake_sendgrid: FakeSendGrid, shipped: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Spring <sale>")
    # The template greets each user by name: per-user content, one call per message.
    ann, bob = sorted(fake_sendgrid.bodies, key=lambda b: b["content"][0]["value"])
    assert ann["subject"] == bob["subject"] == "Spring <sale>: post_save"
    assert "Spring &lt;sale&gt;" in ann["content"][1]["value"]  # HTML escaped
    assert ann["content"][0]["value"].startswith("Hello ann,\n\npost_save on Spring <sale>.")
    rows = Delivery.objects.order_by("user__username")
    assert [(d.address, d.status) for d in rows] == [
        ("ann@example.com", "sent"),
        ("bob@example.com", "sent"),
    ]
    assert {d.provider_message_id for d in rows} == {"msg-1", "msg-2"}
    pks = [p["custom_args"]["dsn_delivery"] for b in (ann, bob) for p in b["personalizations"]]
    assert pks == [str(d.pk) for d in rows]


def test_rate_limit_reset_is_honoured_by_the_outbox(
    fake_sendgrid: FakeSendGrid, shipped: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fake_sendgrid.answer(
        429,
        {"errors": [{"message": "slow down"}]},
        **{"X-RateLimit-Reset": str(int(time.time()) + 600)},
    )
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Sale")
    rows = list(Delivery.objects.all())
    assert {(d.status, d.attempts) for d in rows} == {("pending", 1)}
    earliest = timezone.now() + timedelta(seconds=590)
    assert all(d.next_attempt_at >= earliest for d in rows)
    assert all("SendGrid rate limit (429): slow down" in d.last_error for d in rows)


def test_missing_api_key_fails_transiently_naming_the_setting(
    fake_sendgrid: FakeSendGrid,
    shipped: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    email_settings(settings, SENDGRID_API_KEY=None)
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Sale")
    assert fake_sendgrid.requests == []
    rows = list(Delivery.objects.all())
    assert {d.status for d in rows} == {"pending"}
    assert all("DSN['EMAIL']['SENDGRID_API_KEY'] is not set" in d.last_error for d in rows)
