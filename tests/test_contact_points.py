"""``dsn_clean_address``: a channel's plugin validates and normalises contact points;
``Sent.details`` reach the delivery row."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from dsn_core import hookimpl
from dsn_core.messages import Sent
from dsn_core.models import ContactPoint, Delivery, Trigger
from dsn_core.testing import OutboxMessenger
from tests.testapp.models import TestModel1

pytestmark = pytest.mark.django_db


class ChatAddresses:
    """Chat ids are digits; spaces are dropped; "0" is refused."""

    @hookimpl
    def dsn_clean_address(self, channel: str, address: str) -> str | None:
        if channel != "chat":
            return None
        cleaned = address.replace(" ", "")
        if not cleaned.isdigit() or cleaned == "0":
            raise ValidationError(f"{address!r} is not a chat id.")
        return cleaned


class Broken:
    @hookimpl
    def dsn_clean_address(self, channel: str, address: str) -> str | None:
        raise RuntimeError("plugin bug")


def test_save_stores_the_normal_form_and_refuses_bad_addresses(
    dsn_plugin: Any, user_factory: Any
) -> None:
    dsn_plugin(ChatAddresses(), name="chat")
    ann = user_factory("ann")
    point = ContactPoint.objects.create(user=ann, channel="chat", address=" 12 34 ")
    assert ContactPoint.objects.get(pk=point.pk).address == "1234"
    with pytest.raises(ValidationError, match="'0' is not a chat id"):
        ContactPoint.objects.create(user=ann, channel="chat", address="0")
    other = ContactPoint.objects.create(user=ann, channel="sms", address=" as typed ")
    assert other.address == " as typed "  # no plugin answers for the channel: unchanged


def test_full_clean_reports_the_error_on_the_address_field(
    dsn_plugin: Any, user_factory: Any
) -> None:
    dsn_plugin(ChatAddresses(), name="chat")
    point = ContactPoint(user=user_factory("ann"), channel="chat", address="abc")
    with pytest.raises(ValidationError) as raised:
        point.full_clean()
    assert raised.value.message_dict == {"address": ["'abc' is not a chat id."]}


def test_admin_form_shows_the_refusal_and_saves_the_normal_form(
    dsn_plugin: Any, user_factory: Any, admin_client: Any
) -> None:
    dsn_plugin(ChatAddresses(), name="chat")
    ann = user_factory("ann")
    url = "/admin/dsn_core/contactpoint/add/"
    form = {"user": ann.pk, "channel": "chat", "address": "x1", "verified": "on"}
    page = admin_client.post(url, form)
    assert page.status_code == 200
    assert "&#x27;x1&#x27; is not a chat id." in page.content.decode()
    assert not ContactPoint.objects.exists()
    response = admin_client.post(url, {**form, "address": "55 66"})
    assert response.status_code == 302
    assert ContactPoint.objects.get().address == "5566"


def test_a_plugin_that_raises_is_ignored_not_fatal(
    dsn_plugin: Any, user_factory: Any, caplog: Any
) -> None:
    dsn_plugin(Broken(), name="broken")
    point = ContactPoint.objects.create(user=user_factory("ann"), channel="chat", address="7")
    assert point.address == "7"
    assert "DSN plugin broken raised in dsn_clean_address(channel='chat')" in caplog.text


class Detailed(OutboxMessenger):
    id = "detailed"

    def send(self, messages: Any) -> Any:
        return [
            Sent("m1", details={"segments": 2, "encoding": "GSM-7"}),
            Sent("m2", details={"odd": object, "nul": "a\x00b"}),
        ][: len(messages)]


class DetailedPlugin:
    @hookimpl
    def dsn_register_messengers(self, register: Any) -> None:
        register(Detailed)


def test_sent_details_are_stored_on_the_delivery(
    dsn_plugin: Any, subscribe: Any, user_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    dsn_plugin(DetailedPlugin(), name="detailed")
    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[user_factory("ann"), user_factory("bob")],
        messenger="detailed",
    )
    with django_capture_on_commit_callbacks(execute=True):
        TestModel1.objects.create(name="x")
    details = [d.provider_details for d in Delivery.objects.order_by("user__username")]
    assert details[0] == {"segments": 2, "encoding": "GSM-7"}
    assert details[1] == {"odd": repr(object), "nul": "ab"}
