"""Snapshots keep what templates read of an event after its objects are gone."""

from __future__ import annotations

import datetime
import decimal
import json

import pytest

from dsn_core import snapshot
from dsn_core.events import ClassForTemplates
from dsn_core.message_templates import BaseMessageTemplate
from tests.testapp.models import Order, TestModel1

pytestmark = pytest.mark.django_db


class Receipt(BaseMessageTemplate):
    template_string = (
        "{{ order }} ({{ order.get_status_display }}) for {{ order.customer }} "
        "<{{ order.customer.email }}>: {{ order.total }} at {{ order.get_absolute_url }}"
        "{% if model %}; model {{ model }}{% endif %}; note {{ note }}"
    )


def test_a_model_instance_renders_the_same_from_its_snapshot(user_factory):
    customer = user_factory("ann")
    order = Order.objects.create(customer_id=customer.pk, status="shipped", total="12.50")
    order = Order.objects.get(pk=order.pk)  # the customer is not loaded: the snapshot loads it
    kwargs = {"order": order, "model": ClassForTemplates(TestModel1), "note": object()}

    data = json.loads(json.dumps(snapshot.dump(kwargs)))  # survives a JSON column
    order.delete()
    customer.delete()
    text = Receipt().render(None, {}, snapshot.load(data))

    assert text.startswith(
        f"Order {data['order']['values']['pk']} (Shipped) for ann <ann@example.com>: 12.50 at "
        f"/orders/{data['order']['values']['pk']}/; model TestModel1; note <object object at"
    )


def test_scalars_dates_and_containers():
    moment = datetime.datetime(2026, 11, 22, 3, 0, tzinfo=datetime.UTC)
    value = {"when": moment, "amount": decimal.Decimal("1.10"), "tags": {"a"}, "n": 3}

    data = json.loads(json.dumps(snapshot.dump(value)))

    assert snapshot.load(data) == {"when": moment, "amount": "1.10", "tags": ["a"], "n": 3}


def test_dates_keep_their_type_for_template_filters():
    class Dated(BaseMessageTemplate):
        template_string = "{{ when|date:'Y-m-d' }} {{ day|date:'D' }}"

    kwargs = {"when": datetime.datetime(2026, 1, 2, 3, 4), "day": datetime.date(2026, 11, 22)}
    data = json.loads(json.dumps(snapshot.dump(kwargs)))

    assert Dated().render(None, {}, snapshot.load(data)) == "2026-01-02 Sun"


def test_sender_data_that_looks_like_a_snapshot_stays_data():
    fake = {"__dsn__": "model", "note": "from a request"}

    assert snapshot.load(json.loads(json.dumps(snapshot.dump({"form": fake})))) == {"form": fake}


def test_passwords_and_excluded_fields_never_reach_the_snapshot(settings, user_factory):
    settings.DSN = {**settings.DSN, "SNAPSHOT_EXCLUDE": ["email"]}
    user = user_factory("ann")
    order = Order.objects.create(customer=user)

    data = snapshot.dump({"user": user, "order": order})

    text = json.dumps(data)
    assert user.password not in text
    assert "ann@example.com" not in text
    assert data["order"]["values"]["customer"]["values"]["username"] == "ann"


def test_a_snapshot_is_truthy_and_reads_like_the_object(user_factory):
    order = snapshot.load(snapshot.dump(Order(customer=user_factory("bo"), status="new")))

    assert order  # even an unsaved object with no pk
    assert (order.status, order["status"], str(order)) == ("new", "new", "Order None")
    with pytest.raises(AttributeError):
        _ = order.nonexistent
