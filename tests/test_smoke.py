from __future__ import annotations

import pytest

from dsn_core.models import Trigger
from tests.testapp.models import TestModel1


@pytest.mark.django_db(transaction=True)
def test_seed_demo_pre_save_trigger_notifies_subscriber(user_factory, subscribe, dsn_outbox):
    admin = user_factory("admin")
    trigger = Trigger.save_by_model("pre_save", action_object=TestModel1)
    subscribe(trigger, users=[admin])

    TestModel1.objects.create(name="new_test_model2", extra_field="extra")

    assert [m.recipient.user for m in dsn_outbox] == [admin]
    assert "pre_save on new_test_model2" in dsn_outbox[0].message.text
