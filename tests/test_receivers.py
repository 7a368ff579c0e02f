"""DSN's receivers sit only where a trigger can match; the heartbeat keeps others fresh."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db.models.signals import post_save, pre_save

from dsn_core.heartbeat import heartbeat
from dsn_core.matching import holder
from dsn_core.models import Trigger
from tests.testapp.models import TestModel1, TestModel1Proxy, TestModel2

pytestmark = pytest.mark.django_db


@pytest.fixture
def watch_testmodel1(settings: Any, subscribe: Any, user_factory: Any) -> Any:
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": 3600}
    return subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1), users=[user_factory("u")]
    )


def settle() -> None:
    """Let the next signal run the armed heartbeat, so only DSN's model receivers remain."""
    TestModel2.objects.create(name="settle")
    assert not heartbeat._armed


def test_only_watched_models_have_a_dsn_receiver(watch_testmodel1):
    settle()

    assert post_save.has_listeners(TestModel1)
    assert post_save.has_listeners(TestModel1Proxy)  # a proxy of a watched model
    assert not post_save.has_listeners(TestModel2)
    assert not pre_save.has_listeners(TestModel1)  # no pre_save trigger


def test_a_proxy_of_a_watched_model_matches(
    watch_testmodel1, dsn_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        TestModel1Proxy.objects.create(name="by proxy")

    assert [m.message.text for m in dsn_outbox] == ["Hello u: post_save on by proxy."]


def test_disabling_the_trigger_disconnects_its_receivers(watch_testmodel1):
    trigger = watch_testmodel1.trigger
    trigger.enabled = False
    trigger.save()
    settle()

    assert not post_save.has_listeners(TestModel1)


def test_the_heartbeat_rearms_after_the_interval(settings, watch_testmodel1):
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": 0.2}
    holder.invalidate()
    settle()
    assert not post_save.has_listeners(TestModel2)

    time.sleep(0.5)  # the timer connects the heartbeat once the interval has passed

    assert post_save.has_listeners(TestModel2)
    checked_before = holder.next_check
    settle()  # one save of an unwatched model runs the version check
    assert holder.next_check > checked_before
    assert not post_save.has_listeners(TestModel2)
