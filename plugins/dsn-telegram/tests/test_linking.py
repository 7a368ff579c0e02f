"""Linking a chat end to end: deep link → /start <token> → webhook → verified contact point."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dsn_core.models import ContactPoint, UsedKey
from dsn_telegram.linking import (
    CLOCK_SKEW,
    LinkError,
    link_chat,
    link_url,
    make_token,
    verify_token,
)

from .conftest import telegram_settings

SECRET = "test-webhook-secret_123"
WEBHOOK = "/dsn/telegram/webhook/"


def start_update(
    token: str | None, chat_id: int = 555, chat_type: str = "private"
) -> dict[str, Any]:
    text = "/start" if token is None else f"/start {token}"
    return {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ann"},
            "text": text,
        },
    }


def post(client: Client, update: Any, secret: str | None = SECRET):
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    return client.post(
        WEBHOOK, data=json.dumps(update), content_type="application/json", headers=headers
    )


def points() -> list[tuple[str, str, bool, str]]:
    return list(
        ContactPoint.objects.order_by("pk").values_list(
            "user__username", "address", "verified", "invalid_reason"
        )
    )


def test_token_fits_a_start_payload(make_user) -> None:
    token = make_token(make_user("ann"))
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token)


def test_link_url(make_user) -> None:
    url = link_url(make_user("ann"))
    assert re.fullmatch(r"https://t\.me/dsn_test_bot\?start=[A-Za-z0-9_-]{1,64}", url)


def test_link_url_needs_the_bot_username(make_user, settings) -> None:
    from dsn_core.exceptions import ConfigurationError

    telegram_settings(settings, BOT_USERNAME="")
    with pytest.raises(ConfigurationError, match="BOT_USERNAME"):
        link_url(make_user("ann"))


def test_valid_token_links_the_chat(client, make_user) -> None:
    ann = make_user("ann")
    response = post(client, start_update(make_token(ann), chat_id=555))
    assert response.status_code == 200
    reply = response.json()
    assert reply["method"] == "sendMessage"
    assert reply["chat_id"] == 555
    assert "ann" in reply["text"]
    assert points() == [("ann", "555", True, "")]


def test_relinking_replaces_the_previous_chat_and_clears_invalid(client, make_user) -> None:
    ann = make_user("ann", chat=111)
    ContactPoint.objects.filter(user=ann).update(invalid_reason="blocked")
    post(client, start_update(make_token(ann), chat_id=222))
    assert points() == [("ann", "222", True, "")]


def test_replayed_token_is_refused(client, make_user) -> None:
    ann = make_user("ann")
    token = make_token(ann)
    post(client, start_update(token, chat_id=555))
    response = post(client, start_update(token, chat_id=666))
    assert response.status_code == 200  # Telegram would resend anything else
    assert "invalid, expired or already used" in response.json()["text"]
    assert points() == [("ann", "555", True, "")]


def test_token_replayed_after_the_chat_was_unlinked_is_refused(make_user) -> None:
    """Deleting the contact point brings the link state back to "", which the signature
    covers: only the used key stops the old token from linking another chat."""
    ann = make_user("ann")
    token = make_token(ann)
    link_chat(token, 555)
    ContactPoint.objects.filter(user=ann).delete()
    with pytest.raises(LinkError, match="already used"):
        link_chat(token, 666666)
    assert points() == []
    assert UsedKey.objects.filter(key__startswith="dsn_telegram.link:").count() == 1


def test_a_refused_link_does_not_use_the_token(make_user) -> None:
    """Only a token that links is marked used: one refused (here: its user is inactive)
    still links once the problem is fixed."""
    ann = make_user("ann")
    token = make_token(ann)
    ann.is_active = False
    ann.save()
    with pytest.raises(LinkError):
        link_chat(token, 555)
    ann.is_active = True
    ann.save()
    assert link_chat(token, 555) == ann
    assert points() == [("ann", "555", True, "")]


def test_used_key_outlives_the_token(make_user, settings) -> None:
    from django.utils import timezone

    telegram_settings(settings, LINK_MAX_AGE=600)
    link_chat(make_token(make_user("ann")), 555)
    [key] = UsedKey.objects.all()
    lifetime = (key.expires - timezone.now()).total_seconds()
    assert 600 + CLOCK_SKEW - 5 < lifetime <= 600 + CLOCK_SKEW


@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_of_one_token_link_once(make_user) -> None:
    """Threads, each with its own database connection, race to use one token: exactly one
    links (PostgreSQL: the row lock and unique key; SQLite: one writer at a time)."""
    from django.db import connection

    ann = make_user("ann")
    token = make_token(ann)
    threads = 6
    barrier = threading.Barrier(threads)
    results: list[str] = []

    def use(chat: int) -> None:
        try:
            barrier.wait(timeout=10)
            link_chat(token, chat)
            results.append("linked")
        except LinkError:
            results.append("refused")
        finally:
            connection.close()

    workers = [threading.Thread(target=use, args=(1000 + n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(results) == ["linked"] + ["refused"] * (threads - 1)
    assert ContactPoint.objects.filter(user=ann).count() == 1


def test_older_tokens_die_with_the_first_use(client, make_user) -> None:
    ann = make_user("ann")
    first, second = make_token(ann, now=time.time() - 5), make_token(ann)
    post(client, start_update(second, chat_id=555))
    post(client, start_update(first, chat_id=666))
    assert points() == [("ann", "555", True, "")]


def test_expired_token_is_refused(client, make_user, settings) -> None:
    telegram_settings(settings, LINK_MAX_AGE=600)
    token = make_token(make_user("ann"), now=time.time() - 601)
    response = post(client, start_update(token))
    assert "invalid" in response.json()["text"]
    assert points() == []
    with pytest.raises(LinkError, match="expired"):
        verify_token(token)


def test_token_from_the_future_is_refused(make_user) -> None:
    token = make_token(make_user("ann"), now=time.time() + 3600)
    with pytest.raises(LinkError, match="expired"):
        verify_token(token)


def test_forged_token_is_refused(client, make_user) -> None:
    ann, bob = make_user("ann"), make_user("bob")
    token = make_token(ann)
    _pk, stamp, signature = token.split("_", 2)
    forged = f"{bob.pk}_{stamp}_{signature}"
    response = post(client, start_update(forged))
    assert "invalid" in response.json()["text"]
    assert points() == []


def test_token_signed_with_a_fallback_key_still_links(client, make_user, settings) -> None:
    ann = make_user("ann")
    token = make_token(ann)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-rotated-secret-key"
    post(client, start_update(token))
    assert points() == [("ann", "555", True, "")]


def test_token_for_an_inactive_user_is_refused(make_user) -> None:
    ann = make_user("ann")
    token = make_token(ann)
    ann.is_active = False
    ann.save()
    with pytest.raises(LinkError):
        verify_token(token)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET.upper()])
def test_wrong_or_missing_secret_is_403_and_changes_nothing(client, make_user, secret) -> None:
    ann = make_user("ann")
    response = post(client, start_update(make_token(ann)), secret=secret)
    assert response.status_code == 403
    assert points() == []


def test_webhook_refuses_everything_without_a_configured_secret(
    client, make_user, settings
) -> None:
    telegram_settings(settings, WEBHOOK_SECRET="")
    response = post(client, start_update(make_token(make_user("ann"))), secret="")
    assert response.status_code == 403
    assert points() == []


def test_webhook_needs_post(client) -> None:
    assert client.get(WEBHOOK, HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET).status_code == 405


def test_webhook_bad_json_is_400(client, db) -> None:
    response = client.post(
        WEBHOOK,
        data="{nope",
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )
    assert response.status_code == 400


def test_start_without_token_explains(client, db) -> None:
    response = post(client, start_update(None))
    assert "link on the website" in response.json()["text"]
    assert points() == []


def test_group_chats_are_not_linked(client, make_user) -> None:
    response = post(client, start_update(make_token(make_user("ann")), -100, "group"))
    assert response.status_code == 200
    assert response.content == b""
    assert points() == []


def test_other_updates_are_ignored(client, db) -> None:
    updates: list[Any] = [{"update_id": 3}, [], {"message": {"text": "hi", "chat": {"id": 1}}}]
    for update in updates:
        assert post(client, update).status_code == 200
    assert points() == []


def test_user_blocking_the_bot_marks_the_chat_invalid_and_unblocking_clears_it(
    client, make_user
) -> None:
    make_user("ann", chat=555)

    def membership(status: str) -> dict[str, Any]:
        return {
            "update_id": 9,
            "my_chat_member": {
                "chat": {"id": 555, "type": "private"},
                "from": {"id": 555, "is_bot": False, "first_name": "Ann"},
                "date": 0,
                "old_chat_member": {
                    "status": "member",
                    "user": {"id": 42, "is_bot": True, "first_name": "DSN"},
                },
                "new_chat_member": {
                    "status": status,
                    "user": {"id": 42, "is_bot": True, "first_name": "DSN"},
                },
            },
        }

    post(client, membership("kicked"))
    assert points() == [("ann", "555", True, "Forbidden: bot was blocked by the user")]
    post(client, membership("member"))
    assert points() == [("ann", "555", True, "")]


def test_link_view_redirects_a_logged_in_user(client, make_user) -> None:
    ann = make_user("ann")
    client.force_login(ann)
    response = client.get("/dsn/telegram/link/")
    assert response.status_code == 302
    token = response["Location"].split("start=")[1]
    assert verify_token(token) == ann


def test_link_view_needs_login(client, db) -> None:
    response = client.get("/dsn/telegram/link/")
    assert response.status_code == 302
    assert "login" in response["Location"]


@hypothesis_settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(alphabet="ABCabc0123456789_-", min_size=0, max_size=70))
def test_random_tokens_never_verify(db, token) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.get_or_create(username="ann")  # so "<pk>_..." finds a user
    with pytest.raises(LinkError):
        verify_token(token)
