"""SendGrid's signed event webhook: verified first, then applied to the outbox."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from dsn_core.models import Backend, ContactPoint, Delivery, Event
from dsn_email.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.conftest import email_settings

URL = "/dsn/email/sendgrid/events/"


class Signer:
    """Signs like SendGrid: ECDSA P-256 / SHA-256 over timestamp + body, base64 DER."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_key(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {SIGNATURE_HEADER: base64.b64encode(signature).decode(), TIMESTAMP_HEADER: stamp}


@pytest.fixture
def signer(settings: Any) -> Signer:
    signer = Signer()
    email_settings(settings, SENDGRID_WEBHOOK_PUBLIC_KEY=signer.public_key)
    return signer


@pytest.fixture
def sent(user_factory: Any) -> dict[str, Delivery]:
    """Two SendGrid deliveries already sent, and one of another messenger."""
    event = Event.objects.create(verb="post_save")
    backend = Backend.objects.create(
        name="sg", messenger="sendgrid", message_template="email_plain"
    )
    rows = {}
    for name in ("ann", "bob", "cid"):
        user = user_factory(name)
        rows[name] = Delivery.objects.create(
            event=event,
            backend=backend,
            messenger="sendgrid" if name != "cid" else "django_email",
            user=user,
            address=user.email,
            status="sent",
            provider_message_id="msg-1",
        )
    return rows


def post(client: Client, events: Any, headers: dict[str, str], body: bytes | None = None) -> Any:
    payload = json.dumps(events).encode() if body is None else body
    return client.post(URL, payload, content_type="application/json", headers=headers)


def event(kind: str, delivery: Delivery, **extra: Any) -> dict[str, Any]:
    return {
        "email": delivery.address,
        "event": kind,
        "timestamp": int(time.time()),
        "sg_message_id": "msg-1.filter0001",
        "dsn_delivery": str(delivery.pk),
        **extra,
    }


def snapshot() -> list[Any]:
    return [
        *Delivery.objects.order_by("pk").values_list("status", "provider_status", "last_error"),
        *ContactPoint.objects.values_list("address", "invalid_reason"),
    ]


def test_valid_events_are_applied(
    client: Client, signer: Signer, sent: dict[str, Delivery]
) -> None:
    events = [
        event("processed", sent["ann"]),
        event("delivered", sent["ann"], response="250 OK"),
        event("bounce", sent["bob"], type="bounce", reason="550 5.1.1 mailbox does not exist"),
        event("delivered", sent["cid"]),  # another messenger's row: never touched
        event("open", sent["ann"]),
        {"event": "delivered", "email": "x@example.com"},  # not one of ours
    ]
    body = json.dumps(events).encode()
    response = post(client, events, signer.headers(body), body)
    assert response.status_code == 200
    assert response.json() == {"applied": 2, "ignored": 4}
    for row in sent.values():
        row.refresh_from_db()
    assert (sent["ann"].status, sent["ann"].provider_status) == ("sent", "delivered")
    assert (sent["bob"].status, sent["bob"].provider_status) == ("failed", "bounced")
    assert sent["bob"].last_error == "SendGrid bounce: 550 5.1.1 mailbox does not exist"
    assert (sent["cid"].status, sent["cid"].provider_status) == ("sent", "")
    point = ContactPoint.objects.get()
    assert (point.user, point.channel, point.address) == (
        sent["bob"].user,
        "email",
        "bob@example.com",
    )
    assert point.invalid_reason == "bounced: 550 5.1.1 mailbox does not exist"


def test_dropped_fails_spamreport_records_and_blocked_bounce_keeps_the_address(
    client: Client, signer: Signer, sent: dict[str, Delivery]
) -> None:
    events = [
        event("dropped", sent["ann"], reason="Bounced Address"),
        event("bounce", sent["bob"], type="blocked", reason="421 try later"),
    ]
    body = json.dumps(events).encode()
    assert post(client, events, signer.headers(body), body).status_code == 200
    events = [event("spamreport", sent["bob"]), event("spamreport", sent["ann"])]
    body = json.dumps(events).encode()
    assert post(client, events, signer.headers(body), body).status_code == 200
    ann, bob = (Delivery.objects.get(pk=sent[n].pk) for n in ("ann", "bob"))
    assert (ann.status, ann.provider_status, ann.last_error) == (
        "failed",
        "dropped",
        "SendGrid dropped: Bounced Address",
    )
    # Core ranks a failure above a spam report: the later report does not replace it.
    assert (bob.status, bob.provider_status) == ("failed", "bounced")
    assert bob.last_error == "SendGrid bounce: 421 try later"
    assert not ContactPoint.objects.exists()  # a blocked bounce is temporary


def test_spamreport_is_recorded_on_a_sent_delivery(
    client: Client, signer: Signer, sent: dict[str, Delivery]
) -> None:
    events = [event("delivered", sent["ann"]), event("spamreport", sent["ann"])]
    body = json.dumps(events).encode()
    assert post(client, events, signer.headers(body), body).status_code == 200
    ann = Delivery.objects.get(pk=sent["ann"].pk)
    assert (ann.status, ann.provider_status) == ("sent", "spamreport")


