"""The Django-email messenger through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from dsn_core.exceptions import TransientDeliveryError
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
from dsn_email.django_messenger import DjangoEmailMessenger
from tests.conftest import SMTPRecorder, email_settings, use_smtp

PARTS = {"subject": "Order  shipped\n", "text": "Shipped.", "html": "<p>Shipped &amp; paid</p>"}


def outgoing(address: str, parts: dict[str, str] = PARTS) -> OutgoingMessage:
    return OutgoingMessage(Recipient(None, address), RenderedMessage(parts), reference="1")


def parsed(envelope: Any) -> Message:
    return email.message_from_bytes(envelope.original_content)


def parts_of(message: Message) -> list[Any]:
    payload = message.get_payload()
    assert isinstance(payload, list)
    return payload


def body(part: Any) -> str:
    """A part's decoded text; Django 6 ends parts with a newline, 5.2 does not."""
    return str(part.get_payload(decode=True).decode()).replace("\r\n", "\n").rstrip("\n")


class TestDjangoEmailContract(MessengerContract):
    @pytest.fixture
    def messenger(self, smtp_server: SMTPRecorder) -> DjangoEmailMessenger:
        return DjangoEmailMessenger({})

    @pytest.fixture
    def received_texts(self, smtp_server: SMTPRecorder) -> Any:
        return lambda: [bytes(e.original_content or b"").decode() for e in smtp_server.messages]

    @pytest.fixture
    def unreachable_messenger(self, settings: Any, closed_port: int) -> DjangoEmailMessenger:
        use_smtp(settings, closed_port)
        return DjangoEmailMessenger({})


def test_message_has_text_and_html_parts_and_the_right_headers(
    smtp_server: SMTPRecorder, settings: Any
) -> None:
    email_settings(settings, REPLY_TO="help@example.com")
    parts = {**PARTS, "unsubscribe_url": "https://shop.test/unsubscribe/x"}
    messenger = DjangoEmailMessenger({"one_click_unsubscribe": True})
    (outcome,) = messenger.send([outgoing("ann@example.com", parts)])
    assert isinstance(outcome, Sent)
    (envelope,) = smtp_server.messages
    assert (envelope.mail_from, envelope.rcpt_tos) == ("shop@example.com", ["ann@example.com"])
    message = parsed(envelope)
    assert message["From"] == "DSN Shop <shop@example.com>"
    assert message["To"] == "ann@example.com"
    assert message["Reply-To"] == "help@example.com"
    assert message["Subject"] == "Order shipped"
    assert message["Message-ID"] == outcome.provider_id
    assert message["List-Unsubscribe"] == "<https://shop.test/unsubscribe/x>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts_of(message)
    assert text.get_content_type() == "text/plain"
    assert body(text) == "Shipped."
    assert html.get_content_type() == "text/html"
    assert body(html) == "<p>Shipped &amp; paid</p>"


def test_no_list_unsubscribe_without_an_unsubscribe_url(smtp_server: SMTPRecorder) -> None:
    DjangoEmailMessenger({}).send([outgoing("ann@example.com")])
    assert parsed(smtp_server.messages[0])["List-Unsubscribe"] is None


def test_html_only_message_gets_a_derived_text_part(smtp_server: SMTPRecorder) -> None:
    DjangoEmailMessenger({}).send([outgoing("a@example.com", {"html": "<p>Hi<br>there</p>"})])
    text, _ = parts_of(parsed(smtp_server.messages[0]))
    assert body(text) == "Hi\nthere"


def test_a_batch_uses_one_connection_and_addresses_each_recipient_alone(
    smtp_server: SMTPRecorder,
) -> None:
    addresses = [f"user{n}@example.com" for n in range(3)]
    outcomes = DjangoEmailMessenger({}).send([outgoing(a) for a in addresses])
    assert all(isinstance(o, Sent) for o in outcomes)
    assert smtp_server.sessions == 1
    assert [e.rcpt_tos for e in smtp_server.messages] == [[a] for a in addresses]
    assert len({o.provider_id for o in outcomes if isinstance(o, Sent)}) == 3


def test_refused_recipient_is_permanent_4xx_transient_others_still_sent(
    smtp_server: SMTPRecorder,
) -> None:
    smtp_server.refuse = {
        "gone@example.com": "550 5.1.1 No such user",
        "busy@example.com": "450 4.2.1 Mailbox busy, try later",
    }
    outcomes = DjangoEmailMessenger({}).send(
        [outgoing(a) for a in ("ok@example.com", "gone@example.com", "busy@example.com")]
    )
    ok, gone, busy = outcomes
    assert isinstance(ok, Sent)
    assert isinstance(gone, PermanentFailure)
    assert gone.reason == "recipient refused: 550 5.1.1 No such user"
    assert isinstance(busy, TransientFailure)
    assert busy.reason == "recipient refused: 450 4.2.1 Mailbox busy, try later"
    assert [e.rcpt_tos for e in smtp_server.messages] == [["ok@example.com"]]


def test_no_mail_server_fails_the_batch_transiently(settings: Any, closed_port: int) -> None:
    use_smtp(settings, closed_port)
    with pytest.raises(TransientDeliveryError, match="cannot connect to the mail server"):
        DjangoEmailMessenger({}).send([outgoing("ann@example.com")])


def test_file_backend_for_the_demo(settings: Any, tmp_path: Path) -> None:
    backend = "django.core.mail.backends.filebased.EmailBackend"
    if hasattr(mail, "mailers"):
        settings.MAILERS = {"default": {"BACKEND": backend, "OPTIONS": {"file_path": tmp_path}}}
    else:
        settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH = backend, str(tmp_path)
    outcomes = DjangoEmailMessenger({"from_email": "demo@example.com"}).send(
        [outgoing("ann@example.com"), outgoing("bob@example.com")]
    )
    assert all(isinstance(o, Sent) for o in outcomes)
    (written,) = tmp_path.iterdir()  # one connection: one file
    content = written.read_text()
    assert content.count("From: demo@example.com") == 2
    assert "To: ann@example.com" in content
    assert "To: bob@example.com" in content


def test_event_through_the_outbox(
    smtp_server: SMTPRecorder,
    dsn_subscribe: Any,
    user_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    users = [user_factory("ann"), user_factory("bob", email="")]
    dsn_subscribe(Group, users, messenger="django_email", template="email_plain")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Staff")
    (envelope,) = smtp_server.messages
    assert envelope.rcpt_tos == ["ann@example.com"]
    assert parsed(envelope)["Subject"] == "Staff: post_save"
    rows = {d.user.username: d for d in Delivery.objects.all() if d.user}
    assert (rows["ann"].status, rows["ann"].provider_message_id) == (
        "sent",
        parsed(envelope)["Message-ID"],
    )
    assert (rows["bob"].status, rows["bob"].last_error) == ("skipped", "no email address")
