"""The Django-email messenger fails per message: one bad message never resends the others."""

from __future__ import annotations

import logging
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from dsn_core import hookimpl
from dsn_core.exceptions import TransientDeliveryError
from dsn_core.messages import PermanentFailure, Sent, TransientFailure
from dsn_core.models import Delivery
from dsn_email.django_messenger import DjangoEmailMessenger
from dsn_email.templates import EmailTemplate
from tests.conftest import SMTPRecorder, email_settings, use_backend
from tests.test_django_email import outgoing, parsed

django_6_1 = pytest.mark.skipif(not hasattr(mail, "mailers"), reason="MAILERS is Django 6.1+")
before_6_1 = pytest.mark.skipif(hasattr(mail, "mailers"), reason="Django 6.1+ has MAILERS")


def retry_due() -> None:
    """Run every pending delivery again now, as a later worker would."""
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    call_command("dsn", "requeue", stdout=StringIO())


def statuses() -> dict[str, tuple[str, str]]:
    return {d.user.username: (d.status, d.last_error) for d in Delivery.objects.all() if d.user}


class UnsubscribeTemplate(EmailTemplate):
    """Per-user unsubscribe links; bob's carries a header injection."""

    id = "test_unsubscribe"
    label = "test"
    parts = {
        "subject": "News",
        "text": "Hello {{ user.username }}",
        "unsubscribe_url": "https://shop.test/unsub/{{ user.username }}"
        "{% if user.username == 'bob' %}\nBcc: evil@example.com{% endif %}",
    }


class UnsubscribePlugin:
    @hookimpl
    def dsn_register_message_templates(self, register: Any) -> None:
        register(UnsubscribeTemplate)