@pytest.mark.parametrize(
    "tamper",
    [
        "body",
        "wrong key",
        "stale",
        "future",
        "no signature",
        "no timestamp",
        "garbage",
        "unset key",
    ],
)
def test_bad_requests_get_403_and_change_nothing(
    client: Client, signer: Signer, sent: dict[str, Delivery], settings: Any, tamper: str
) -> None:
    events = [event("bounce", sent["bob"], type="bounce", reason="550")]
    body = json.dumps(events).encode()
    headers = signer.headers(body)
    if tamper == "body":
        body = body.replace(b"550", b"551")
    elif tamper == "wrong key":
        headers = Signer().headers(body)
    elif tamper in ("stale", "future"):
        headers = signer.headers(body, int(time.time()) + (-3600 if tamper == "stale" else 3600))
    elif tamper == "no signature":
        del headers[SIGNATURE_HEADER]
    elif tamper == "no timestamp":
        del headers[TIMESTAMP_HEADER]
    elif tamper == "garbage":
        headers[SIGNATURE_HEADER] = "not base64!"
    elif tamper == "unset key":
        email_settings(settings, SENDGRID_WEBHOOK_PUBLIC_KEY=None)
    before = snapshot()
    response = post(client, events, headers, body)
    assert response.status_code == 403
    assert snapshot() == before


def test_signed_body_that_is_not_a_list_of_events_is_400(
    client: Client, signer: Signer, sent: dict[str, Delivery]
) -> None:
    for body in (b"not json", b'{"event": "delivered"}', b"[1, 2]"):
        assert post(client, None, signer.headers(body), body).status_code == 400


def test_only_post(client: Client, signer: Signer, db: None) -> None:
    assert client.get(URL).status_code == 405


def test_a_bounced_address_is_skipped_by_later_events(
    client: Client,
    signer: Signer,
    sent: dict[str, Delivery],
    dsn_subscribe: Any,
    fake_sendgrid: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.contrib.auth.models import Group

    events = [event("bounce", sent["bob"], type="bounce", reason="550 no such user")]
    body = json.dumps(events).encode()
    assert post(client, events, signer.headers(body), body).status_code == 200
    dsn_subscribe(Group, [sent["ann"].user, sent["bob"].user], messenger="sendgrid")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="News")
    newest = Delivery.objects.filter(user=sent["bob"].user).order_by("-pk").first()
    assert newest is not None
    assert (newest.status, newest.last_error) == (
        "skipped",
        "email address bob@example.com is invalid: bounced: 550 no such user",
    )
    assert len(fake_sendgrid.bodies) == 1
    assert [p["to"][0]["email"] for p in fake_sendgrid.bodies[0]["personalizations"]] == [
        "ann@example.com"
    ]


def post_signed(client: Client, signer: Signer, events: list[dict[str, Any]]) -> Any:
    body = json.dumps(events).encode()
    return post(client, events, signer.headers(body), body)


def test_events_apply_in_timestamp_order_not_list_order(
    client: Client, signer: Signer, sent: dict[str, Delivery]
) -> None:
    now = int(time.time())
    events = [
        event("delivered", sent["ann"], timestamp=now + 10),
        event("bounce", sent["ann"], type="bounce", reason="550 gone", timestamp=now),
        event("bounce", sent["bob"], type="bounce", reason="550 gone", timestamp=now + 5),
        event("dropped", sent["bob"], reason="Bounced Address", timestamp=now),
    ]
    assert post_signed(client, signer, events).status_code == 200
    ann, bob = (Delivery.objects.get(pk=sent[n].pk) for n in ("ann", "bob"))
    assert (ann.status, ann.provider_status) == ("failed", "bounced")
    # The later of two failures is the status SendGrid ended with.
    assert (bob.status, bob.provider_status) == ("failed", "bounced")
    assert bob.last_error == "SendGrid dropped: Bounced Address"  # the first failure's


def test_a_later_delivered_does_not_undo_a_bounce(
    client: Client, signer: Signer, sent: dict[str, Delivery]
) -> None:
    now = int(time.time())
    bounce = event("bounce", sent["ann"], type="bounce", reason="550 gone", timestamp=now)
    assert post_signed(client, signer, [bounce]).status_code == 200
    delivered = event("delivered", sent["ann"], timestamp=now + 10)
    assert post_signed(client, signer, [delivered]).status_code == 200
    ann = Delivery.objects.get(pk=sent["ann"].pk)
    assert (ann.status, ann.provider_status) == ("failed", "bounced")


@pytest.mark.parametrize("max_age", ["ten", 0, None])
def test_a_bad_max_age_setting_refuses_with_a_log_line(
    client: Client,
    signer: Signer,
    sent: dict[str, Delivery],
    settings: Any,
    caplog: Any,
    max_age: Any,
) -> None:
    email_settings(settings, SENDGRID_WEBHOOK_MAX_AGE=max_age)
    before = snapshot()
    response = post_signed(client, signer, [event("bounce", sent["bob"], reason="550")])
    assert response.status_code == 403
    assert snapshot() == before
    assert any(
        "DSN['EMAIL']['SENDGRID_WEBHOOK_MAX_AGE'] must be a positive number" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR
    )


def test_a_public_key_pasted_as_pem_is_accepted(
    client: Client, signer: Signer, sent: dict[str, Delivery], settings: Any
) -> None:
    pem = signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    email_settings(settings, SENDGRID_WEBHOOK_PUBLIC_KEY="\n" + pem.decode() + "\n")
    response = post_signed(client, signer, [event("delivered", sent["ann"])])
    assert response.status_code == 200
    assert response.json() == {"applied": 1, "ignored": 0}
