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

    assert snapshot.load(snapshot.dump(value)) == {
        "when": "2026-11-22T03:00:00+00:00",
        "amount": "1.10",
        "tags": ["a"],
        "n": 3,
    }


def test_a_snapshot_is_truthy_and_reads_like_the_object(user_factory):
    order = snapshot.load(snapshot.dump(Order(customer=user_factory("bo"), status="new")))

    assert order  # even an unsaved object with no pk
    assert (order.status, order["status"], str(order)) == ("new", "new", "Order None")
    with pytest.raises(AttributeError):
        _ = order.nonexistent
