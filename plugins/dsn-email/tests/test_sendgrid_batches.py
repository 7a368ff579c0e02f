"""SendGrid batches: what one call's failure means for the others, options, time budget."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from werkzeug import Request, Response

from dsn_core.exceptions import PermanentDeliveryError, TransientDeliveryError
from dsn_core.messages import (
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    Sent,
    TransientFailure,
)
from dsn_email.sendgrid_messenger import SendGridMessenger
from tests.conftest import FakeSendGrid, email_settings
from tests.test_sendgrid import PARTS, outgoing

SENDER_IDENTITY = (
    "The from address does not match a verified Sender Identity. Mail cannot be sent "
    "until this error is resolved."
)


def distinct(n: int) -> list[OutgoingMessage]:
    """``n`` messages of different content: one call each."""
    return [outgoing(i, {**PARTS, "text": f"Hello user{i}"}) for i in range(n)]


class BrokenUser:
    """A custom user model whose ``get_full_name`` raises."""

    def get_full_name(self) -> str:
        raise RuntimeError("no name today")


def test_an_unexpected_error_in_one_call_fails_only_that_call(
    fake_sendgrid: FakeSendGrid, caplog: Any
) -> None:
    first, second, third = distinct(3)
    second = OutgoingMessage(
        Recipient(BrokenUser(), "user1@example.com"), second.message, reference="1001"
    )
    with caplog.at_level(logging.ERROR, logger="dsn_email"):
        outcomes = SendGridMessenger({}).send([first, second, third])
    assert outcomes == [
        Sent("msg-1"),
        TransientFailure("RuntimeError: no name today"),
        Sent("msg-2"),
    ]
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_stops_the_batch_and_logs_once(
    fake_sendgrid: FakeSendGrid, caplog: Any, status: int
) -> None:
    fake_sendgrid.answer(status, {"errors": [{"message": "authorization grant is invalid"}]})
    with caplog.at_level(logging.ERROR, logger="dsn_email"):
        outcomes = SendGridMessenger({}).send(distinct(3))
    assert len(fake_sendgrid.requests) == 1
    assert all(isinstance(o, PermanentFailure) for o in outcomes)
    assert len(set(outcomes)) == 1
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "DSN['EMAIL']['SENDGRID_API_KEY']" in record.getMessage()
    assert "SG.test-key" not in record.getMessage()


def test_unverified_sender_points_at_from_email_not_the_key(
    fake_sendgrid: FakeSendGrid, caplog: Any
) -> None:
    fake_sendgrid.answer(403, {"errors": [{"field": "from", "message": SENDER_IDENTITY}]})
    with caplog.at_level(logging.ERROR, logger="dsn_email"):
        outcomes = SendGridMessenger({}).send(distinct(2))
    assert len(fake_sendgrid.requests) == 1
    first, second = outcomes
    assert isinstance(first, PermanentFailure)
    assert first == second
    assert "SendGrid refused the sender shop@example.com (403" in first.reason
    assert "Sender Authentication" in first.reason
    assert "DSN['EMAIL']['FROM_EMAIL']" in first.reason
    assert "API key" not in first.reason
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "DSN['EMAIL']['FROM_EMAIL']" in record.getMessage()


def test_413_splits_the_call_in_halves_until_it_fits(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.answer(413, {"errors": [{"message": "too large"}]})
    fake_sendgrid.answer(413, {"errors": [{"message": "too large"}]})
    outcomes = SendGridMessenger({}).send([outgoing(n) for n in range(4)])
    sizes = [len(b["personalizations"]) for b in fake_sendgrid.bodies]
    assert sizes == [4, 2, 1, 1, 2]
    assert outcomes == [Sent("msg-1"), Sent("msg-2"), Sent("msg-3"), Sent("msg-3")]


def test_413_for_one_personalization_is_permanent(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.answer(413, {"errors": [{"message": "too large"}]})
    fake_sendgrid.answer(413, {"errors": [{"message": "too large"}]})
    outcomes = SendGridMessenger({}).send([outgoing(0), outgoing(1)])
    assert [len(b["personalizations"]) for b in fake_sendgrid.bodies] == [2, 1, 1]
    assert isinstance(outcomes[0], PermanentFailure)
    assert "(413)" in outcomes[0].reason
    assert outcomes[1] == Sent("msg-1")


def test_retry_after_header_when_there_is_no_rate_limit_reset(
    fake_sendgrid: FakeSendGrid,
) -> None:
    fake_sendgrid.answer(429, {"errors": [{"message": "too many"}]}, **{"Retry-After": "30"})
    (outcome,) = SendGridMessenger({}).send([outgoing(1)])
    assert isinstance(outcome, TransientFailure)
    assert outcome.retry_after == 30


def test_a_batch_stops_calling_at_half_the_claim_timeout(httpserver: Any, settings: Any) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(status=202, headers={"X-Message-Id": "slow"})

    httpserver.expect_request("/v3/mail/send").respond_with_handler(slow)
    email_settings(settings, SENDGRID_HOST=httpserver.url_for("/").rstrip("/"))
    settings.DSN = {**settings.DSN, "CLAIM_TIMEOUT": 2}  # a budget of 1 s
    outcomes = SendGridMessenger({}).send(distinct(4))
    assert len(httpserver.log) == 2  # the third call would start after 1.2 s
    late = TransientFailure("not sent: the batch ran out of time (CLAIM_TIMEOUT)", retry_after=0)
    assert outcomes == [Sent("slow"), Sent("slow"), late, late]


def test_per_user_unsubscribe_links_still_share_one_call(fake_sendgrid: FakeSendGrid) -> None:
    messages = [
        outgoing(n, {**PARTS, "unsubscribe_url": f"https://shop.test/u/{n}"}) for n in range(3)
    ]
    outcomes = SendGridMessenger({"one_click_unsubscribe": True}).send(messages)
    assert outcomes == [Sent("msg-1")] * 3
    (body,) = fake_sendgrid.bodies
    assert [p["headers"] for p in body["personalizations"]] == [
        {
            "List-Unsubscribe": f"<https://shop.test/u/{n}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        for n in range(3)
    ]


def test_nine_categories_fit_with_dsn(fake_sendgrid: FakeSendGrid) -> None:
    categories = [f"c{n}" for n in range(9)]
    SendGridMessenger({"categories": ["dsn", *categories]}).send([outgoing(1)])
    assert fake_sendgrid.bodies[0]["categories"] == ["dsn", *categories]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"categories": [f"c{n}" for n in range(10)]}, "at most 9 categories besides 'dsn'"),
        ({"categories": "orders"}, "'categories' must be a list of strings"),
        ({"categories": ["orders", 7]}, "'categories' must be a list of strings"),
        ({"unsubscribe_group_id": "12"}, "'unsubscribe_group_id' must be a whole number"),
        ({"unsubscribe_group_id": True}, "'unsubscribe_group_id' must be a whole number"),
        ({"template_id": 123}, "'template_id' must be a string"),
        ({"one_click_unsubscribe": "yes"}, "'one_click_unsubscribe' must be true or false"),
    ],
)
def test_bad_options_fail_the_batch_permanently_before_any_call(
    fake_sendgrid: FakeSendGrid, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(PermanentDeliveryError, match=message) as raised:
        SendGridMessenger(options).send([outgoing(1)])
    assert "dsn_email.E006" in raised.value.reason
    assert fake_sendgrid.requests == []


def test_invalid_reply_to_fails_the_batch_transiently_before_any_call(
    fake_sendgrid: FakeSendGrid,
) -> None:
    with pytest.raises(TransientDeliveryError, match=r"REPLY_TO"):
        SendGridMessenger({"reply_to": "help@"}).send([outgoing(1)])
    assert fake_sendgrid.requests == []
