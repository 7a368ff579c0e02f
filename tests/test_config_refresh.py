"""An admin change reaches every process of the site within DSN["REFRESH_INTERVAL"]."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from dsn_core.matching import holder
from dsn_core.models import Backend, Subscription, Trigger
from tests.testapp.models import TestModel1

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 0.5


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_change_in_one_process_reaches_another_within_the_interval(user_factory):
    user = user_factory("watcher")
    env = {
        **os.environ,
        "DSN_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "DSN_TEST_REFRESH_INTERVAL": str(INTERVAL),
        "PYTHONPATH": str(ROOT),
    }
    with subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "refresh_child.py"), "20"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            ready = child.stdout.readline().strip()
            assert ready == "READY", child.stderr.read() if child.stderr else ready
            time.sleep(INTERVAL * 2)  # the child has checked the version: "no triggers"

            trigger = Trigger.save_by_model("post_save", action_object=TestModel1)
            backend = Backend.objects.create(
                messenger="dsn_test_outbox", message_template="event_summary"
            )
            subscription = Subscription.objects.create(trigger=trigger)
            subscription.backends.add(backend)
            subscription.receiver_users.add(user)
            changed_at = time.monotonic()

            line = child.stdout.readline().strip()
            elapsed = time.monotonic() - changed_at
        finally:
            child.kill()
            child.communicate(timeout=10)
    assert line.startswith("DELIVERED"), line
    assert "Hello watcher: post_save on child." in line
    # Bounded staleness: one interval, plus the child's 50 ms save loop and slack for a
    # loaded CI machine.
    assert elapsed < INTERVAL + 4.0, elapsed


@pytest.mark.django_db
def test_this_process_sees_its_own_change_without_waiting(settings, subscribe, user_factory):
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": 3600}
    TestModel1.objects.create(name="warm")  # loads the index: no triggers yet
    assert "post_save" not in holder.current().verbs

    subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1), users=[user_factory("u")]
    )

    assert "post_save" in holder.current().verbs


@pytest.mark.django_db
def test_the_index_holds_only_triggers_that_can_deliver(settings, subscribe, user_factory):
    settings.DSN = {**settings.DSN, "REFRESH_INTERVAL": 3600}
    lonely = Trigger.save_by_model("pre_save", action_object=TestModel1)
    subscription = subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1), users=[user_factory("u")]
    )
    index = holder.current()
    assert index.verbs == {"post_save"}
    assert lonely.pk not in [e.trigger_id for e in index.candidates("pre_save", None)]

    subscription.backends.clear()

    assert holder.current().verbs == frozenset()