def test_a_newline_in_an_address_fails_that_message_only_and_nothing_is_sent_twice(
    smtp_server: SMTPRecorder,
    dsn_subscribe: Any,
    user_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    users = [
        user_factory("ann"),
        user_factory("bob", email="bob@example.com\nBcc: evil@example.com"),
        user_factory("cid"),
    ]
    dsn_subscribe(Group, users, messenger="django_email", template="email_plain")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Staff")
    retry_due()
    assert sorted(e.rcpt_tos[0] for e in smtp_server.messages) == [
        "ann@example.com",
        "cid@example.com",
    ]
    rows = statuses()
    assert rows["ann"] == rows["cid"] == ("sent", "")
    assert rows["bob"][0] == "failed"
    assert rows["bob"][1].startswith("invalid message: ")


def test_header_injection_in_unsubscribe_url_fails_that_message_only(
    smtp_server: SMTPRecorder,
    dsn_subscribe: Any,
    dsn_plugin: Any,
    user_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    dsn_plugin(UnsubscribePlugin(), name="unsubscribe-template")
    users = [user_factory("ann"), user_factory("bob"), user_factory("cid")]
    dsn_subscribe(Group, users, messenger="django_email", template="test_unsubscribe")
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.create(name="Staff")
    retry_due()
    received = sorted(smtp_server.messages, key=lambda e: e.rcpt_tos[0])
    assert [e.rcpt_tos for e in received] == [["ann@example.com"], ["cid@example.com"]]
    assert parsed(received[0])["List-Unsubscribe"] == "<https://shop.test/unsub/ann>"
    assert all(b"evil@example.com" not in bytes(e.original_content or b"") for e in received)
    rows = statuses()
    assert rows["ann"] == rows["cid"] == ("sent", "")
    assert rows["bob"][0] == "failed"
    assert rows["bob"][1].startswith("invalid message: ")


def test_one_click_unsubscribe_header_only_when_the_backend_promises_it(
    smtp_server: SMTPRecorder,
) -> None:
    parts = {"subject": "x", "text": "y", "unsubscribe_url": "https://shop.test/u/1"}
    DjangoEmailMessenger({}).send([outgoing("ann@example.com", parts)])
    DjangoEmailMessenger({"one_click_unsubscribe": True}).send([outgoing("bob@example.com", parts)])
    plain, one_click = (parsed(e) for e in smtp_server.messages)
    assert plain["List-Unsubscribe"] == one_click["List-Unsubscribe"] == "<https://shop.test/u/1>"
    assert plain["List-Unsubscribe-Post"] is None
    assert one_click["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_message_id_uses_the_sender_domain(smtp_server: SMTPRecorder) -> None:
    (outcome,) = DjangoEmailMessenger({"from_email": "News <news@mail.shop.test>"}).send(
        [outgoing("ann@example.com")]
    )
    assert isinstance(outcome, Sent)
    assert outcome.provider_id is not None
    assert outcome.provider_id.endswith("@mail.shop.test>")


def test_connection_dropped_mid_batch_fails_that_message_and_the_rest_transiently(
    smtp_server: SMTPRecorder,
) -> None:
    smtp_server.hang_up_after = 1
    outcomes = DjangoEmailMessenger({}).send([outgoing(f"user{n}@example.com") for n in range(3)])
    assert isinstance(outcomes[0], Sent)
    dropped = outcomes[1]
    assert isinstance(dropped, TransientFailure)
    assert dropped.reason.startswith("connection to the mail server lost: SMTPServerDisconnected")
    assert outcomes[2] == dropped  # not tried on the dead connection: the drop's reason
    assert [e.rcpt_tos for e in smtp_server.messages] == [["user0@example.com"]]


def test_421_closing_fails_the_rest_without_trying_them(smtp_server: SMTPRecorder) -> None:
    smtp_server.data_replies = ["250 OK", "421 4.3.2 Shutting down"]
    outcomes = DjangoEmailMessenger({}).send([outgoing(f"user{n}@example.com") for n in range(4)])
    assert isinstance(outcomes[0], Sent)
    closing = TransientFailure("mail server said 421 4.3.2 Shutting down")
    assert outcomes[1:] == [closing] * 3  # 421 closes the connection: the rest not tried
    assert len(smtp_server.messages) == 1
    assert smtp_server.data_replies == []


def test_sender_refused_is_permanent(smtp_server: SMTPRecorder) -> None:
    smtp_server.refuse_sender = "550 5.7.1 Sender not allowed"
    (outcome,) = DjangoEmailMessenger({}).send([outgoing("ann@example.com")])
    assert outcome == PermanentFailure("sender refused: 550 5.7.1 Sender not allowed")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("554 5.6.0 Message rejected", PermanentFailure), ("451 4.3.0 Try later", TransientFailure)],
)
def test_data_refused_by_code(smtp_server: SMTPRecorder, reply: str, expected: type) -> None:
    smtp_server.data_replies = [reply]
    first, second = DjangoEmailMessenger({}).send(
        [outgoing("ann@example.com"), outgoing("bob@example.com")]
    )
    assert isinstance(first, expected)
    assert first.reason == f"mail server said {reply}"  # type: ignore[union-attr]
    assert isinstance(second, Sent)  # the connection is still good


def test_a_backend_that_sends_nothing_is_transient(settings: Any) -> None:
    use_backend(settings, "tests.backends.SendsNothing")
    (outcome,) = DjangoEmailMessenger({}).send([outgoing("ann@example.com")])
    assert outcome == TransientFailure("the email backend sent nothing")


def test_anymail_errors_are_mapped_per_message(settings: Any, caplog: Any) -> None:
    use_backend(settings, "tests.backends.FailsLikeAnymail")
    addresses = ["refused", "api400", "api429", "api503", "api", "boom", "ann"]
    with caplog.at_level(logging.ERROR, logger="dsn_email"):
        outcomes = DjangoEmailMessenger({}).send([outgoing(f"{a}@example.com") for a in addresses])
    refused, api400, api429, api503, no_status, boom, ann = outcomes
    assert isinstance(refused, PermanentFailure)
    assert "Recipients refused" in refused.reason
    assert isinstance(api400, PermanentFailure)
    assert "ESP API response 400" in api400.reason
    assert all(isinstance(o, TransientFailure) for o in (api429, api503, no_status, boom))
    assert boom == TransientFailure("RuntimeError: the ESP client broke")
    assert isinstance(ann, Sent)
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    (record,) = [r for r in caplog.records if r.exc_info]  # only the unexpected one
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError


def test_invalid_sender_fails_the_batch_transiently_naming_the_settings() -> None:
    with pytest.raises(TransientDeliveryError, match=r"from_email.*FROM_EMAIL"):
        DjangoEmailMessenger({"from_email": "orders at example"}).send(
            [outgoing("ann@example.com")]
        )


@django_6_1
def test_mailer_alias_picks_a_mailer(settings: Any, tmp_path: Path) -> None:
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
        "bulk": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": tmp_path},
        },
    }
    email_settings(settings, MAILER="bulk")
    (outcome,) = DjangoEmailMessenger({}).send([outgoing("ann@example.com")])
    assert isinstance(outcome, Sent)
    assert mail.outbox == []
    (written,) = tmp_path.iterdir()
    assert "To: ann@example.com" in written.read_text()


@django_6_1
def test_unknown_mailer_alias_is_a_clear_transient_failure(settings: Any) -> None:
    email_settings(settings, MAILER="bulk")
    with pytest.raises(TransientDeliveryError) as raised:
        DjangoEmailMessenger({}).send([outgoing("ann@example.com")])
    assert raised.value.reason == (
        "DSN['EMAIL']['MAILER'] = 'bulk' is not in settings.MAILERS (default) (dsn_email.E007)."
    )


@before_6_1
def test_mailer_before_django_6_1_is_a_clear_transient_failure(settings: Any) -> None:
    email_settings(settings, MAILER="bulk")
    with pytest.raises(TransientDeliveryError) as raised:
        DjangoEmailMessenger({}).send([outgoing("ann@example.com")])
    assert raised.value.reason == (
        "DSN['EMAIL']['MAILER'] = 'bulk' needs Django 6.1's MAILERS setting; "
        "remove it to use EMAIL_BACKEND (dsn_email.E007)."
    )
    assert mail.outbox == []
