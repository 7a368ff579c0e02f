"""Every answer X can give, through the real tweepy client, mapped to an outcome."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import pytest
from werkzeug import Response

from dsn_core.messages import (
    Outcome,
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    RenderedMessage,
    Sent,
    Skipped,
    TransientFailure,
)
from dsn_core.models import ContactPoint
from dsn_twitter.messengers import TwitterDirectMessenger, TwitterPostMessenger

from .conftest import DM_PATTERN, POST_PATH, dm_path

pytestmark = pytest.mark.django_db

PROBLEM = "https://api.twitter.com/2/problems/"
DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
APP_PERMISSIONS = {
    "title": "Forbidden",
    "detail": "Your client app is not configured with the appropriate oauth1 app "
    "permissions for this endpoint.",
    "type": PROBLEM + "oauth1-permissions",
    "status": 403,
}
DM_NOT_PERMITTED = {
    "detail": "You are not permitted to send Direct Messages to this user.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
USER_NOT_FOUND_200 = {
    "errors": [
        {
            "value": "555",
            "detail": "Could not find user with id: [555].",
            "title": "Not Found Error",
            "resource_type": "user",
            "parameter": "participant_id",
            "resource_id": "555",
            "type": PROBLEM + "resource-not-found",
        }
    ]
}
INVALID_REQUEST = {
    "errors": [{"parameters": {"text": ["x"]}, "message": "text is too long"}],
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": PROBLEM + "invalid-request",
}


def post(text: str = "New article: DSN 1.0") -> OutgoingMessage:
    return OutgoingMessage(Recipient(None, None), RenderedMessage({"text": text}))


def dm(address: str | None, text: str = "hello") -> OutgoingMessage:
    return OutgoingMessage(Recipient(None, address), RenderedMessage({"text": text}))


def send_post(**options: Any) -> Outcome:
    (outcome,) = TwitterPostMessenger(options).send([post()])
    return outcome


# -- posts -------------------------------------------------------------------------


def test_created_post_is_sent_with_its_id(fake_x):
    fake_x.answer(POST_PATH, {"data": {"id": "1445880548472328192", "text": "x"}}, status=201)
    assert send_post() == Sent(provider_id="1445880548472328192")


def test_rate_limit_is_transient_until_the_reset(fake_x):
    reset = int(time.time()) + 900
    headers = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(reset),
    }
    fake_x.answer(
        POST_PATH, {"title": "Too Many Requests", "detail": "Too Many Requests"}, 429, headers
    )
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert "rate limit" in outcome.reason
    assert outcome.retry_after is not None
    assert 890 <= outcome.retry_after <= 900


def test_rate_limit_honours_the_exhausted_24_hour_limit(fake_x):
    now = int(time.time())
    headers = {
        "x-rate-limit-remaining": "3",
        "x-rate-limit-reset": str(now + 60),
        "x-user-limit-24hour-limit": "17",
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(now + 20_000),
    }
    fake_x.answer(POST_PATH, {"title": "Too Many Requests"}, 429, headers)
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert outcome.retry_after is not None
    assert 19_990 <= outcome.retry_after <= 20_000


def test_rate_limit_without_reset_header_leaves_backoff_to_core(fake_x):
    fake_x.answer(POST_PATH, {"title": "Too Many Requests"}, 429)
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert outcome.retry_after is None


def test_rate_limit_reset_in_the_past_retries_now(fake_x):
    fake_x.answer(POST_PATH, {}, 429, {"x-rate-limit-reset": str(int(time.time()) - 5)})
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert outcome.retry_after == 0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(fake_x, status):
    fake_x.answer(POST_PATH, {"title": "Service Unavailable"}, status)
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert str(status) in outcome.reason


def test_server_error_with_html_body_is_transient(fake_x):
    fake_x.server.expect_request(POST_PATH).respond_with_data("<h1>Bad gateway</h1>", 502)
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert "502" in outcome.reason


def test_connection_refused_is_transient(settings, closed_port):
    settings.DSN = {
        **settings.DSN,
        "TWITTER": {**settings.DSN["TWITTER"], "API_URL": f"http://127.0.0.1:{closed_port}"},
    }
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert "cannot connect" in outcome.reason


def test_timeout_is_transient(fake_x, settings):
    settings.DSN["TWITTER"]["TIMEOUT"] = 0.2

    def slow(request):
        time.sleep(0.6)
        return Response("{}", status=201, content_type="application/json")

    fake_x.server.expect_request(POST_PATH).respond_with_handler(slow)
    started = time.monotonic()
    outcome = send_post()
    assert time.monotonic() - started < 0.6
    assert outcome == TransientFailure("X did not answer within 0.2 s")


def test_duplicate_content_is_permanent_with_xs_message(fake_x):
    fake_x.answer(POST_PATH, DUPLICATE, 403)
    (outcome,) = TwitterPostMessenger({}).send([replace(post(), attempt=1)])
    assert isinstance(outcome, PermanentFailure)
    assert outcome.reason.startswith("duplicate content")
    assert str(DUPLICATE["detail"]) in outcome.reason


@pytest.mark.parametrize("attempt", [2, 5])
def test_duplicate_content_on_a_retry_is_the_earlier_attempts_post(fake_x, attempt):
    # The first try timed out after X had created the post: X now refuses the same text.
    fake_x.answer(POST_PATH, DUPLICATE, 403)
    (outcome,) = TwitterPostMessenger({}).send([replace(post(), attempt=attempt)])
    assert outcome == Sent(
        None, details={"assumed": "duplicate of an earlier attempt that timed out"}
    )


def test_duplicate_in_a_200_errors_body_on_a_retry_is_sent(fake_x):
    fake_x.answer(POST_PATH, {"errors": [{"detail": str(DUPLICATE["detail"])}]})
    (outcome,) = TwitterPostMessenger({}).send([replace(post(), attempt=2)])
    assert isinstance(outcome, Sent)
    assert outcome.provider_id is None


def test_unauthorized_is_permanent_with_a_hint(fake_x):
    fake_x.answer(POST_PATH, UNAUTHORIZED, 401)
    outcome = send_post()
    assert isinstance(outcome, PermanentFailure)
    assert "rejected the credentials (401)" in outcome.reason
    assert "DSN['TWITTER']" in outcome.reason
    assert "manage.py check" in outcome.reason


def test_app_without_write_permission_is_permanent(fake_x):
    fake_x.answer(POST_PATH, APP_PERMISSIONS, 403)
    outcome = send_post()
    assert isinstance(outcome, PermanentFailure)
    assert "oauth1 app permissions" in outcome.reason
    assert "Read and write" in outcome.reason


def test_bad_request_is_permanent(fake_x):
    fake_x.answer(POST_PATH, INVALID_REQUEST, 400)
    outcome = send_post()
    assert isinstance(outcome, PermanentFailure)
    assert "(400)" in outcome.reason
    assert "text is too long" in outcome.reason


def test_other_client_error_is_permanent(fake_x):
    fake_x.answer(POST_PATH, {"title": "Payment Required", "detail": "No credits"}, 402)
    outcome = send_post()
    assert outcome == PermanentFailure("X refused the post (402); X said: No credits")


def test_200_with_errors_and_no_data_is_mapped(fake_x):
    fake_x.answer(POST_PATH, {"errors": [{"type": PROBLEM + "invalid-request", "detail": "bad"}]})
    assert send_post() == PermanentFailure("X refused the post; X said: bad")


def test_200_with_rate_limit_error_is_transient(fake_x):
    fake_x.answer(POST_PATH, {"errors": [{"type": PROBLEM + "usage-capped", "title": "Usage cap"}]})
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert "Usage cap" in outcome.reason


def test_200_with_unknown_error_is_transient(fake_x):
    fake_x.answer(POST_PATH, {"errors": [{"type": PROBLEM + "something-new", "detail": "hmm"}]})
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert "hmm" in outcome.reason


def test_200_with_data_and_errors_is_sent(fake_x, caplog):
    fake_x.answer(POST_PATH, {"data": {"id": "7"}, "errors": [{"detail": "partial"}]})
    assert send_post() == Sent(provider_id="7")
    assert "partial" in caplog.text


def test_200_without_json_is_transient(fake_x):
    fake_x.server.expect_request(POST_PATH).respond_with_data("OK", 200)
    outcome = send_post()
    assert isinstance(outcome, TransientFailure)


def test_unexpected_answer_is_transient_and_logged(fake_x, caplog):
    fake_x.answer(POST_PATH, ["not", "an", "object"], 201)
    with caplog.at_level(logging.ERROR, logger="dsn_twitter"):
        outcome = send_post()
    assert isinstance(outcome, TransientFailure)
    assert "AttributeError" in outcome.reason
    assert "raised unexpectedly" in caplog.text
    assert caplog.records[-1].exc_info is not None


def test_empty_post_is_skipped_without_calling_x(fake_x):
    (outcome,) = TwitterPostMessenger({}).send([post("  \n ")])
    assert outcome == Skipped("empty post: the message template rendered no text")
    assert fake_x.requests == []


def test_nothing_fits_in_max_length_is_a_failure_not_a_skip(fake_x):
    (outcome,) = TwitterPostMessenger({"max_length": 2}).send([post("abcdef")])
    assert outcome == PermanentFailure(
        "post too long: nothing of it fits in 2 with the ellipsis (Backend option 'max_length')"
    )
    assert fake_x.requests == []


def test_overflow_fail_option_refuses_long_posts(fake_x):
    (outcome,) = TwitterPostMessenger({"overflow": "fail"}).send([post("x " * 200)])
    assert outcome == PermanentFailure(
        "post too long: weighs 399, more than 280 (Backend option 'overflow' is 'fail')"
    )
    assert fake_x.requests == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"overflow": "cut"}, "'overflow' must be one of ('trim', 'fail'), not 'cut'"),
        ({"max_length": "280"}, "'max_length' must be a whole number >= 1, not '280'"),
        ({"max_length": 0}, "'max_length' must be a whole number >= 1, not 0"),
        ({"max_length": True}, "'max_length' must be a whole number >= 1, not True"),
    ],
)
def test_bad_backend_options_are_permanent(fake_x, options, message):
    (outcome,) = TwitterPostMessenger(options).send([post()])
    assert isinstance(outcome, PermanentFailure)
    assert message in outcome.reason
    assert fake_x.requests == []


def test_missing_credentials_at_send_time_are_permanent(twitter_settings):
    twitter_settings(CONSUMER_KEY="only-this")
    (outcome,) = TwitterPostMessenger({}).send([post()])
    assert isinstance(outcome, PermanentFailure)
    assert "lacks CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET" in outcome.reason


# -- direct messages ---------------------------------------------------------------


@pytest.fixture
def linked(django_user_model):
    """A user whose X account (id 555) is linked as a verified contact point."""
    user = django_user_model.objects.create(username="ada")
    return ContactPoint.objects.create(user=user, channel="twitter", address="555", verified=True)


def invalid_reason(point: ContactPoint) -> str:
    point.refresh_from_db()
    return point.invalid_reason


def test_dm_created_is_sent_with_the_event_id(fake_x):
    fake_x.answer(
        dm_path("555"), {"data": {"dm_conversation_id": "1-555", "dm_event_id": "42"}}, 201
    )
    (outcome,) = TwitterDirectMessenger({}).send([dm("555")])
    assert outcome == Sent(provider_id="42")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, DM_NOT_PERMITTED),
        (404, {"title": "Not Found", "detail": "User not found"}),
        (200, USER_NOT_FOUND_200),
    ],
)
def test_dm_refused_for_the_user_marks_the_contact_point_invalid(fake_x, linked, status, body):
    fake_x.answer(dm_path("555"), body, status)
    (outcome,) = TwitterDirectMessenger({}).send([dm("555")])
    assert isinstance(outcome, PermanentFailure)
    assert outcome.reason.startswith("cannot send a direct message to this X account")
    assert invalid_reason(linked) == outcome.reason[:255]


def test_dm_bad_participant_marks_invalid(fake_x, linked):
    body = {
        "errors": [{"parameters": {"participant_id": ["555"]}, "message": "participant_id invalid"}]
    }
    fake_x.answer(dm_path("555"), body, 400)
    (outcome,) = TwitterDirectMessenger({}).send([dm("555")])
    assert isinstance(outcome, PermanentFailure)
    assert invalid_reason(linked)


def test_dm_app_level_refusal_does_not_blame_the_user(fake_x, linked):
    fake_x.server.expect_request(DM_PATTERN).respond_with_json(APP_PERMISSIONS, 403)
    outcomes = TwitterDirectMessenger({}).send([dm("555"), dm("556")])
    assert all(isinstance(o, PermanentFailure) for o in outcomes)
    assert len(fake_x.requests) == 1  # the second would fail the same way: not sent
    assert invalid_reason(linked) == ""


@pytest.mark.parametrize("attempt", [1, 2])
def test_dm_duplicate_is_permanent_without_marking(fake_x, linked, attempt):
    # Only posts: a retried DM that X calls a duplicate is left for the admin to judge.
    fake_x.answer(dm_path("555"), DUPLICATE, 403)
    (outcome,) = TwitterDirectMessenger({}).send([replace(dm("555"), attempt=attempt)])
    assert isinstance(outcome, PermanentFailure)
    assert outcome.reason.startswith("duplicate content")
    assert invalid_reason(linked) == ""


@pytest.mark.parametrize("address", ["@ada", "ada", "", "\uff11\uff12\uff13", None])
def test_dm_to_something_that_is_not_a_user_id(fake_x, address):
    (outcome,) = TwitterDirectMessenger({}).send([dm(address)])
    assert isinstance(outcome, PermanentFailure)
    assert "is not an X user id" in outcome.reason
    assert fake_x.requests == []


def test_not_a_user_id_marks_the_contact_point_invalid(django_user_model, fake_x):
    user = django_user_model.objects.create(username="bob")
    point = ContactPoint.objects.create(user=user, channel="twitter", address="@bob", verified=True)
    TwitterDirectMessenger({}).send([dm("@bob")])
    assert "not an X user id" in invalid_reason(point)


def test_dm_rate_limit_stops_the_batch(fake_x):
    reset = int(time.time()) + 300
    fake_x.server.expect_request(DM_PATTERN).respond_with_json(
        {"title": "Too Many Requests"},
        429,
        {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
    )
    outcomes = TwitterDirectMessenger({}).send([dm("1"), dm("2"), dm("3")])
    assert len(outcomes) == 3
    assert all(isinstance(o, TransientFailure) and o.retry_after for o in outcomes)
    assert len(fake_x.requests) == 1


def test_dm_unauthorized_stops_the_batch(fake_x):
    fake_x.server.expect_request(DM_PATTERN).respond_with_json(UNAUTHORIZED, 401)
    outcomes = TwitterDirectMessenger({}).send([dm("1"), dm("2")])
    assert all(isinstance(o, PermanentFailure) and "401" in o.reason for o in outcomes)
    assert len(fake_x.requests) == 1


def test_dm_outcomes_are_per_message(fake_x, linked):
    fake_x.answer(dm_path("1"), {"data": {"dm_event_id": "11"}}, 201)
    fake_x.answer(dm_path("555"), DM_NOT_PERMITTED, 403)
    fake_x.answer(dm_path("2"), {"data": {"dm_event_id": "22"}}, 201)
    outcomes = TwitterDirectMessenger({}).send([dm("1"), dm("555"), dm("2"), dm("x")])
    assert outcomes[0] == Sent("11")
    assert isinstance(outcomes[1], PermanentFailure)
    assert outcomes[2] == Sent("22")
    assert isinstance(outcomes[3], PermanentFailure)
    assert [r.path for r in fake_x.requests] == [dm_path("1"), dm_path("555"), dm_path("2")]


def test_empty_dm_is_skipped(fake_x):
    (outcome,) = TwitterDirectMessenger({}).send([dm("555", "")])
    assert outcome == Skipped("empty direct message: the message template rendered no text")
    assert fake_x.requests == []


# -- a DM refusal blames the recipient only when X says it is about the recipient ------

NOT_FOLLOWING = {
    "detail": "You cannot send messages to users who are not following you.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
NOT_AUTHORIZED_FOR_RESOURCE = {
    "title": "Forbidden",
    "detail": "Sorry, you are not authorized to see this.",
    "type": PROBLEM + "not-authorized-for-resource",
    "status": 403,
}
PARTICIPANT_404 = {
    "errors": [{"parameter": "participant_id", "value": "555", "detail": "Not found"}],
    "title": "Not Found",
    "type": "about:blank",
    "status": 404,
}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, DM_NOT_PERMITTED),  # "... to this user"
        (403, NOT_FOLLOWING),  # "... not following you"
        (403, NOT_AUTHORIZED_FOR_RESOURCE),  # problem type
        (404, PARTICIPANT_404),  # the participant_id parameter
        (200, USER_NOT_FOUND_200),  # resource-not-found on participant_id
    ],
)
def test_recipient_specific_refusal_marks_only_that_recipient_and_goes_on(
    fake_x, django_user_model, status, body
):
    user = django_user_model.objects.create(username="ada")
    refused = ContactPoint.objects.create(
        user=user, channel="twitter", address="555", verified=True
    )
    other = ContactPoint.objects.create(user=user, channel="twitter", address="556", verified=True)
    fake_x.answer(dm_path("555"), body, status)
    fake_x.answer(dm_path("556"), {"data": {"dm_event_id": "56"}}, 201)
    outcomes = TwitterDirectMessenger({}).send([dm("555"), dm("556")])
    assert isinstance(outcomes[0], PermanentFailure)
    assert outcomes[0].reason.startswith("cannot send a direct message to this X account")
    assert outcomes[1] == Sent("56")
    assert [r.path for r in fake_x.requests] == [dm_path("555"), dm_path("556")]
    assert invalid_reason(refused) == outcomes[0].reason[:255]
    assert invalid_reason(other) == ""


SUSPENDED = {
    "detail": "Your account is suspended and is not permitted to access this feature.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
GENERIC_403 = {"detail": "Forbidden", "type": "about:blank", "title": "Forbidden", "status": 403}
GENERIC_404 = {"detail": "Not Found", "type": "about:blank", "title": "Not Found", "status": 404}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, SUSPENDED),  # our account
        (403, GENERIC_403),  # an OAuth 2.0 token without dm.write, a plan without DMs
        (403, {}),  # no body at all
        (404, GENERIC_404),
    ],
)
def test_account_level_refusal_stops_the_batch_and_blames_nobody(
    fake_x, django_user_model, status, body
):
    user = django_user_model.objects.create(username="ada")
    points = [
        ContactPoint.objects.create(user=user, channel="twitter", address=a, verified=True)
        for a in ("1", "2", "3")
    ]
    fake_x.server.expect_request(DM_PATTERN).respond_with_json(body, status)
    outcomes = TwitterDirectMessenger({}).send([dm("1"), dm("2"), dm("3")])
    assert len(outcomes) == 3
    for outcome in outcomes:
        assert isinstance(outcome, PermanentFailure)
        assert outcome.reason.startswith(f"X refused the direct message ({status})")
        assert "dm.write" in outcome.reason
    assert len(fake_x.requests) == 1  # the others would be refused the same way
    assert [invalid_reason(point) for point in points] == ["", "", ""]


# -- a failure of X or of the connection stops the batch ----------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_dm_server_error_stops_the_batch(fake_x, status):
    fake_x.server.expect_request(DM_PATTERN).respond_with_json({"title": "Oops"}, status)
    outcomes = TwitterDirectMessenger({}).send([dm("1"), dm("2"), dm("3")])
    assert len(outcomes) == 3
    assert all(isinstance(o, TransientFailure) and str(status) in o.reason for o in outcomes)
    assert len(fake_x.requests) == 1


def test_dm_timeout_stops_the_batch(fake_x, settings):
    settings.DSN["TWITTER"]["TIMEOUT"] = 0.2

    def slow(request):
        time.sleep(0.4)
        return Response("{}", status=201, content_type="application/json")

    fake_x.server.expect_request(DM_PATTERN).respond_with_handler(slow)
    outcomes = TwitterDirectMessenger({}).send([dm("1"), dm("2"), dm("3")])
    assert outcomes == [TransientFailure("X did not answer within 0.2 s")] * 3
    time.sleep(0.3)  # let the server finish answering before counting
    assert len(fake_x.requests) == 1


def test_dm_connection_error_stops_the_batch(settings, hang_up_server):
    settings.DSN = {
        **settings.DSN,
        "TWITTER": {**settings.DSN["TWITTER"], "API_URL": hang_up_server.url},
    }
    outcomes = TwitterDirectMessenger({}).send([dm("1"), dm("2"), dm("3")])
    assert len(outcomes) == 3
    assert all(isinstance(o, TransientFailure) and "cannot connect" in o.reason for o in outcomes)
    assert hang_up_server.connections == 1


def test_dm_connection_refused_stops_the_batch(settings, closed_port):
    settings.DSN = {
        **settings.DSN,
        "TWITTER": {**settings.DSN["TWITTER"], "API_URL": f"http://127.0.0.1:{closed_port}"},
    }
    outcomes = TwitterDirectMessenger({}).send([dm("1"), dm("2"), dm("3")])
    assert all(isinstance(o, TransientFailure) and "cannot connect" in o.reason for o in outcomes)
